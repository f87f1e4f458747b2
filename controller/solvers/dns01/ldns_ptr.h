// Owning pointers for ldns objects (no raw owning pointers, STYLE.md). Internal.
#pragma once

#include <ldns/ldns.h>
#include <sys/socket.h>

#include <cstdlib>
#include <memory>

namespace certsmith::solvers::dns01::internal {

struct LdnsDeleter {
  void operator()(ldns_rdf* p) const { ldns_rdf_deep_free(p); }
  void operator()(ldns_rr* p) const { ldns_rr_free(p); }
  void operator()(ldns_rr_list* p) const { ldns_rr_list_deep_free(p); }
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
  void operator()(ldns_buffer* p) const { ldns_buffer_free(p); }
  void operator()(uint8_t* p) const { std::free(p); }
  void operator()(char* p) const { std::free(p); }
  void operator()(struct sockaddr_storage* p) const { std::free(p); }
};

using RdfPtr = std::unique_ptr<ldns_rdf, LdnsDeleter>;
using RrPtr = std::unique_ptr<ldns_rr, LdnsDeleter>;
using PktPtr = std::unique_ptr<ldns_pkt, LdnsDeleter>;
using BufferPtr = std::unique_ptr<ldns_buffer, LdnsDeleter>;
using BytesPtr = std::unique_ptr<uint8_t, LdnsDeleter>;
using CharsPtr = std::unique_ptr<char, LdnsDeleter>;

}  // namespace certsmith::solvers::dns01::internal
