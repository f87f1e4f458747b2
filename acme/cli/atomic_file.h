// Writing files so that a reader (or a crash) never sees half of one: write a temporary file in
// the same directory with the final mode, fsync, rename over the target.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith::cli {

// mode applies from the first byte (the temporary file is created with it), so a private key is
// never readable by others, even briefly.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode);
Result<std::string> ReadFile(const std::string& path);
bool FileExists(const std::string& path);
// mkdir -p with mode for the directories it creates.
Status MakeDirectories(const std::string& path, mode_t mode);

}  // namespace certsmith::cli
