#include "kube/informer.h"

#include <gtest/gtest.h>

#include <deque>
#include <utility>

#include "kube/testing/fake_client.h"

namespace certsmith::kube {
namespace {

using testing::FakeClient;

// A watch that replays fixed events, then ends normally or with an error.
class ScriptedWatch final : public Watch {
 public:
  ScriptedWatch(std::vector<WatchEvent> events, Status end)
      : events_(events.begin(), events.end()), end_(std::move(end)) {}
  Result<std::optional<WatchEvent>> Next() override {
    if (events_.empty()) {
      if (!end_.ok()) return end_;
      return std::optional<WatchEvent>();
    }
    WatchEvent e = events_.front();
    events_.pop_front();
    return std::optional<WatchEvent>(e);
  }
  void Cancel() override {}

 private:
  std::deque<WatchEvent> events_;
  Status end_;
};

// FakeClient for lists, scripted watches; records each watch's ListOptions.
class ScriptedClient final : public Client {
 public:
  struct Script {
    Status open_error;  // StartWatch fails with it when not OK
    std::vector<WatchEvent> events;
    Status end;
  };
  FakeClient fake;
  std::deque<Script> scripts;
  std::vector<ListOptions> watch_options;
  std::vector<ListOptions> list_options;  // each page asked
  Status list_error;                      // List fails with it (once) when not OK
  std::function<void()> on_exhausted;

