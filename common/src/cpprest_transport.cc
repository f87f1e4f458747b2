// Placeholder until the cpprestsdk transport lands (being written now).
#include "certsmith/http_transport.h"

namespace certsmith {
std::unique_ptr<HttpTransport> MakeCpprestTransport(const TransportOptions&) { return nullptr; }
}  // namespace certsmith
