#include "kube/event_recorder.h"

#include <gtest/gtest.h>

#include <future>

#include "kube/testing/fake_client.h"

namespace certsmith::kube {
namespace {

using testing::FakeClient;

const Json kCert = {{"apiVersion", "certsmith.io/v1"},
                    {"kind", "Certificate"},
                    {"metadata", {{"name", "web"}, {"namespace", "team"}, {"uid", "u-1"}}}};

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() : client_(&clock_), recorder_(client_, Options()) {}
  EventRecorderOptions Options() {
    EventRecorderOptions o;
    o.component = "certsmith-controller";
    o.clock = &clock_;
    o.max_message_bytes = 32;
    return o;
  }
  FakeClock clock_;
  FakeClient client_;
  EventRecorder recorder_;
};

TEST_F(EventRecorderTest, CreatesEventWithAllFields) {
  ASSERT_TRUE(recorder_.Record(kCert, kEventNormal, "Issued", "certificate issued").ok());
  auto events = client_.All(kEvents);
  ASSERT_EQ(events.size(), 1u);
  const Json& ev = events[0];
  EXPECT_EQ(ev["metadata"]["namespace"], "team");
  EXPECT_EQ(ev["type"], "Normal");
  EXPECT_EQ(ev["reason"], "Issued");
  EXPECT_EQ(ev["message"], "certificate issued");
  EXPECT_EQ(ev["involvedObject"]["kind"], "Certificate");
  EXPECT_EQ(ev["involvedObject"]["uid"], "u-1");
  EXPECT_EQ(ev["involvedObject"]["apiVersion"], "certsmith.io/v1");
  EXPECT_EQ(ev["source"]["component"], "certsmith-controller");
  EXPECT_EQ(ev["count"], 1);
  EXPECT_EQ(ev["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(ev["firstTimestamp"], ev["lastTimestamp"]);
}

TEST_F(EventRecorderTest, TwoEventsAtTheSameInstantAreBothKept) {
  // The fake clock does not move: names built from the time alone would collide.
  ASSERT_TRUE(recorder_.Record(kCert, kEventNormal, "KeyGenerated", "key stored").ok());
  ASSERT_TRUE(recorder_.Record(kCert, kEventNormal, "OrderCreated", "order created").ok());
  EXPECT_EQ(client_.All(kEvents).size(), 2u);
}

TEST_F(EventRecorderTest, RepeatsAreAggregatedByPatchingCount) {
  ASSERT_TRUE(recorder_.Record(kCert, kEventWarning, "Failed", "CA said no").ok());
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(recorder_.Record(kCert, kEventWarning, "Failed", "CA said no").ok());
  ASSERT_TRUE(recorder_.Record(kCert, kEventWarning, "Failed", "CA said no").ok());
  ASSERT_TRUE(recorder_.Record(kCert, kEventWarning, "Failed", "other message").ok());
  auto events = client_.All(kEvents);
  ASSERT_EQ(events.size(), 2u);
  std::vector<std::string> verbs;
  for (const auto& a : client_.Actions()) verbs.push_back(a.verb);
  EXPECT_EQ(verbs, (std::vector<std::string>{"create", "patch", "patch", "create"}));
  const Json& agg = events[0]["message"] == "CA said no" ? events[0] : events[1];
  EXPECT_EQ(agg["count"], 3);
  EXPECT_EQ(agg["lastTimestamp"], "2023-11-14T22:13:50Z");
  EXPECT_EQ(agg["firstTimestamp"], "2023-11-14T22:13:20Z");
}

TEST_F(EventRecorderTest, DeletedEventIsRecreated) {
  ASSERT_TRUE(recorder_.Record(kCert, kEventNormal, "Issued", "ok").ok());
  auto first = client_.All(kEvents)[0];
  ASSERT_TRUE(client_.Delete(kEvents, "team", GetName(first)).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(recorder_.Record(kCert, kEventNormal, "Issued", "ok").ok());
  auto events = client_.All(kEvents);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 1);
}

TEST_F(EventRecorderTest, MessageIsCappedWithoutSplittingUtf8) {
  ASSERT_TRUE(recorder_.Record(kCert, kEventNormal, "Long", std::string(100, 'a')).ok());
  auto ev = client_.All(kEvents)[0];
  EXPECT_EQ(ev["message"].get<std::string>().size(), 32u);
  EXPECT_EQ(TruncateUtf8("ab\xc3\xa9\xc3\xa9xyz", 6), "ab...");
  EXPECT_EQ(TruncateUtf8("short", 10), "short");
}

TEST_F(EventRecorderTest, ApiErrorIsReturned) {
  client_.FailNext("create", "events", MakeError(ErrorCode::kPermissionDenied, "forbidden"));
  EXPECT_EQ(recorder_.Record(kCert, kEventNormal, "X", "y").code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(EventRecorderTest, AsyncRecordsAreWrittenInOrderAndAggregated) {
  EventRecorderOptions o = Options();
  o.async = true;
  EventRecorder async(client_, o);
  ASSERT_TRUE(async.Record(kCert, kEventWarning, "Failed", "CA said no").ok());
  ASSERT_TRUE(async.Record(kCert, kEventNormal, "Issued", "ok").ok());
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(async.Record(kCert, kEventWarning, "Failed", "CA said no").ok());
  async.Flush();
  std::vector<std::string> verbs;
  for (const auto& a : client_.Actions()) verbs.push_back(a.verb + " " + a.resource.resource);
  EXPECT_EQ(verbs, (std::vector<std::string>{"create events", "create events", "patch events"}));
  for (const Json& ev : client_.All(kEvents)) {
    if (ev["reason"] != "Failed") continue;
    EXPECT_EQ(ev["count"], 2);
    // The time of the Record call, not of the write.
    EXPECT_EQ(ev["lastTimestamp"], "2023-11-14T22:13:50Z");
  }
}

TEST_F(EventRecorderTest, AsyncRecordNeverWaitsForTheApiAndDropsPastTheLimit) {
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  bool first = true;
  client_.PrependReactor("create", "events", [&](const testing::Action&)
                             -> std::optional<testing::ReactorResult> {
    if (first) {
      first = false;
      entered.set_value();
      released.wait();  // the API server is slow (or the rate limit is spent)
    }
    return std::nullopt;
  });
  EventRecorderOptions o = Options();
  o.async = true;
  o.max_queued = 2;
  EventRecorder async(client_, o);
  ASSERT_TRUE(async.Record(kCert, kEventNormal, "A", "a").ok());
  entered.get_future().wait();  // the writer holds A in a create that does not return
  EXPECT_TRUE(async.Record(kCert, kEventNormal, "B", "b").ok());
  EXPECT_TRUE(async.Record(kCert, kEventNormal, "C", "c").ok());
  Status dropped = async.Record(kCert, kEventNormal, "D", "d");
  EXPECT_EQ(dropped.code(), ErrorCode::kResourceExhausted);
  release.set_value();
  async.Flush();
  std::vector<std::string> reasons;
  for (const auto& a : client_.Actions()) reasons.push_back(a.object.value("reason", ""));
  EXPECT_EQ(reasons, (std::vector<std::string>{"A", "B", "C"}));
}

}  // namespace
}  // namespace certsmith::kube
