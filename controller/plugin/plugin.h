// `kubectl certsmith`: the certsmith binary installed (or linked) as `kubectl-certsmith` is a
// kubectl plugin (kubectl runs `kubectl-<name>` from PATH for `kubectl <name>`), so one binary
// and one image serve every role. See controller/plugin/README.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugin/session.h"

namespace certsmith::plugin {

// The file name kubectl looks for, and the name main() recognises in argv[0].
inline constexpr std::string_view kPluginBinaryName = "kubectl-certsmith";

// True when argv[0]'s file name (any directory) is kubectl-certsmith.
bool InvokedAsKubectlPlugin(std::string_view argv0);

// Runs `kubectl certsmith ARGS...` (args without the program name). Returns the exit code: 0
// done, 1 failed, 2 usage error, 3 `convert --strict` left something out.
int RunKubectlPlugin(const std::vector<std::string>& args, Io io, const Environment& env = {});

}  // namespace certsmith::plugin
