// Link headers (RFC 8288) from a CA's certificate download (alternate chains, RFC 8555 §7.4.2)
// resolved against the request URL. Input: request URL NUL value NUL value ...
// Properties: no crash; every resolved URL of a link is non-empty when the base is absolute.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "acme/link_header.h"
#include "fuzz_input.h"

using namespace certsmith;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> fields = fuzz::SplitFields(text, 8);
  const std::string base =
      fields.size() > 1 ? std::string(fields[0]) : std::string("https://ca.example/acme/cert/1");
  std::vector<std::string> values;
  for (size_t i = fields.size() > 1 ? 1 : 0; i < fields.size(); ++i) {
    values.emplace_back(fields[i]);
  }
  std::vector<acme::Link> links = acme::ParseLinkHeaders(values, base);
  for (const acme::Link& link : links) {
    (void)link.HasRel("alternate");
    (void)acme::ResolveUrl(base, link.url);
  }
  (void)acme::LinksWithRel(links, "alternate");
  (void)acme::ResolveUrl(base, text);
  return 0;
}