  Result<Json> Get(const ResourceRef& r, std::string_view ns, std::string_view n) override {
    return fake.Get(r, ns, n);
  }
  Result<Json> List(const ResourceRef& r, std::string_view ns, const ListOptions& o) override {
    list_options.push_back(o);
    if (!list_error.ok()) return std::exchange(list_error, Status::Ok());
    return fake.List(r, ns, o);
  }
  Result<Json> Create(const ResourceRef& r, std::string_view ns, const Json& o) override {
    return fake.Create(r, ns, o);
  }
  Result<Json> Update(const ResourceRef& r, std::string_view ns, const Json& o) override {
    return fake.Update(r, ns, o);
  }
  Result<Json> UpdateStatus(const ResourceRef& r, std::string_view ns, const Json& o) override {
    return fake.UpdateStatus(r, ns, o);
  }
  Result<Json> Patch(const ResourceRef& r, std::string_view ns, std::string_view n, PatchType t,
                     const Json& p, bool s) override {
    return fake.Patch(r, ns, n, t, p, s);
  }
  Status Delete(const ResourceRef& r, std::string_view ns, std::string_view n,
                const DeleteOptions& o) override {
    return fake.Delete(r, ns, n, o);
  }
  Result<Json> PostPath(std::string_view p, const Json& b) override { return fake.PostPath(p, b); }
  Result<std::unique_ptr<Watch>> StartWatch(const ResourceRef&, std::string_view,
                                            const ListOptions& o) override {
    watch_options.push_back(o);
    if (scripts.empty()) {
      if (on_exhausted) on_exhausted();
      return MakeError(ErrorCode::kUnavailable, "script exhausted");
    }
    Script s = scripts.front();
    scripts.pop_front();
    if (!s.open_error.ok()) return s.open_error;
    return std::unique_ptr<Watch>(std::make_unique<ScriptedWatch>(s.events, s.end));
  }
};

Json Cm(const std::string& name, const std::string& rv, Json data = Json::object()) {
  return {{"metadata", {{"namespace", "ns"}, {"name", name}, {"resourceVersion", rv}}},
          {"data", data}};
}

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() : sleeper_(&clock_) {
    client_.fake.Add(kConfigMaps, Cm("a", ""));
    client_.fake.Add(kConfigMaps, Cm("b", ""));
  }
  InformerOptions Options() {
    InformerOptions o;
    o.resource = kConfigMaps;
    o.ns = "ns";
    o.clock = &clock_;
    o.sleeper = &sleeper_;
    o.page_size = 1;  // exercise pagination
    return o;
  }
  void Record(Informer& inf) {
    inf.AddHandlers({[this](const Json& o) { log_.push_back("add " + GetName(o)); },
                     [this](const Json&, const Json& o) { log_.push_back("update " + GetName(o)); },
                     [this](const Json& o) { log_.push_back("delete " + GetName(o)); }});
  }
  FakeClock clock_;
  FakeSleeper sleeper_;
  ScriptedClient client_;
  std::vector<std::string> log_;
};

TEST_F(InformerTest, ListFillsStoreAndSyncs) {
  Informer inf(client_, Options());
  Record(inf);
  EXPECT_FALSE(inf.HasSynced());
  ASSERT_TRUE(inf.ListOnce().ok());
  EXPECT_TRUE(inf.HasSynced());
  EXPECT_EQ(inf.store().Size(), 2u);
  EXPECT_EQ(log_, (std::vector<std::string>{"add a", "add b"}));
  EXPECT_EQ(inf.LastResourceVersion(), "2");
}

TEST_F(InformerTest, WatchStartsFromListRvAndAppliesEventsInOrder) {
  Informer inf(client_, Options());
  Record(inf);
  ASSERT_TRUE(inf.ListOnce().ok());
  client_.scripts.push_back({Status::Ok(),
                             {{"ADDED", Cm("c", "3")},
                              {"MODIFIED", Cm("a", "4", {{"k", "v"}})},
                              {"DELETED", Cm("b", "5")},
                              {"BOOKMARK", {{"metadata", {{"resourceVersion", "8"}}}}}},
                             Status::Ok()});
  ASSERT_TRUE(inf.WatchOnce().ok());
  ASSERT_EQ(client_.watch_options.size(), 1u);
  EXPECT_EQ(client_.watch_options[0].resource_version, "2");
  EXPECT_TRUE(client_.watch_options[0].allow_watch_bookmarks);
  EXPECT_EQ(log_, (std::vector<std::string>{"add a", "add b", "add c", "update a", "delete b"}));
  EXPECT_EQ(inf.store().Keys(), (std::vector<std::string>{"ns/a", "ns/c"}));
  EXPECT_EQ((*inf.store().Get("ns/a"))["data"]["k"], "v");
  EXPECT_EQ(inf.LastResourceVersion(), "8");  // from the bookmark
}

TEST_F(InformerTest, GoneErrorEventAsksForRelistWhichReconcilesDeletions) {
  Informer inf(client_, Options());
  Record(inf);
  ASSERT_TRUE(inf.ListOnce().ok());
  client_.scripts.push_back(
      {Status::Ok(),
       {{"ERROR", {{"kind", "Status"}, {"code", 410}, {"message", "too old"}}}},
       Status::Ok()});
  Status st = inf.WatchOnce();
  EXPECT_EQ(st.code(), ErrorCode::kGone);
  // Meanwhile on the server: b deleted, d created, a changed.
  ASSERT_TRUE(client_.fake.Delete(kConfigMaps, "ns", "b").ok());
  ASSERT_TRUE(client_.fake.Create(kConfigMaps, "ns", Cm("d", "")).ok());
  auto a = *client_.fake.Get(kConfigMaps, "ns", "a");
  a["data"]["x"] = "1";
  ASSERT_TRUE(client_.fake.Update(kConfigMaps, "ns", a).ok());
  log_.clear();
  ASSERT_TRUE(inf.ListOnce().ok());
  EXPECT_EQ(log_, (std::vector<std::string>{"delete b", "update a", "add d"}));
  EXPECT_EQ(inf.store().Keys(), (std::vector<std::string>{"ns/a", "ns/d"}));
}

// Found with watch_stream_fuzz (corpus: regression-error-code-not-a-number,
// regression-list-is-an-array): JSON of an unexpected type from whatever answers (an API server,
// a proxy) made nlohmann::json throw, and the exception ended the informer's thread and the
// controller. Now it is an error: the informer backs off and relists.
TEST_F(InformerTest, MalformedWatchEventsAreErrorsNotExceptions) {
  Informer inf(client_, Options());
  Record(inf);
  ASSERT_TRUE(inf.ListOnce().ok());
  client_.scripts.push_back(
      {Status::Ok(), {{"ERROR", {{"code", "410"}, {"message", 7}}}}, Status::Ok()});
  Status st;
  EXPECT_NO_THROW(st = inf.WatchOnce());
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);  // not a number: not taken as 410 Gone
  // An event whose object is not an object is skipped; the watch goes on.
  client_.scripts.push_back(
      {Status::Ok(), {{"ADDED", Json::array({1, 2})}, {"ADDED", Cm("c", "9")}}, Status::Ok()});
  EXPECT_NO_THROW(st = inf.WatchOnce());
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(inf.store().Keys(), (std::vector<std::string>{"ns/a", "ns/b", "ns/c"}));
}

