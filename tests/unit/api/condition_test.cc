#include "api/condition.h"

#include <gtest/gtest.h>

namespace certsmith::api {
namespace {

Condition Ready(ConditionStatus status, std::string reason, std::string message = "m") {
  Condition c;
  c.type = kConditionReady;
  c.status = status;
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.observed_generation = 1;
  return c;
}

TEST(SetConditionTest, NewConditionGetsTransitionTimeNow) {
  FakeClock clock;
  std::vector<Condition> conds;
  EXPECT_TRUE(SetCondition(&conds, Ready(ConditionStatus::kFalse, "Pending"), clock.Now()));
  ASSERT_EQ(conds.size(), 1u);
  EXPECT_EQ(conds[0].last_transition_time, clock.Now());
}

TEST(SetConditionTest, SameStatusKeepsTransitionTimeButUpdatesReason) {
  FakeClock clock;
  std::vector<Condition> conds;
  ASSERT_TRUE(SetCondition(&conds, Ready(ConditionStatus::kFalse, "Pending"), clock.Now()));
  auto first = clock.Now();
  clock.Advance(std::chrono::minutes(5));
  EXPECT_TRUE(SetCondition(&conds, Ready(ConditionStatus::kFalse, "Processing"), clock.Now()));
  EXPECT_EQ(conds[0].reason, "Processing");
  EXPECT_EQ(conds[0].last_transition_time, first);
}

TEST(SetConditionTest, StatusChangeMovesTransitionTime) {
  FakeClock clock;
  std::vector<Condition> conds;
  ASSERT_TRUE(SetCondition(&conds, Ready(ConditionStatus::kFalse, "Pending"), clock.Now()));
  clock.Advance(std::chrono::minutes(5));
  EXPECT_TRUE(SetCondition(&conds, Ready(ConditionStatus::kTrue, "Issued"), clock.Now()));
  EXPECT_EQ(conds[0].last_transition_time, clock.Now());
  EXPECT_EQ(conds.size(), 1u);
}

TEST(SetConditionTest, IdenticalConditionReportsNoChange) {
  FakeClock clock;
  std::vector<Condition> conds;
  ASSERT_TRUE(SetCondition(&conds, Ready(ConditionStatus::kTrue, "Issued"), clock.Now()));
  clock.Advance(std::chrono::hours(1));
  EXPECT_FALSE(SetCondition(&conds, Ready(ConditionStatus::kTrue, "Issued"), clock.Now()));
}

TEST(SetConditionTest, KeepsOtherTypes) {
  FakeClock clock;
  std::vector<Condition> conds;
  ASSERT_TRUE(SetCondition(&conds, Ready(ConditionStatus::kTrue, "Issued"), clock.Now()));
  Condition issuing;
  issuing.type = kConditionIssuing;
  issuing.status = ConditionStatus::kTrue;
  ASSERT_TRUE(SetCondition(&conds, issuing, clock.Now()));
  EXPECT_TRUE(IsConditionTrue(conds, kConditionReady));
  EXPECT_TRUE(IsConditionTrue(conds, kConditionIssuing));
  EXPECT_TRUE(RemoveCondition(&conds, kConditionIssuing));
  EXPECT_EQ(FindCondition(conds, kConditionIssuing), nullptr);
  EXPECT_FALSE(RemoveCondition(&conds, kConditionIssuing));
}

TEST(ConditionJsonTest, RoundTrips) {
  FakeClock clock;
  std::vector<Condition> conds;
  ASSERT_TRUE(
      SetCondition(&conds, Ready(ConditionStatus::kFalse, "Failed", "CA said no"), clock.Now()));
  Json j = ConditionsToJson(conds);
  EXPECT_EQ(j[0]["status"], "False");
  EXPECT_EQ(j[0]["lastTransitionTime"], "2023-11-14T22:13:20Z");
  FieldErrors errors;
  EXPECT_EQ(ConditionsFromJson(j, "status.conditions", &errors), conds);
  EXPECT_TRUE(errors.empty());
}

TEST(ConditionJsonTest, BadStatusHasPath) {
  FieldErrors errors;
  ConditionsFromJson(Json::parse(R"([{"type":"Ready","status":"yes"}])"), "status.conditions",
                     &errors);
  EXPECT_TRUE(errors.Has("status.conditions[0].status"));
}

}  // namespace
}  // namespace certsmith::api
