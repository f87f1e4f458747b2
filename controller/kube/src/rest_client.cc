#include "kube/rest_client.h"

#include <random>

#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "kube/errors.h"

namespace certsmith::kube {
namespace {

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kMerge:
    default:
      return "application/merge-patch+json";
  }
}

double Random01() {
  thread_local std::mt19937 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool Retryable(int http) { return http == 429 || http >= 500; }

std::string NamespaceOf(const ResourceRef& res, std::string_view ns, const Json& obj) {
  if (!res.namespaced) return "";
  if (!ns.empty()) return std::string(ns);
  return GetNamespace(obj);
}

// Reads watch events from a streaming response: one JSON object per line.
class RestWatch final : public Watch {
 public:
  explicit RestWatch(std::unique_ptr<HttpStream> stream) : stream_(std::move(stream)) {}
  ~RestWatch() override { stream_->Cancel(); }

  Result<std::optional<WatchEvent>> Next() override {
    for (;;) {
      ASSIGN_OR_RETURN(std::optional<std::string> line, stream_->ReadLine());
      if (!line) return std::optional<WatchEvent>();
      if (line->find_first_not_of(" \r\t") == std::string::npos) continue;
      Json ev = Json::parse(*line, nullptr, false);
      if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string() ||
          !ev.contains("object"))
        return MakeError(ErrorCode::kProtocol,
                         "watch: not a watch event: " + log::Sanitize(*line, 120));
      return std::optional<WatchEvent>(
          WatchEvent{ev["type"].get<std::string>(), std::move(ev["object"])});
    }
  }
  void Cancel() override { stream_->Cancel(); }

 private:
  std::unique_ptr<HttpStream> stream_;
};

}  // namespace

std::string PercentEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

RestClient::RestClient(RestConfig config, std::shared_ptr<HttpTransport> transport,
                       RestClientOptions options)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      options_(std::move(options)),
      sleeper_(options_.sleeper ? options_.sleeper : &RealSleeper::Instance()),
      bucket_(config_.qps, config_.burst, options_.clock,
              AdaptiveRate{.max_qps = config_.max_qps, .min_qps = std::min(1.0, config_.qps)}) {}

Result<std::unique_ptr<RestClient>> RestClient::Make(RestConfig config,
                                                     RestClientOptions options) {
  TransportOptions topts;
  topts.tls = config.tls;
  topts.user_agent = options.user_agent;
  std::shared_ptr<HttpTransport> transport = MakeCpprestTransport(topts);
  if (!transport)
    return MakeError(ErrorCode::kInternal, "the cpprestsdk HTTP transport is not available");
  return std::make_unique<RestClient>(std::move(config), std::move(transport), std::move(options));
}

std::string RestClient::ResourcePath(const ResourceRef& res, std::string_view ns,
                                     std::string_view name, std::string_view subresource) {
  std::string path = res.group.empty() ? "/api/" + res.version
                                       : "/apis/" + res.group + "/" + res.version;
  if (res.namespaced && !ns.empty()) path += "/namespaces/" + PercentEncode(ns);
  path += "/" + res.resource;
  if (!name.empty()) path += "/" + PercentEncode(name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

std::string RestClient::ListQuery(const ListOptions& o, bool watch) {
  std::string q;
  auto add = [&](const char* k, const std::string& v) {
    q += q.empty() ? "?" : "&";
    q += k;
    q += "=";
    q += PercentEncode(v);
  };
  if (!o.label_selector.empty()) add("labelSelector", o.label_selector);
  if (!o.field_selector.empty()) add("fieldSelector", o.field_selector);
  if (!o.resource_version.empty()) add("resourceVersion", o.resource_version);
  if (!watch && o.limit > 0) add("limit", std::to_string(o.limit));
  if (!watch && !o.continue_token.empty()) add("continue", o.continue_token);
  if (watch) {
    add("watch", "true");
    if (o.allow_watch_bookmarks) add("allowWatchBookmarks", "true");
    if (o.timeout_seconds > 0) add("timeoutSeconds", std::to_string(o.timeout_seconds));
  }
  return q;
}

Result<HttpRequest> RestClient::BuildRequest(std::string method,
                                             const std::string& path_and_query) {
  HttpRequest req;
  req.method = std::move(method);
  req.url = config_.server + path_and_query;
  req.timeout = options_.request_timeout;
  req.headers.emplace_back("Accept", "application/json");
  req.headers.emplace_back("User-Agent", options_.user_agent);
  if (config_.token) {
    ASSIGN_OR_RETURN(std::string token, config_.token->Token());
    req.headers.emplace_back("Authorization", "Bearer " + token);
  } else if (!config_.username.empty()) {
    req.headers.emplace_back("Authorization",
                             "Basic " + Base64Encode(config_.username + ":" + config_.password));
  }
  return req;
}

void RestClient::Pushback(const Status& refused) {
  bucket_.Pushback(std::min<Duration>(refused.retry_after().value_or(std::chrono::seconds(1)),
                                      options_.max_retry_after));
}

Result<Json> RestClient::Call(std::string method, const std::string& path_and_query,
                              const Json* body, std::string content_type) {
  std::string what = method + " " + path_and_query;
  ASSIGN_OR_RETURN(HttpRequest req, BuildRequest(std::move(method), path_and_query));
  if (body) {
    req.body = body->dump();
    req.headers.emplace_back("Content-Type", content_type);
  }
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      Duration wait = Backoff(attempt - 1, options_.backoff_base, options_.backoff_cap, 0.2,
                              Random01());
      if (last.retry_after())
        wait = std::min<Duration>(*last.retry_after(), options_.max_retry_after);
      log::Debug("kube: retrying", {{"call", what}, {"error", last.ToString()}});
      sleeper_->Sleep(wait);
    }
    bucket_.Wait(*sleeper_);
    const auto sent = options_.clock->Now();
    Result<HttpResponse> resp = transport_->Send(req);
    if (!resp.ok() || resp->status >= 500 || options_.clock->Now() - sent > options_.slow_response)
      bucket_.Congested();
    if (!resp.ok()) {
      last = resp.status().WithContext(what);
      bool retry = req.method != "POST" && (last.code() == ErrorCode::kUnavailable ||
                                            last.code() == ErrorCode::kDeadlineExceeded);
      if (!retry) return last;
      continue;
    }
    if (resp->status >= 200 && resp->status < 300) {
      if (resp->body.empty()) return Json::object();
      Json parsed = Json::parse(resp->body, nullptr, false);
      if (parsed.is_discarded())
        return MakeError(ErrorCode::kProtocol, what + ": response is not JSON");
      return parsed;
    }
    last = StatusFromResponse(*resp, what);
    // API Priority and Fairness refuses with 429: the whole client pauses, not only this call.
    if (resp->status == 429) Pushback(last);
    if (!Retryable(resp->status)) return last;
  }
  return last;
}