// The first list is answered from the API server's watch cache (resourceVersion=0), its later
// pages by their continue token alone (the API server refuses both at once); a failed first list
// is asked of the cache again; a relist after 410 Gone reads from etcd ("").
TEST_F(InformerTest, FirstListFromTheWatchCacheLaterListsFromStorage) {
  Informer inf(client_, Options());  // 2 objects, pages of 1
  client_.list_error = MakeError(ErrorCode::kUnavailable, "refused");
  EXPECT_FALSE(inf.ListOnce().ok());
  ASSERT_TRUE(inf.ListOnce().ok());
  ASSERT_TRUE(inf.ListOnce().ok());
  std::vector<std::string> rvs, tokens;
  for (const ListOptions& o : client_.list_options) {
    rvs.push_back(o.resource_version);
    tokens.push_back(o.continue_token.empty() ? "" : "token");
  }
  EXPECT_EQ(rvs, (std::vector<std::string>{"0", "0", "", "", ""}));
  EXPECT_EQ(tokens, (std::vector<std::string>{"", "", "token", "", "token"}));

  InformerOptions consistent = Options();
  consistent.first_list_from_cache = false;
  Informer off(client_, consistent);
  client_.list_options.clear();
  ASSERT_TRUE(off.ListOnce().ok());
  ASSERT_FALSE(client_.list_options.empty());
  EXPECT_EQ(client_.list_options[0].resource_version, "");
}

TEST_F(InformerTest, RunResumesAfterDropRelistsOnGoneAndBacksOffOnErrors) {
  Informer inf(client_, Options());
  Record(inf);
  client_.scripts.push_back({Status::Ok(), {{"ADDED", Cm("c", "3")}}, Status::Ok()});  // closed
  client_.scripts.push_back(
      {Status::Ok(), {{"MODIFIED", Cm("c", "4")}}, MakeError(ErrorCode::kUnavailable, "reset")});
  client_.scripts.push_back({MakeError(ErrorCode::kGone, "too old"), {}, Status::Ok()});
  client_.scripts.push_back({MakeError(ErrorCode::kUnavailable, "refused"), {}, Status::Ok()});
  client_.on_exhausted = [&] { inf.Stop(); };
  inf.Run();  // returns once the script is exhausted
  ASSERT_EQ(client_.watch_options.size(), 5u);
  EXPECT_EQ(client_.watch_options[0].resource_version, "2");  // from the list
  EXPECT_EQ(client_.watch_options[1].resource_version, "3");  // resumed after a clean close
  EXPECT_EQ(client_.watch_options[2].resource_version, "4");  // resumed after a reset
  EXPECT_EQ(client_.watch_options[3].resource_version, "2");  // after relist on 410
  auto stats = inf.stats();
  EXPECT_EQ(stats.lists, 2);
  EXPECT_EQ(stats.relists_after_gone, 1);
  EXPECT_EQ(stats.errors, 2);
  // One backoff per error, each the first step (800 ms plus up to 50% jitter): the relist after
  // the 410 succeeded between the two errors and reset the count. Doubling across consecutive
  // failures: ConsecutiveWatchFailuresDoubleTheBackoff.
  auto sleeps = sleeper_.Sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  for (Duration s : sleeps) {
    EXPECT_GE(s, std::chrono::milliseconds(800));
    EXPECT_LE(s, std::chrono::milliseconds(1200));
  }
  // c was added by the watch, then removed by the relist (the fake server never had it).
  EXPECT_EQ(log_, (std::vector<std::string>{"add a", "add b", "add c", "update c", "delete c"}));
}

