#include "certsmith/malloc_arenas.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace certsmith {

std::optional<int> MallocArenasFor(const char* env) {
  if (env != nullptr && *env != '\0') return std::nullopt;
  return kDefaultMallocArenas;
}

std::optional<int> LimitMallocArenas() {
  std::optional<int> arenas = MallocArenasFor(std::getenv("MALLOC_ARENA_MAX"));
#if defined(__GLIBC__)
  if (arenas && mallopt(M_ARENA_MAX, *arenas) == 1) return arenas;
#endif
  return std::nullopt;
}

bool ReleaseFreeHeap() {
#if defined(__GLIBC__)
  return malloc_trim(0) == 1;
#else
  return false;
#endif
}

}  // namespace certsmith
