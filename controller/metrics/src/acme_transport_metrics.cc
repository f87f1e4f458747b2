#include "metrics/acme_transport_metrics.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

namespace certsmith::metrics {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kAcmeErrorPrefix = "urn:ietf:params:acme:error:";
// The directory members that name endpoints (RFC 8555 §7.1.1, RFC 9773 renewalInfo).
constexpr const char* kDirectoryEndpoints[] = {"newNonce", "newAccount", "newOrder", "revokeCert",
                                               "keyChange"};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string PathOf(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

// The kind by the words CAs put in their paths (Boulder: /acme/order, /acme/finalize,
// /acme/authz-v3, /acme/chall-v3, /acme/cert; Pebble: /my-order, /finalize-order, /authZ, /chalZ,
// /certZ). "finalize" first: Pebble's finalize path also says "order".
std::string EndpointByPath(const std::string& url) {
  const std::string path = Lower(PathOf(url));
  for (const auto& [word, kind] : {std::pair{"finalize", "finalize"},
                                   {"authz", "authz"},
                                   {"chal", "challenge"},
                                   {"cert", "cert"},
                                   {"order", "order"},
                                   {"acct", "account"},
                                   {"account", "account"}}) {
    if (path.find(word) != std::string::npos) return kind;
  }
  return "other";
}

std::optional<Json> JsonBody(const HttpResponse& response) {
  if (response.body.empty() || response.body.front() != '{') return std::nullopt;
  Json j = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

}  // namespace

AcmeTransportMetrics::AcmeTransportMetrics(std::shared_ptr<HttpTransport> inner,
                                           std::string directory_url, ControllerMetrics& metrics,
                                           const Clock& clock)
    : inner_(std::move(inner)),
      directory_url_(std::move(directory_url)),
      host_(HostOf(directory_url_)),
      metrics_(metrics),
      clock_(clock) {}

std::string AcmeTransportMetrics::HostOf(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  return Lower(authority);
}

std::string AcmeTransportMetrics::ProblemLabel(const HttpResponse& response) {
  std::optional<Json> body = JsonBody(response);
  if (!body || !body->contains("type") || !(*body)["type"].is_string()) return "";
  const std::string type = (*body)["type"].get<std::string>();
  if (type.rfind(kAcmeErrorPrefix, 0) != 0) return "other";
  std::string short_type = type.substr(kAcmeErrorPrefix.size());
  const bool plain = !short_type.empty() && short_type.size() <= 64 &&
                     std::all_of(short_type.begin(), short_type.end(),
                                 [](unsigned char c) { return std::isalnum(c); });
  return plain ? short_type : "other";
}

std::string AcmeTransportMetrics::EndpointOf(const std::string& url) const {
  if (url == directory_url_) return "directory";
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = directory_.find(url); it != directory_.end()) return it->second;
  if (!renewal_info_prefix_.empty() && url.rfind(renewal_info_prefix_, 0) == 0) {
    return "renewalInfo";
  }
  if (auto it = learned_.find(url); it != learned_.end()) return it->second;
  return EndpointByPath(url);
}

void AcmeTransportMetrics::Remember(const std::string& url, const std::string& endpoint) {
  if (url.empty()) return;
  auto [it, inserted] = learned_.insert_or_assign(url, endpoint);
  if (!inserted) return;
  learned_order_.push_back(url);
  if (learned_order_.size() > kMaxLearnedUrls) {
    learned_.erase(learned_order_.front());
    learned_order_.pop_front();
  }
}

void AcmeTransportMetrics::Learn(const std::string& endpoint, const HttpResponse& response) {
  if (response.status >= 400) return;
  std::optional<Json> body = JsonBody(response);
  auto str = [](const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::lock_guard<std::mutex> lock(mu_);
  if (endpoint == "directory") {
    if (!body) return;
    for (const char* name : kDirectoryEndpoints) {
      if (std::string url = str(*body, name); !url.empty()) directory_[url] = name;
    }
    renewal_info_prefix_ = str(*body, "renewalInfo");
    return;
  }
  if (auto location = response.Header("location")) {
    if (endpoint == "newOrder") Remember(*location, "order");
    if (endpoint == "newAccount") Remember(*location, "account");
  }
  if (!body) return;
  if (auto authzs = body->find("authorizations"); authzs != body->end() && authzs->is_array()) {
    for (const Json& a : *authzs) {
      if (a.is_string()) Remember(a.get<std::string>(), "authz");
    }
  }
  Remember(str(*body, "finalize"), "finalize");
  Remember(str(*body, "certificate"), "cert");
  if (auto chs = body->find("challenges"); chs != body->end() && chs->is_array()) {
    for (const Json& c : *chs) {
      if (c.is_object()) Remember(str(c, "url"), "challenge");
    }
  }
}

Result<HttpResponse> AcmeTransportMetrics::Send(const HttpRequest& request) {
  const std::string endpoint = EndpointOf(request.url);
  const auto start = clock_.Now();
  Result<HttpResponse> response = inner_->Send(request);
  // The injected clock is a wall clock (tests move it); a step back must not make a negative time.
  const double seconds = std::max(0.0, std::chrono::duration<double>(clock_.Now() - start).count());
  if (!response.ok()) {
    metrics_.ObserveAcmeRequest(host_, endpoint, request.method, "error", seconds);
    return response;
  }
  metrics_.ObserveAcmeRequest(host_, endpoint, request.method, std::to_string(response->status),
                              seconds);
  if (response->status >= 400) {
    if (std::string problem = ProblemLabel(*response); !problem.empty()) {
      metrics_.CountAcmeProblem(host_, problem);
    }
  }
  Learn(endpoint, *response);
  return response;
}

}  // namespace certsmith::metrics
