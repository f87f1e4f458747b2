// The one HTTP interface of certsmith. The ACME library and the Kubernetes client see only this;
// cpprestsdk lives behind it in cpprest_transport.cc, so it can be replaced in one place.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "certsmith/status.h"

namespace certsmith {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: https://host:port/path?query
  HttpHeaders headers;
  std::string body;
  std::chrono::milliseconds timeout{30'000};
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names lower-cased; repeated headers kept as separate entries
  std::string body;

  // First value of a header (name compared case-insensitively), if present.
  std::optional<std::string> Header(std::string_view name) const;
  // Every value of a header, in order (e.g. several Link headers).
  std::vector<std::string> Headers(std::string_view name) const;
};

// A response whose body is read incrementally (Kubernetes watch).
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  virtual int status() const = 0;
  virtual const HttpHeaders& headers() const = 0;
  // Reads the next line of the body (without the trailing '\n'). Returns std::nullopt at the
  // end of the body. Blocks until a line, the end, Cancel() or the idle timeout.
  virtual Result<std::optional<std::string>> ReadLine() = 0;
  // Reads the rest of the body (for error responses).
  virtual Result<std::string> ReadAll() = 0;
  // Makes a blocked ReadLine return kCancelled. Safe to call from another thread.
  virtual void Cancel() = 0;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // A transport-level failure (connection refused, TLS, timeout) is an error Status;
  // any HTTP response, including 4xx/5xx, is a successful Result.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
  // Opens a streaming request; the status and headers are available once this returns.
  virtual Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest& request) = 0;
};

struct TlsOptions {
  std::string ca_pem;           // extra trust anchors (PEM); empty = system store
  bool ca_only = false;         // trust only ca_pem, not the system store
  std::string client_cert_pem;  // mutual TLS (kubeconfig client certificates)
  std::string client_key_pem;
  bool insecure_skip_verify = false;
};

struct TransportOptions {
  TlsOptions tls;
  std::string user_agent = "certsmith";
  std::chrono::milliseconds connect_timeout{10'000};
};

// The production transport, backed by cpprestsdk.
std::unique_ptr<HttpTransport> MakeCpprestTransport(const TransportOptions& options);

}  // namespace certsmith
