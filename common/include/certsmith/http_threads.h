// The size of cpprestsdk's process-wide I/O thread pool (what the transports and the http-01
// listener run their sockets on).
#pragma once

#include <cstddef>

#include "certsmith/status.h"

namespace certsmith {

// cpprestsdk runs every transport's and listener's socket I/O on one process-wide pool, 40
// threads unless sized first. The I/O handlers never block (callers wait in their own threads),
// so a few threads serve many connections; each idle thread still costs its stack and a malloc
// arena. kDefaultHttpThreads is what the certsmith binary uses; CERTSMITH_HTTP_THREADS overrides.
inline constexpr size_t kDefaultHttpThreads = 4;
inline constexpr size_t kMaxHttpThreads = 256;

// The pool size for the CERTSMITH_HTTP_THREADS value `env` (null or empty: the default); an
// error for anything but a whole number in 1..kMaxHttpThreads.
Result<size_t> HttpThreadsFromEnv(const char* env);

// Sizes cpprestsdk's pool. Call once, in main(), before any transport or listener exists; false
// (and the pool keeps its size) when the pool was already started.
bool InitHttpThreadPool(size_t threads);

}  // namespace certsmith
