// `certsmith controller`: the operator (see reconcilers/README.md).
#pragma once

namespace certsmith {

int RunControllerCommand(int argc, char** argv);

}  // namespace certsmith