Result<Json> RestClient::Get(const ResourceRef& res, std::string_view ns, std::string_view name) {
  return Call("GET", ResourcePath(res, ns, name), nullptr);
}

Result<Json> RestClient::List(const ResourceRef& res, std::string_view ns,
                              const ListOptions& options) {
  return Call("GET", ResourcePath(res, ns) + ListQuery(options, false), nullptr);
}

Result<Json> RestClient::Create(const ResourceRef& res, std::string_view ns, const Json& obj) {
  return Call("POST", ResourcePath(res, NamespaceOf(res, ns, obj)), &obj);
}

Result<Json> RestClient::Update(const ResourceRef& res, std::string_view ns, const Json& obj) {
  return Call("PUT", ResourcePath(res, NamespaceOf(res, ns, obj), GetName(obj)), &obj);
}

Result<Json> RestClient::UpdateStatus(const ResourceRef& res, std::string_view ns,
                                      const Json& obj) {
  return Call("PUT", ResourcePath(res, NamespaceOf(res, ns, obj), GetName(obj), "status"), &obj);
}

Result<Json> RestClient::Patch(const ResourceRef& res, std::string_view ns, std::string_view name,
                               PatchType type, const Json& patch, bool status_subresource) {
  return Call("PATCH", ResourcePath(res, ns, name, status_subresource ? "status" : ""), &patch,
              PatchContentType(type));
}

Status RestClient::Delete(const ResourceRef& res, std::string_view ns, std::string_view name,
                          const DeleteOptions& options) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (options.precondition_uid) body["preconditions"]["uid"] = *options.precondition_uid;
  if (options.precondition_resource_version)
    body["preconditions"]["resourceVersion"] = *options.precondition_resource_version;
  if (!options.propagation_policy.empty())
    body["propagationPolicy"] = options.propagation_policy;
  return Call("DELETE", ResourcePath(res, ns, name), &body).status();
}

Result<Json> RestClient::PostPath(std::string_view absolute_path, const Json& body) {
  if (absolute_path.empty() || absolute_path[0] != '/')
    return MakeError(ErrorCode::kInvalidArgument,
                     "PostPath: path must start with '/': " + std::string(absolute_path));
  return Call("POST", std::string(absolute_path), &body);
}

Result<std::unique_ptr<Watch>> RestClient::StartWatch(const ResourceRef& res, std::string_view ns,
                                                      const ListOptions& options) {
  std::string path = ResourcePath(res, ns) + ListQuery(options, true);
  ASSIGN_OR_RETURN(HttpRequest req, BuildRequest("GET", path));
  // The server ends the watch after timeoutSeconds; allow that plus slack before giving up.
  req.timeout = std::chrono::seconds(options.timeout_seconds > 0 ? options.timeout_seconds + 30
                                                                  : 3600);
  bucket_.Wait(*sleeper_);
  Result<std::unique_ptr<HttpStream>> stream = transport_->Stream(req);
  if (!stream.ok()) return stream.status().WithContext("GET " + path);
  if ((*stream)->status() != 200) {
    HttpResponse resp;
    resp.status = (*stream)->status();
    resp.headers = (*stream)->headers();
    auto rest = (*stream)->ReadAll();
    if (rest.ok()) resp.body = *rest;
    Status refused = StatusFromResponse(resp, "GET " + path);
    if (resp.status == 429) Pushback(refused);
    return refused;
  }
  return std::unique_ptr<Watch>(std::make_unique<RestWatch>(std::move(*stream)));
}

}  // namespace certsmith::kube
