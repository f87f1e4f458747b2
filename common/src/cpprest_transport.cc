// HttpTransport backed by cpprestsdk (asio client). This is the only file in certsmith that
// includes cpprest's client headers: its maintainers call it maintenance-only, so everything
// else sees HttpTransport and it can be replaced here alone.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <pplx/threadpool.h>

#include "certsmith/http_threads.h"
#include "certsmith/http_transport.h"
#include "certsmith/trust_roots.h"

namespace certsmith {

namespace {

namespace http = web::http;
namespace client = web::http::client;

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Splits "https://host:port/path?q" into the origin and the rest.
bool SplitUrl(const std::string& url, std::string* origin, std::string* path_and_query) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  auto path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string::npos) {
    *origin = url;
    *path_and_query = "/";
  } else {
    *origin = url.substr(0, path_start);
    *path_and_query = url.substr(path_start);
  }
  return !origin->empty();
}

// Classifies a cpprest/asio failure so callers can tell a wrong CA bundle from a dead server.
Status TransportError(const std::string& origin, const std::exception& e) {
  std::string what = e.what();
  std::string lower = LowerAscii(what);
  ErrorCode code = ErrorCode::kUnavailable;
  std::string hint;
  if (lower.find("certificate") != std::string::npos || lower.find("handshake") != std::string::npos ||
      lower.find("ssl") != std::string::npos || lower.find("tls") != std::string::npos) {
    code = ErrorCode::kTls;
    hint = " (the server's certificate could not be verified; if it uses a private CA, give its "
           "CA bundle)";
  } else if (lower.find("timed out") != std::string::npos ||
             lower.find("timeout") != std::string::npos) {
    code = ErrorCode::kDeadlineExceeded;
  }
  if (const auto* he = dynamic_cast<const http::http_exception*>(&e)) {
    if (he->error_code() == std::errc::timed_out) code = ErrorCode::kDeadlineExceeded;
    if (he->error_code() == std::errc::operation_canceled) code = ErrorCode::kCancelled;
  }
  return Status(code, "cannot reach " + origin + ": " + what + hint);
}

HttpHeaders ConvertHeaders(const http::http_headers& in) {
  HttpHeaders out;
  out.reserve(in.size());
  for (const auto& [name, value] : in) out.emplace_back(LowerAscii(name), value);
  return out;
}

// The system's trust anchors (OpenSSL's default verify paths: SSL_CERT_FILE and SSL_CERT_DIR, or
// the compiled-in ones), parsed once for the whole process and only when first needed: OpenSSL 3
// takes 20-70 ms of CPU to parse Debian's ~145 roots. Never freed.
X509_STORE* SystemRoots() {
  static X509_STORE* const store = [] {
    X509_STORE* s = X509_STORE_new();
    if (s) X509_STORE_set_default_paths(s);
    ERR_clear_error();  // a missing default file or directory is not an error
    return s;
  }();
  return store;
}

