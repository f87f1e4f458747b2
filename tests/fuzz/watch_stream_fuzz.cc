// The Kubernetes list and watch stream as the API server (or anything claiming to be it) sends
// it: a list page, then one JSON watch event per line, through kube::RestClient and an Informer
// (decoding, the store, handlers). Input: list body NUL stream (lines split at '\n').
// Properties: no crash, no exception out of the informer (it runs on its own thread, where an
// exception ends the controller), and the store's keys name objects that are in it.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "certsmith/http_transport.h"
#include "fuzz_input.h"
#include "kube/informer.h"
#include "kube/rest_client.h"

using namespace certsmith;

namespace {

class LineStream final : public HttpStream {
 public:
  explicit LineStream(std::string_view body) {
    size_t start = 0;
    while (start <= body.size()) {
      size_t nl = body.find('\n', start);
      if (nl == std::string_view::npos) nl = body.size();
      lines_.emplace_back(body.substr(start, nl - start));
      start = nl + 1;
    }
  }
  int status() const override { return 200; }
  const HttpHeaders& headers() const override { return headers_; }
  Result<std::optional<std::string>> ReadLine() override {
    if (lines_.empty()) return std::optional<std::string>();
    std::string line = std::move(lines_.front());
    lines_.pop_front();
    return std::optional<std::string>(std::move(line));
  }
  Result<std::string> ReadAll() override { return std::string(); }
  void Cancel() override { lines_.clear(); }

 private:
  HttpHeaders headers_;
  std::deque<std::string> lines_;
};

// Answers the first list with the fuzz input's list body, later pages with an empty last page,
// and the watch with the input's stream.
class FuzzTransport final : public HttpTransport {
 public:
  FuzzTransport(std::string_view list, std::string_view stream) : list_(list), stream_(stream) {}
  Result<HttpResponse> Send(const HttpRequest&) override {
    HttpResponse r;
    r.status = 200;
    r.headers.emplace_back("content-type", "application/json");
    r.body = lists_++ == 0 ? list_ : R"({"kind":"List","items":[],"metadata":{}})";
    return r;
  }
  Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest&) override {
    return std::unique_ptr<HttpStream>(std::make_unique<LineStream>(stream_));
  }

 private:
  std::string list_;
  std::string stream_;
  int lists_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto fields = fuzz::SplitFields(std::string_view(reinterpret_cast<const char*>(data), size), 2);
  if (fields.size() < 2) fields.insert(fields.begin(), std::string_view("{}"));
  auto transport = std::make_shared<FuzzTransport>(fields[0], fields[1]);
  kube::RestConfig config;
  config.server = "https://127.0.0.1:6443";
  config.qps = 1e6;
  config.burst = 1000000;
  kube::RestClientOptions rest_options;
  rest_options.max_attempts = 1;
  kube::RestClient client(config, transport, rest_options);
  kube::InformerOptions options;
  options.resource = kube::kSecrets;
  options.transform = kube::StripManagedFields;
  kube::Informer informer(client, options);
  size_t seen = 0;
  informer.AddHandlers(
      {.on_add = [&](const kube::Json& o) { seen += o.size(); },
       .on_update = [&](const kube::Json&, const kube::Json& o) { seen += o.size(); },
       .on_delete = [&](const kube::Json& o) { seen += o.size(); }});
  try {
    // A failed list still lets the watch run, as Run() would relist and then watch.
    (void)informer.ListOnce();
    (void)informer.WatchOnce();
  } catch (const std::exception& e) {
    fuzz::Fail("watch_stream_fuzz", std::string("exception out of the informer: ") + e.what());
  }
  for (const std::string& key : informer.store().Keys()) {
    fuzz::Check(informer.store().Get(key) != nullptr, "watch_stream_fuzz",
                "store key without an object: " + key);
  }
  (void)seen;
  return 0;
}
