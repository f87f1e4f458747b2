// Http01Server on cpprestsdk's http_listener (asio). The only place the listener is used for
// challenges; cpprest throws, so every call into it is wrapped here.
#include "certsmith/http01_server.h"

#include <cctype>

#include <arpa/inet.h>
#include <cpprest/http_listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "certsmith/base64.h"

namespace certsmith {

namespace {

namespace http = web::http;
using web::http::experimental::listener::http_listener;
using web::http::experimental::listener::http_listener_config;

constexpr std::string_view kChallengePrefix = "/.well-known/acme-challenge/";
constexpr int kBindAttempts = 5;

// Asks the kernel for a free TCP port on host by binding port 0 and closing. Another process
// may take it before the listener binds; Start retries.
Result<uint16_t> ProbeFreePort(const std::string& host) {
  bool v6 = host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status(ErrorCode::kUnavailable, "cannot create a socket to find a free port");
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    len = sizeof(*a);
    if (::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1) a->sin6_addr = in6addr_any;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    len = sizeof(*a);
    if (::inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) a->sin_addr.s_addr = INADDR_ANY;
  }
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ::close(fd);
  if (port == 0) return Status(ErrorCode::kUnavailable, "cannot find a free port on " + host);
  return port;
}

std::string ListenUri(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/";
}

}  // namespace

struct Http01Server::Listener {
  std::unique_ptr<http_listener> listener;
};

Http01Server::Http01Server() = default;

Http01Server::~Http01Server() { Stop(); }

Status Http01Server::Start(std::string_view host_view, uint16_t port) {
  std::string host(host_view.empty() ? "0.0.0.0" : host_view);
  Stop();
  std::string last_error;
  for (int attempt = 0; attempt < (port == 0 ? kBindAttempts : 1); ++attempt) {
    uint16_t try_port = port;
    if (try_port == 0) {
      ASSIGN_OR_RETURN(try_port, ProbeFreePort(host));
    }
    try {
      http_listener_config config;
      config.set_timeout(std::chrono::seconds(10));
      auto listener = std::make_unique<http_listener>(ListenUri(host, try_port), config);
      listener->support([this](http::http_request request) {
        std::optional<std::string> body;
        if (request.method() == http::methods::GET) {
          std::string host;
          if (request.headers().has("Host")) host = request.headers()["Host"];
          body = Lookup(request.relative_uri().path(), host);
        }
        if (body) CountServed();
        http::http_response response(body ? http::status_codes::OK : http::status_codes::NotFound);
        response.headers().set_content_type("text/plain");
        response.set_body(body.value_or("not found\n"), "text/plain");
        request.reply(response).then([](pplx::task<void> t) {
          try {
            t.get();
          } catch (...) {  // the validator went away: nothing to do
          }
        });
      });
      listener->open().wait();
      std::lock_guard<std::mutex> lock(mu_);
      listener_ = std::make_unique<Listener>(Listener{std::move(listener)});
      port_ = try_port;
      return Status::Ok();
    } catch (const std::exception& e) {
      last_error = e.what();
    }
  }
  return Status(ErrorCode::kUnavailable, "cannot listen for http-01 on " + host + ":" +
                                             std::to_string(port) + ": " + last_error);
}

uint16_t Http01Server::port() const {
  std::lock_guard<std::mutex> lock(mu_);
  return port_;
}

void Http01Server::Stop() {
  std::unique_ptr<Listener> listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    listener = std::move(listener_);
    port_ = 0;
  }
  if (!listener) return;
  try {
    listener->listener->close().wait();
  } catch (const std::exception&) {  // closing a listener whose socket already failed
  }
}

Status Http01Server::SetResponse(std::string_view token, std::string_view key_authorization,
                                 std::string_view domain) {
  if (!IsBase64UrlToken(token)) {
    return Status(ErrorCode::kInvalidArgument, "http-01 token is not base64url (RFC 8555 §8.3)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  responses_[std::string(token)] = Response{std::string(key_authorization), std::string(domain)};
  return Status::Ok();
}

void Http01Server::Remove(std::string_view token) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = responses_.find(token);
  if (it != responses_.end()) responses_.erase(it);
}

std::optional<std::string> Http01Server::Lookup(std::string_view path,
                                                std::string_view host_header) const {
  if (path.substr(0, kChallengePrefix.size()) != kChallengePrefix) return std::nullopt;
  std::string_view token = path.substr(kChallengePrefix.size());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = responses_.find(token);
  if (it == responses_.end()) return std::nullopt;
  if (!it->second.domain.empty() && !Http01HostMatches(host_header, it->second.domain)) {
    return std::nullopt;
  }
  return it->second.key_authorization;
}

namespace {
std::string_view StripOneTrailingDot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}
}  // namespace

bool Http01HostMatches(std::string_view host_header, std::string_view domain) {
  std::string_view host = host_header;
  if (!host.empty() && host.front() == '[') {  // [v6]:port
    size_t end = host.find(']');
    host = host.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
  } else if (size_t colon = host.rfind(':');
             colon != std::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);  // one colon: name:port
  }
  host = StripOneTrailingDot(host);
  domain = StripOneTrailingDot(domain);
  if (host.empty() || host.size() != domain.size()) return false;
  for (size_t i = 0; i < host.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(host[i])) !=
        std::tolower(static_cast<unsigned char>(domain[i]))) {
      return false;
    }
  }
  return true;
}

void Http01Server::CountServed() {
  std::lock_guard<std::mutex> lock(mu_);
  ++served_;
}

int Http01Server::served_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return served_;
}

}  // namespace certsmith