// An X509_LOOKUP that finds issuers among a store of roots (its method data, or SystemRoots()
// when it has none), as OpenSSL's own directory lookup does: the certificates with that subject
// are added to the asking store and the first is returned. OpenSSL consults lookups only for an
// issuer its store does not already hold, so a chain that ends in a given CA bundle never makes
// the system roots parsed.
//
// The returned object *borrows* the asking store's reference, as OpenSSL's own lookups do:
// X509_STORE_CTX_get_by_subject takes a reference of its own for its caller and never drops one
// a lookup would have taken, so a counted reference here would keep the root alive for ever.
int LookUpRoot(X509_LOOKUP* lookup, X509_LOOKUP_TYPE type, const X509_NAME* name,
               X509_OBJECT* ret) {
  X509_STORE* store = X509_LOOKUP_get_store(lookup);
  if (type != X509_LU_X509 || store == nullptr) return 0;
  auto* roots = static_cast<X509_STORE*>(X509_LOOKUP_get_method_data(lookup));
  if (roots == nullptr) roots = SystemRoots();
  if (roots == nullptr) return 0;
  std::vector<X509*> found;
  X509_STORE_lock(roots);  // the index lookup sorts the stack
  STACK_OF(X509_OBJECT)* objs = X509_STORE_get0_objects(roots);
  int first = X509_OBJECT_idx_by_subject(objs, X509_LU_X509, name);
  for (int i = first; first >= 0 && i < sk_X509_OBJECT_num(objs); ++i) {
    X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
    if (cert == nullptr || X509_NAME_cmp(X509_get_subject_name(cert), name) != 0) break;
    X509_up_ref(cert);
    found.push_back(cert);
  }
  X509_STORE_unlock(roots);
  for (X509* cert : found) {
    X509_STORE_add_cert(store, cert);  // an equal certificate already there is kept instead
    X509_free(cert);
  }
  // The store's own object for the subject (the first added, or an equal one it held), whose
  // reference the store keeps for as long as the caller can use it.
  X509_STORE_lock(store);
  X509_OBJECT* held = found.empty() ? nullptr
                                    : X509_OBJECT_retrieve_by_subject(
                                          X509_STORE_get0_objects(store), X509_LU_X509, name);
  X509* cert = held ? X509_OBJECT_get0_X509(held) : nullptr;
  int ok = cert != nullptr && X509_OBJECT_set1_X509(ret, cert);
  if (ok) X509_free(cert);  // borrowed: see above
  X509_STORE_unlock(store);
  return ok;
}

X509_LOOKUP_METHOD* RootsLookup() {
  static X509_LOOKUP_METHOD* const method = [] {
    X509_LOOKUP_METHOD* m = X509_LOOKUP_meth_new("certsmith roots");
    if (m) X509_LOOKUP_meth_set_get_by_subject(m, LookUpRoot);
    return m;
  }();
  return method;
}

// A new store trusting what OpenSSL's default verify paths trust: the system roots, parsed once
// per process on first need and shared (reference-counted), and the system certificate directory.
X509_STORE* NewStoreWithSystemRoots() {
  X509_STORE* store = X509_STORE_new();
  if (!store) return nullptr;
  AddRootsLookup(store, nullptr);
  if (X509_LOOKUP* dir = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir())) {
    const char* path = std::getenv(X509_get_default_cert_dir_env());
    X509_LOOKUP_add_dir(dir, path ? path : X509_get_default_cert_dir(), X509_FILETYPE_PEM);
  }
  ERR_clear_error();
  return store;
}

// The trust anchors of one transport, built once and shared by all its connections (each
// connection has an SSL_CTX of its own, which cpprestsdk creates).
class TrustStore {
 public:
  explicit TrustStore(const TlsOptions& tls) : tls_(tls) {}
  ~TrustStore() { X509_STORE_free(store_); }
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  // Makes ctx use the shared store (built on first use) instead of the one it was given.
  void Install(SSL_CTX* ctx) {
    std::call_once(once_, [this] { store_ = Build(tls_); });
    if (store_) SSL_CTX_set1_cert_store(ctx, store_);  // takes its own reference
  }

 private:
  static X509_STORE* Build(const TlsOptions& tls) {
    // With ca_only the given roots alone are trusted; otherwise the system's and the given ones.
    X509_STORE* store = tls.ca_only && !tls.ca_pem.empty() ? X509_STORE_new()
                                                           : NewStoreWithSystemRoots();
    if (!store) return nullptr;
    if (!tls.ca_pem.empty()) {
      BIO* bio = BIO_new_mem_buf(tls.ca_pem.data(), static_cast<int>(tls.ca_pem.size()));
      while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, cert);  // a duplicate of a system root is not an error
        X509_free(cert);
      }
      BIO_free(bio);
    }
    ERR_clear_error();  // the end of the PEM input, duplicates: not for the next TLS call
    return store;
  }

  const TlsOptions tls_;
  std::once_flag once_;
  X509_STORE* store_ = nullptr;
};

class CpprestStream final : public HttpStream {
 public:
  CpprestStream(http::http_response response, pplx::cancellation_token_source cts,
                std::string origin)
      : response_(std::move(response)),
        body_(response_.body()),
        headers_(ConvertHeaders(response_.headers())),
        cts_(std::move(cts)),
        origin_(std::move(origin)) {}

  ~CpprestStream() override { Cancel(); }

