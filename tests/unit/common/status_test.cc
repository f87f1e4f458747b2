#include "certsmith/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace certsmith {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CarriesCodeMessageAndDetails) {
  Status s(ErrorCode::kResourceExhausted, "rate limited");
  s.set_http_status(429).set_retry_after(std::chrono::seconds(30)).set_payload("{\"x\":1}");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "ResourceExhausted: rate limited");
  EXPECT_EQ(s.http_status(), 429);
  EXPECT_EQ(s.retry_after(), std::chrono::seconds(30));
  EXPECT_EQ(s.payload(), "{\"x\":1}");
}

TEST(StatusTest, WithContextPrefixesAndKeepsDetails) {
  Status s = Status(ErrorCode::kNotFound, "no such key").set_http_status(404);
  Status c = s.WithContext("reading account key");
  EXPECT_EQ(c.message(), "reading account key: no such key");
  EXPECT_EQ(c.code(), ErrorCode::kNotFound);
  EXPECT_EQ(c.http_status(), 404);
  EXPECT_EQ(s.message(), "no such key");
}

TEST(StatusTest, EveryCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    EXPECT_STRNE(ErrorCodeName(static_cast<ErrorCode>(c)), "Unknown") << c;
  }
}

TEST(ResultTest, HoldsValueOrError) {
  // A std::string value: GCC 12 at -O2 wrongly warns maybe-uninitialized on a
  // Result<int> built from a constant and destroyed in the same function.
  Result<std::string> v = std::string("seven");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "seven");
  EXPECT_EQ(v->size(), 5u);
  EXPECT_TRUE(v.status().ok());
  Result<std::string> e = Status(ErrorCode::kInvalidArgument, "bad");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "bad");
}

TEST(ResultTest, OkStatusBecomesInternalError) {
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
}

TEST(ResultTest, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 3);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(ResultTest, MacrosPropagateErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(5).ok());
}

}  // namespace
}  // namespace certsmith
