// How many malloc arenas glibc may create. glibc gives each thread that allocates while another
// holds an arena a new one, up to 8 per core; the controller runs about 60 threads (workers,
// informers, I/O, Events), and a restart over 10,000 Certificates spreads its allocations over
// as many arenas, each keeping freed memory for itself (bench/controller/README.md, "scale").
#pragma once

#include <optional>

namespace certsmith {

// What the certsmith binary allows unless MALLOC_ARENA_MAX says otherwise.
inline constexpr int kDefaultMallocArenas = 2;

// The arena limit to set for the MALLOC_ARENA_MAX value `env`: nullopt when it is set (glibc
// reads it itself, and a person who set it decides), else kDefaultMallocArenas.
std::optional<int> MallocArenasFor(const char* env);

// Applies MallocArenasFor(getenv("MALLOC_ARENA_MAX")) with mallopt(M_ARENA_MAX). Call once, in
// main(), before any thread starts. The limit applied, or nullopt when none was (MALLOC_ARENA_MAX
// set, or not glibc).
std::optional<int> LimitMallocArenas();

// Gives the pages of freed heap memory back to the kernel (glibc's malloc_trim(0)); true when
// some were. glibc returns only the free top of a heap by itself: memory freed in the middle
// (the transient parse of a start-up list of thousands of objects, between what the caches
// keep) stays resident. The controller calls it once its start-up work is done.
bool ReleaseFreeHeap();

}  // namespace certsmith
