// The malloc arena limit of the certsmith binary (certsmith/malloc_arenas.h).
#include "certsmith/malloc_arenas.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

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

// Resident pages of this process (/proc/self/statm's second field).
long ResidentPages() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident;
}

// 48 MiB in 64 KiB blocks (below glibc's mmap threshold), each followed by a small block that
// stays: once the large ones are freed, none of that memory is at the top of the heap, so glibc
// keeps it resident until ReleaseFreeHeap.
TEST(MallocArenas, ReleaseFreeHeapReturnsMemoryFreedInTheMiddle) {
  constexpr size_t kBlocks = 768;
  constexpr size_t kBlock = 64 * 1024;
  std::vector<char*> big, pinned;
  big.reserve(kBlocks);
  pinned.reserve(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) {
    big.push_back(static_cast<char*>(std::malloc(kBlock)));
    pinned.push_back(static_cast<char*>(std::malloc(32)));
    ASSERT_NE(big.back(), nullptr);
    ASSERT_NE(pinned.back(), nullptr);
    std::memset(big.back(), 1, kBlock);
  }
  for (char* p : big) std::free(p);
  const long page = sysconf(_SC_PAGESIZE);
  const long before = ResidentPages();
  EXPECT_TRUE(ReleaseFreeHeap());
  const long after = ResidentPages();
  for (char* p : pinned) std::free(p);
  // At least half of the 48 MiB freed goes back (not the partial pages at each block's ends).
  EXPECT_GE((before - after) * page, static_cast<long>(kBlocks * kBlock / 2))
      << "resident pages before " << before << ", after " << after;
}
#endif

}  // namespace
}  // namespace certsmith
