#include "cli/error_report.h"

#include <gtest/gtest.h>

#include "acme/problem.h"
#include "cli/exit_codes.h"

namespace certsmith::cli {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ErrorReportTest, CaProblemWithCertignaCodeAndEverySubproblem) {
  auto problem = acme::ParseProblem(R"({
    "type": "urn:ietf:params:acme:error:rejectedIdentifier",
    "detail": "Some identifiers are not allowed",
    "code": "DOMAIN_NOT_FOUND",
    "subproblems": [
      {"type": "urn:ietf:params:acme:error:rejectedIdentifier", "detail": "not in your account",
       "identifier": {"type": "dns", "value": "a.example"}},
      {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids",
       "identifier": {"type": "dns", "value": "b.example"}}]})");
  ASSERT_TRUE(problem.ok());
  Status status = acme::StatusFromProblem(*problem, 400);
  std::string text = DescribeError(status);
  EXPECT_TRUE(Contains(text, "CA problem: urn:ietf:params:acme:error:rejectedIdentifier")) << text;
  EXPECT_TRUE(Contains(text, "detail: Some identifiers are not allowed")) << text;
  EXPECT_TRUE(Contains(text, "code=DOMAIN_NOT_FOUND")) << text;
  EXPECT_TRUE(Contains(text,
                       "dns a.example: urn:ietf:params:acme:error:rejectedIdentifier: "
                       "not in your account"))
      << text;
  EXPECT_TRUE(Contains(text, "dns b.example: urn:ietf:params:acme:error:caa: CAA forbids")) << text;
  EXPECT_EQ(ExitCodeFor(status), kExitFailure);
}

TEST(ErrorReportTest, RateLimitShowsRetryAfter) {
  auto problem = acme::ParseProblem(
      R"({"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many orders"})");
  ASSERT_TRUE(problem.ok());
  Status status = acme::StatusFromProblem(*problem, 429, std::chrono::seconds(3600));
  std::string text = DescribeError(status);
  EXPECT_TRUE(Contains(text, "retry after: 3600 s")) << text;
  EXPECT_TRUE(Contains(text, "too many orders")) << text;
  EXPECT_EQ(ExitCodeFor(status), kExitRateLimited);
}

TEST(ErrorReportTest, TlsFailureNamesCaBundleFlag) {
  Status status(ErrorCode::kTls, "cannot reach https://ca: certificate verify failed");
  std::string text = DescribeError(status);
  EXPECT_TRUE(Contains(text, "--ca-bundle FILE")) << text;
  EXPECT_EQ(ExitCodeFor(status), kExitUnreachable);
}

TEST(ErrorReportTest, UnreachableAndEab) {
  Status down(ErrorCode::kUnavailable, "cannot reach https://ca: connection refused");
  EXPECT_TRUE(Contains(DescribeError(down), "check the --server URL"));
  EXPECT_EQ(ExitCodeFor(down), kExitUnreachable);
  Status eab(ErrorCode::kUnauthenticated,
             "the CA rejected the External Account Binding: check the key ID and HMAC key");
  EXPECT_TRUE(Contains(DescribeError(eab), "--eab-hmac-key-file"));
  EXPECT_EQ(ExitCodeFor(eab), kExitAuth);
  Status missing(ErrorCode::kInvalidArgument,
                 "the ACME server https://ca requires External Account Binding: give ...");
  EXPECT_TRUE(Contains(DescribeError(missing), "--eab-kid KID"));
  EXPECT_EQ(ExitCodeFor(missing), kExitUsage);
  EXPECT_EQ(ExitCodeFor(Status(ErrorCode::kDeadlineExceeded, "x")), kExitTimeout);
}

TEST(ErrorReportTest, ControlCharactersFromTheCaAreEscaped) {
  auto problem = acme::ParseProblem(
      "{\"type\": \"urn:ietf:params:acme:error:malformed\", \"detail\": \"bad\\u001b[31m\"}");
  ASSERT_TRUE(problem.ok());
  std::string text = DescribeError(acme::StatusFromProblem(*problem));
  EXPECT_FALSE(Contains(text, "\x1b")) << text;
}

}  // namespace
}  // namespace certsmith::cli
