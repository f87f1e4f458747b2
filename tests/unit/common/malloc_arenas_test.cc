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

// A sanitizer's allocator replaces glibc's malloc and has no arenas (ASan's mallopt refuses
// every setting), so the limit is checked on builds with glibc's own allocator only.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CERTSMITH_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CERTSMITH_SANITIZER_ALLOCATOR 1
#endif
#endif

#if defined(__GLIBC__) && !defined(CERTSMITH_SANITIZER_ALLOCATOR)
TEST(MallocArenas, AppliedOnGlibc) {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) GTEST_SKIP() << "MALLOC_ARENA_MAX is set";
  EXPECT_EQ(LimitMallocArenas().value_or(0), kDefaultMallocArenas);
}
#endif

}  // namespace
}  // namespace certsmith