// Watch failures in a row back off base * 2^n (800 ms, 1.6 s, 3.2 s, each plus up to 50%
// jitter: the ranges do not overlap), whether the watch cannot open or breaks after events; a
// watch that ends cleanly resets the count, so the next failure waits the first step again.
TEST_F(InformerTest, ConsecutiveWatchFailuresDoubleTheBackoff) {
  Informer inf(client_, Options());
  const Status refused = MakeError(ErrorCode::kUnavailable, "refused");
  client_.scripts.push_back({refused, {}, Status::Ok()});
  client_.scripts.push_back(
      {Status::Ok(), {{"ADDED", Cm("c", "3")}}, MakeError(ErrorCode::kUnavailable, "reset")});
  client_.scripts.push_back({refused, {}, Status::Ok()});
  client_.scripts.push_back({Status::Ok(), {}, Status::Ok()});  // closed cleanly
  client_.scripts.push_back({refused, {}, Status::Ok()});
  client_.on_exhausted = [&] { inf.Stop(); };
  inf.Run();
  ASSERT_EQ(client_.watch_options.size(), 6u);
  EXPECT_EQ(inf.stats().lists, 1);  // errors other than 410 resume the watch, no relist
  using std::chrono::milliseconds;
  const std::vector<std::pair<milliseconds, milliseconds>> want = {
      {milliseconds(800), milliseconds(1200)},   // 1st failure in a row
      {milliseconds(1600), milliseconds(2400)},  // 2nd
      {milliseconds(3200), milliseconds(4800)},  // 3rd
      {milliseconds(800), milliseconds(1200)},   // 1st after the clean close
  };
  auto sleeps = sleeper_.Sleeps();
  ASSERT_EQ(sleeps.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_GE(sleeps[i], want[i].first) << "backoff " << i;
    EXPECT_LE(sleeps[i], want[i].second) << "backoff " << i;
  }
}

// The cap bounds the doubling: with a 2 s cap the third failure waits 2 s (plus jitter), not 3.2 s.
TEST_F(InformerTest, WatchBackoffIsCapped) {
  InformerOptions o = Options();
  o.backoff_cap = std::chrono::seconds(2);
  Informer inf(client_, o);
  for (int i = 0; i < 4; ++i) {
    client_.scripts.push_back({MakeError(ErrorCode::kUnavailable, "refused"), {}, Status::Ok()});
  }
  client_.on_exhausted = [&] { inf.Stop(); };
  inf.Run();
  auto sleeps = sleeper_.Sleeps();
  ASSERT_EQ(sleeps.size(), 4u);
  for (size_t i = 2; i < sleeps.size(); ++i) {
    EXPECT_GE(sleeps[i], std::chrono::seconds(2)) << "backoff " << i;
    EXPECT_LE(sleeps[i], std::chrono::seconds(3)) << "backoff " << i;
  }
}

TEST_F(InformerTest, TransformAppliedBeforeStoringAndHandlers) {
  client_.fake.Add(kConfigMaps, Json{{"metadata",
                                      {{"namespace", "ns"},
                                       {"name", "big"},
                                       {"managedFields", Json::array({{{"manager", "kubectl"}}})}}},
                                     {"data", {{"blob", std::string(1000, 'x')}}}});
  InformerOptions o = Options();
  o.transform = [](Json& obj) {
    StripManagedFields(obj);
    obj.erase("data");
  };
  Informer inf(client_, o);
  bool handler_saw_data = false;
  inf.AddHandlers(
      {[&](const Json& obj) { handler_saw_data |= obj.contains("data"); }, nullptr, nullptr});
  ASSERT_TRUE(inf.ListOnce().ok());
  auto big = inf.store().Get("ns/big");
  ASSERT_TRUE(big);
  EXPECT_FALSE(big->contains("data"));
  EXPECT_FALSE((*big)["metadata"].contains("managedFields"));
  EXPECT_FALSE(handler_saw_data);
}

TEST_F(InformerTest, LabelSelectorPassedToListAndWatch) {
  client_.fake.Add(
      kConfigMaps,
      Json{{"metadata",
            {{"namespace", "ns"}, {"name", "mine"}, {"labels", {{"owner", "certsmith"}}}}}});
  InformerOptions o = Options();
  o.label_selector = "owner=certsmith";
  Informer inf(client_, o);
  ASSERT_TRUE(inf.ListOnce().ok());
  EXPECT_EQ(inf.store().Keys(), (std::vector<std::string>{"ns/mine"}));
  client_.scripts.push_back({Status::Ok(), {}, Status::Ok()});
  ASSERT_TRUE(inf.WatchOnce().ok());
  EXPECT_EQ(client_.watch_options[0].label_selector, "owner=certsmith");
}

}  // namespace
}  // namespace certsmith::kube
