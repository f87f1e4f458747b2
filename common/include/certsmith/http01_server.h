// A tiny HTTP server for ACME http-01 challenges (RFC 8555 §8.3): it answers
// GET /.well-known/acme-challenge/<token> with the key authorization as text/plain, and 404 for
// everything else. Used by `certsmith acme issue --http01-listen` and by the solver Pod
// (`certsmith solver`). cpprestsdk's http_listener lives behind this class, in http01_server.cc.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith {

class Http01Server {
 public:
  Http01Server();
  ~Http01Server();  // stops the server
  Http01Server(const Http01Server&) = delete;
  Http01Server& operator=(const Http01Server&) = delete;

  // Listens on host:port ("127.0.0.1", "0.0.0.0", "::"). Port 0 picks a free port (cpprest
  // cannot report the port it bound, so a free one is probed first and bound; a race with
  // another process is retried a few times). kUnavailable when the address cannot be bound.
  Status Start(std::string_view host, uint16_t port);
  // The port actually listened on, 0 before Start.
  uint16_t port() const;
  // Stops listening; pending requests are answered or dropped. Safe to call twice.
  void Stop();

  // Serve key_authorization for token (replaces a previous value). Thread-safe; may be called
  // before or after Start. Tokens must be base64url (§8.3); others are rejected.
  // With a domain, only requests whose Host header names that domain (any port) get the answer:
  // a solver Pod answers for the name it was created for and nothing else.
  Status SetResponse(std::string_view token, std::string_view key_authorization,
                     std::string_view domain = {});
  void Remove(std::string_view token);
  // The response for a request path and Host header, if any: what a GET would return.
  std::optional<std::string> Lookup(std::string_view path, std::string_view host_header = {}) const;
  // How many challenge requests were answered with a key authorization (for tests and logs).
  int served_count() const;

 private:
  struct Listener;  // the cpprest listener, hidden from includers
  void CountServed();

  struct Response {
    std::string key_authorization;
    std::string domain;  // empty: any Host
  };
  mutable std::mutex mu_;
  std::map<std::string, Response, std::less<>> responses_;
  int served_ = 0;
  uint16_t port_ = 0;
  std::unique_ptr<Listener> listener_;
};

// True when a Host header ("name", "name:port", "[v6]:port") names domain, compared case-
// insensitively and ignoring one trailing dot.
bool Http01HostMatches(std::string_view host_header, std::string_view domain);

}  // namespace certsmith
