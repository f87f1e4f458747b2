// The malloc arena limit of the certsmith binary (certsmith/malloc_arenas.h).
#include "certsmith/malloc_arenas.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace certsmith {
namespace {

TEST(MallocArenas, LimitedUnlessMallocArenaMaxIsSet) {
  EXPECT_EQ(MallocArenasFor(nullptr).value_or(0), kDefaultMallocArenas);
  EXPECT_EQ(MallocArenasFor("").value_or(0), kDefaultMallocArenas);
  EXPECT_LE(kDefaultMallocArenas, 4);  // glibc's own is 8 per core
  EXPECT_FALSE(MallocArenasFor("8").has_value());  // glibc reads it itself
}

#if defined(__GLIBC__)
TEST(MallocArenas, AppliedOnGlibc) {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) GTEST_SKIP() << "MALLOC_ARENA_MAX is set";
  EXPECT_EQ(LimitMallocArenas().value_or(0), kDefaultMallocArenas);
}
#endif

}  // namespace
}  // namespace certsmith