  int status() const override { return response_.status_code(); }
  const HttpHeaders& headers() const override { return headers_; }

  Result<std::optional<std::string>> ReadLine() override {
    if (cancelled_) return Status(ErrorCode::kCancelled, "stream cancelled");
    try {
      concurrency::streams::container_buffer<std::string> line;
      size_t n = body_.read_line(line).get();
      if (n == 0 && body_.is_eof()) return std::optional<std::string>();
      std::string text = std::move(line.collection());
      if (!text.empty() && text.back() == '\r') text.pop_back();
      return std::optional<std::string>(std::move(text));
    } catch (const std::exception& e) {
      if (cancelled_) return Status(ErrorCode::kCancelled, "stream cancelled");
      return TransportError(origin_, e);
    }
  }

  Result<std::string> ReadAll() override {
    try {
      concurrency::streams::container_buffer<std::string> all;
      body_.read_to_end(all).get();
      return std::move(all.collection());
    } catch (const std::exception& e) {
      return TransportError(origin_, e);
    }
  }

  void Cancel() override {
    if (!cancelled_.exchange(true)) cts_.cancel();
  }

 private:
  http::http_response response_;
  concurrency::streams::istream body_;
  HttpHeaders headers_;
  pplx::cancellation_token_source cts_;
  std::string origin_;
  std::atomic<bool> cancelled_{false};
};

class CpprestTransport final : public HttpTransport {
 public:
  explicit CpprestTransport(TransportOptions options)
      : options_(std::move(options)),
        init_error_(CheckTlsOptions(options_.tls)),
        trust_(std::make_shared<TrustStore>(options_.tls)) {}

  Result<HttpResponse> Send(const HttpRequest& request) override {
    std::string origin;
    http::http_request req;
    RETURN_IF_ERROR(Prepare(request, &origin, &req));
    try {
      http::http_response resp = ClientFor(origin, request.timeout).request(req).get();
      HttpResponse out;
      out.status = resp.status_code();
      out.headers = ConvertHeaders(resp.headers());
      std::vector<unsigned char> body = resp.extract_vector().get();
      out.body.assign(body.begin(), body.end());
      return out;
    } catch (const std::exception& e) {
      return TransportError(origin, e);
    }
  }

  Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest& request) override {
    std::string origin;
    http::http_request req;
    RETURN_IF_ERROR(Prepare(request, &origin, &req));
    pplx::cancellation_token_source cts;
    try {
      http::http_response resp =
          ClientFor(origin, request.timeout).request(req, cts.get_token()).get();
      return std::unique_ptr<HttpStream>(
          std::make_unique<CpprestStream>(std::move(resp), std::move(cts), origin));
    } catch (const std::exception& e) {
      return TransportError(origin, e);
    }
  }

 private:
  // Bad PEM input is reported on the first request instead of being silently ignored by asio.
  static Status CheckTlsOptions(const TlsOptions& tls) {
    if (!tls.ca_pem.empty() && CountPemCertificates(tls.ca_pem) == 0) {
      return Status(ErrorCode::kInvalidArgument, "CA bundle holds no PEM certificate");
    }
    if (tls.client_cert_pem.empty() != tls.client_key_pem.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "a client certificate needs both the certificate and its private key");
    }
    if (!tls.client_cert_pem.empty() && CountPemCertificates(tls.client_cert_pem) == 0) {
      return Status(ErrorCode::kInvalidArgument, "client certificate is not a PEM certificate");
    }
    return Status::Ok();
  }

  static int CountPemCertificates(const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    int n = 0;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_free(cert);
      ++n;
    }
    BIO_free(bio);
    ERR_clear_error();
    return n;
  }

  Status Prepare(const HttpRequest& request, std::string* origin, http::http_request* req) {
    RETURN_IF_ERROR(init_error_);
    std::string path;
    if (!SplitUrl(request.url, origin, &path)) {
      return Status(ErrorCode::kInvalidArgument, "not an absolute URL: " + request.url);
    }
    req->set_method(request.method);
    req->set_request_uri(path);
    std::string content_type = "application/octet-stream";
    bool has_user_agent = false;
    for (const auto& [name, value] : request.headers) {
      std::string lower = LowerAscii(name);
      if (lower == "content-type") {
        content_type = value;
        continue;
      }
      if (lower == "user-agent") has_user_agent = true;
      req->headers().add(name, value);
    }
    if (!has_user_agent) req->headers().add("User-Agent", options_.user_agent);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      req->set_body(request.body, content_type);
    }
    return Status::Ok();
  }

  // One http_client per (origin, timeout): cpprest keeps a connection pool per client, so
  // reusing it saves a TLS handshake per request.
  client::http_client& ClientFor(const std::string& origin, std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_pair(origin, timeout.count());
    auto it = clients_.find(key);
    if (it != clients_.end()) return *it->second;
    client::http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    config.set_validate_certificates(!options_.tls.insecure_skip_verify);
    config.set_ssl_context_callback(
        [tls = options_.tls, trust = trust_](boost::asio::ssl::context& ctx) {
          ConfigureTls(tls, *trust, ctx);
        });
    auto c = std::make_unique<client::http_client>(origin, config);
    auto& ref = *c;
    clients_.emplace(key, std::move(c));
    return ref;
  }

  static void ConfigureTls(const TlsOptions& tls, TrustStore& trust,
                           boost::asio::ssl::context& ctx) {
    SSL_CTX* native = ctx.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    // Replaces the store cpprest's set_default_verify_paths gave this connection (see below).
    trust.Install(native);
    boost::system::error_code ec;
    if (!tls.client_cert_pem.empty()) {
      ctx.use_certificate_chain(boost::asio::buffer(tls.client_cert_pem), ec);
      ctx.use_private_key(boost::asio::buffer(tls.client_key_pem), boost::asio::ssl::context::pem,
                          ec);
    }
  }

  TransportOptions options_;
  Status init_error_;
  std::shared_ptr<TrustStore> trust_;
  std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<client::http_client>> clients_;
};

}  // namespace

