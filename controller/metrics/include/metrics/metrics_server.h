// Serves /metrics (Registry::Default in the Prometheus text format), /healthz (the process is
// alive) and /readyz (the caches are synced) over plain HTTP/1.0 on one thread. Small on
// purpose: probes and scrapes are a few requests a minute.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "certsmith/status.h"

namespace certsmith::metrics {

class MetricsServer {
 public:
  // listen: "HOST:PORT" or ":PORT" (port 0 picks a free one).
  MetricsServer(std::string listen, std::function<bool()> ready);
  ~MetricsServer();
  Status Start();
  void Stop();
  int port() const { return port_; }

  // The response for a request path: {status, content type, body}.
  struct Response {
    int status;
    std::string content_type;
    std::string body;
  };
  Response Handle(const std::string& path) const;

 private:
  void Serve();
  std::string listen_;
  std::function<bool()> ready_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace certsmith::metrics
