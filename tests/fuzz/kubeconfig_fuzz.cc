// kubeconfig files (YAML): a user's ~/.kube/config or --kubeconfig. Properties: no crash and no
// exception out of the parser (yaml-cpp throws: the parser must turn that into a Status).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "kube/config.h"

using namespace certsmith;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = kube::ParseKubeconfig(text, "kubeconfig fuzz", "", "/nonexistent-fuzz-dir");
    if (config.ok()) (void)config->server.size();
    (void)kube::ParseKubeconfig(text, "kubeconfig fuzz", "other", "/nonexistent-fuzz-dir");
  } catch (const std::exception& e) {
    fuzz::Fail("kubeconfig_fuzz", std::string("exception out of ParseKubeconfig: ") + e.what());
  }
  return 0;
}