bool AddRootsLookup(X509_STORE* store, X509_STORE* roots) {
  X509_LOOKUP_METHOD* method = RootsLookup();
  X509_LOOKUP* lookup = method ? X509_STORE_add_lookup(store, method) : nullptr;
  return lookup != nullptr && X509_LOOKUP_set_method_data(lookup, roots) == 1;
}

std::unique_ptr<HttpTransport> MakeCpprestTransport(const TransportOptions& options) {
  return std::make_unique<CpprestTransport>(options);
}

Result<size_t> HttpThreadsFromEnv(const char* env) {
  if (env == nullptr || *env == '\0') return kDefaultHttpThreads;
  size_t n = 0;
  const char* end = env + std::strlen(env);
  auto [ptr, ec] = std::from_chars(env, end, n);
  if (ec != std::errc() || ptr != end || n < 1 || n > kMaxHttpThreads) {
    return Status(ErrorCode::kInvalidArgument,
                  "CERTSMITH_HTTP_THREADS must be a whole number from 1 to " +
                      std::to_string(kMaxHttpThreads) + ", not \"" + std::string(env) + "\"");
  }
  return n;
}

bool InitHttpThreadPool(size_t threads) {
  try {
    crossplat::threadpool::initialize_with_threads(threads);
    return true;
  } catch (const std::exception&) {
    return false;  // already started
  }
}

}  // namespace certsmith

// cpprestsdk calls SSL_CTX_set_default_verify_paths for every new TLS connection (in
// asio_connection::upgrade_to_ssl, before our ssl_context_callback), which made OpenSSL parse the
// whole system bundle again each time: 20-70 ms of CPU per connection, most of `certsmith acme
// issue`'s CPU and seconds at the controller's start. This definition in the executable
// interposes on libssl's (the dynamic linker binds libcpprest's call to it) and gives the context
// the same trust from the roots parsed once per process: a store of its own, so whatever a caller
// adds to it afterwards stays its own. bench/README.md ("Idle footprint") has the figures.
extern "C" int SSL_CTX_set_default_verify_paths(SSL_CTX* ctx) {
  X509_STORE* store = certsmith::NewStoreWithSystemRoots();
  if (store == nullptr) return 0;
  SSL_CTX_set_cert_store(ctx, store);  // the context owns it
  return 1;
}
