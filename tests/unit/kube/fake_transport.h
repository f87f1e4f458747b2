// A scripted HttpTransport for kube unit tests: records requests and answers from a queue.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "certsmith/http_transport.h"

namespace certsmith::kube::testing {

inline HttpResponse Response(int status, std::string body, HttpHeaders headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// A stream that yields fixed lines, then ends (or fails with end_error).
class FakeStream final : public HttpStream {
 public:
  FakeStream(int status, std::vector<std::string> lines, Status end_error = Status::Ok())
      : status_(status), lines_(lines.begin(), lines.end()), end_error_(std::move(end_error)) {}
  int status() const override { return status_; }
  const HttpHeaders& headers() const override { return headers_; }
  Result<std::optional<std::string>> ReadLine() override {
    if (cancelled_) return MakeError(ErrorCode::kCancelled, "cancelled");
    if (lines_.empty()) {
      if (!end_error_.ok()) return end_error_;
      return std::optional<std::string>();
    }
    std::string l = lines_.front();
    lines_.pop_front();
    return std::optional<std::string>(l);
  }
  Result<std::string> ReadAll() override {
    std::string all;
    for (auto& l : lines_) all += l;
    lines_.clear();
    return all;
  }
  void Cancel() override { cancelled_ = true; }

 private:
  int status_;
  HttpHeaders headers_;
  std::deque<std::string> lines_;
  Status end_error_;
  bool cancelled_ = false;
};

class FakeTransport final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (responses_.empty()) return Response(200, "{}");
    Result<HttpResponse> r = responses_.front();
    responses_.pop_front();
    return r;
  }
  Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (streams_.empty()) return MakeError(ErrorCode::kUnavailable, "no stream scripted");
    auto s = std::move(streams_.front());
    streams_.pop_front();
    return s;
  }
  void Push(Result<HttpResponse> r) {
    std::lock_guard<std::mutex> lock(mu_);
    responses_.push_back(std::move(r));
  }
  void PushStream(std::unique_ptr<HttpStream> s) {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.push_back(std::move(s));
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  static std::string HeaderOf(const HttpRequest& r, const std::string& name) {
    for (auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

 private:
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;
  std::deque<Result<HttpResponse>> responses_;
  std::deque<std::unique_ptr<HttpStream>> streams_;
};

}  // namespace certsmith::kube::testing
