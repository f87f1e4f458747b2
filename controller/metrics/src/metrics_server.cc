#include "metrics/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "metrics/registry.h"

namespace certsmith::metrics {

MetricsServer::MetricsServer(std::string listen, std::function<bool()> ready)
    : listen_(std::move(listen)), ready_(std::move(ready)) {}

MetricsServer::~MetricsServer() { Stop(); }

MetricsServer::Response MetricsServer::Handle(const std::string& path) const {
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", Registry::Default().Render()};
  }
  if (path == "/healthz" || path == "/livez") return {200, "text/plain", "ok\n"};
  if (path == "/readyz") {
    if (!ready_ || ready_()) return {200, "text/plain", "ok\n"};
    return {503, "text/plain", "caches not synced\n"};
  }
  return {404, "text/plain", "not found\n"};
}

Status MetricsServer::Start() {
  size_t colon = listen_.rfind(':');
  if (colon == std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "--metrics-listen must be HOST:PORT");
  }
  std::string host = listen_.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  int port = std::atoi(listen_.substr(colon + 1).c_str());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return MakeError(ErrorCode::kInvalidArgument, "metrics address is not IPv4: " + host);
  }
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd_, 16) != 0) {
    std::string err = std::strerror(errno);
    close(fd_);
    fd_ = -1;
    return MakeError(ErrorCode::kUnavailable, "listening on " + listen_ + ": " + err);
  }
  socklen_t len = sizeof(addr);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

void MetricsServer::Serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int c = accept(fd_, nullptr, nullptr);
    if (c < 0) continue;
    timeval tv{2, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[2048];
    ssize_t n = recv(c, buf, sizeof(buf) - 1, 0);
    std::string path = "/";
    if (n > 0) {
      buf[n] = '\0';
      std::string line(buf, strcspn(buf, "\r\n"));
      size_t a = line.find(' ');
      size_t b = line.find(' ', a + 1);
      if (a != std::string::npos) path = line.substr(a + 1, b - a - 1);
      if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    }
    Response r = Handle(path);
    std::string out = "HTTP/1.0 " + std::to_string(r.status) + (r.status == 200 ? " OK" : " Error") +
                      "\r\nContent-Type: " + r.content_type +
                      "\r\nContent-Length: " + std::to_string(r.body.size()) +
                      "\r\nConnection: close\r\n\r\n" + r.body;
    (void)!send(c, out.data(), out.size(), MSG_NOSIGNAL);
    close(c);
  }
}

void MetricsServer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace certsmith::metrics
