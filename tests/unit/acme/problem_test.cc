#include "acme/problem.h"

#include <gtest/gtest.h>

namespace certsmith::acme {
namespace {

constexpr char kRejected[] = R"({
  "type": "urn:ietf:params:acme:error:rejectedIdentifier",
  "detail": "Error creating new order :: Cannot issue for 2 identifiers",
  "status": 400,
  "instance": "https://ca.example/docs/rejected",
  "subproblems": [
    {"type": "urn:ietf:params:acme:error:caa",
     "detail": "CAA record forbids issuance",
     "identifier": {"type": "dns", "value": "A.Example."}},
    {"type": "urn:ietf:params:acme:error:rejectedIdentifier",
     "detail": "name is blocked",
     "identifier": {"type": "dns", "value": "b.example"}}
  ]
})";

TEST(ProblemTest, ParsesEveryStandardMember) {
  Result<Problem> p = ParseProblem(kRejected);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->type, "urn:ietf:params:acme:error:rejectedIdentifier");
  EXPECT_EQ(p->ShortType(), "rejectedIdentifier");
  EXPECT_TRUE(p->Is("rejectedIdentifier"));
  EXPECT_FALSE(p->Is("caa"));
  EXPECT_EQ(p->status, 400);
  EXPECT_EQ(p->instance, "https://ca.example/docs/rejected");
  ASSERT_EQ(p->subproblems.size(), 2u);
  ASSERT_TRUE(p->subproblems[0].identifier.has_value());
  // Identifiers from the CA are normalised where they enter.
  EXPECT_EQ(p->subproblems[0].identifier->value, "a.example");
  EXPECT_EQ(p->subproblems[0].type, "urn:ietf:params:acme:error:caa");
}

TEST(ProblemTest, SummaryNamesTypeDetailAndEverySubproblem) {
  Problem p = *ParseProblem(kRejected);
  EXPECT_EQ(p.Summary(),
            "urn:ietf:params:acme:error:rejectedIdentifier: Error creating new order :: Cannot "
            "issue for 2 identifiers (subproblems: dns a.example: urn:ietf:params:acme:error:caa: "
            "CAA record forbids issuance; dns b.example: "
            "urn:ietf:params:acme:error:rejectedIdentifier: name is blocked)");
}

TEST(ProblemTest, KeepsCertignaCodesFromExtraMembersAndDetail) {
  Problem p = *ParseProblem(R"({"type":"urn:ietf:params:acme:error:unauthorized",
      "detail":"OUT_OF_CREDIT: The is not enough credit","code":"OUT_OF_CREDIT",
      "errorId":42,"nested":{"ignored":true}})");
  EXPECT_EQ(p.ExtraFields(), (std::vector<std::string>{"code=OUT_OF_CREDIT", "errorId=42"}));
  EXPECT_EQ(p.Summary(),
            "urn:ietf:params:acme:error:unauthorized: OUT_OF_CREDIT: The is not enough credit "
            "[code=OUT_OF_CREDIT errorId=42]");
  // The raw document keeps everything, nested members included.
  EXPECT_TRUE(p.raw["nested"]["ignored"].get<bool>());
}

TEST(ProblemTest, SummaryIsSanitised) {
  Problem p = *ParseProblem(
      R"({"type":"urn:ietf:params:acme:error:malformed","detail":"bad\nline\u001b[31m"})");
  std::string s = p.Summary();
  EXPECT_EQ(s.find('\n'), std::string::npos);
  EXPECT_EQ(s.find('\x1b'), std::string::npos);
  EXPECT_NE(s.find("bad"), std::string::npos);
}

TEST(ProblemTest, MissingTypeIsAboutBlankAndTitleStandsInForDetail) {
  Problem p = *ParseProblem(R"({"title":"Service Unavailable","status":503})");
  EXPECT_EQ(p.type, "about:blank");
  EXPECT_EQ(p.Summary(), "about:blank: Service Unavailable");
}

TEST(ProblemTest, RejectsNonObjects) {
  EXPECT_FALSE(ParseProblem("[1,2]").ok());
  EXPECT_FALSE(ParseProblem("<html>").ok());
  EXPECT_EQ(ParseProblem("nope").status().code(), ErrorCode::kProtocol);
}

TEST(ProblemTest, LegacyNamespaceIsUnderstood) {
  Problem p = *ParseProblem(R"({"type":"urn:acme:error:badNonce","detail":"x"})");
  EXPECT_TRUE(p.Is("badNonce"));
  EXPECT_EQ(p.ShortType(), "badNonce");
}

Problem OfType(const std::string& short_type) {
  Problem p;
  p.type = "urn:ietf:params:acme:error:" + short_type;
  return p;
}

TEST(ProblemStatusTest, CodesFollowWhatTheCallerMustDo) {
  EXPECT_EQ(StatusFromProblem(OfType("rateLimited")).code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(StatusFromProblem(OfType("unauthorized")).code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(StatusFromProblem(OfType("externalAccountRequired")).code(),
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(StatusFromProblem(OfType("accountDoesNotExist")).code(), ErrorCode::kNotFound);
  EXPECT_EQ(StatusFromProblem(OfType("rejectedIdentifier")).code(), ErrorCode::kAcmeProblem);
  EXPECT_EQ(StatusFromProblem(OfType("serverInternal"), 503).code(), ErrorCode::kUnavailable);
}

TEST(ProblemStatusTest, RoundTripsThroughStatusPayload) {
  Problem p = *ParseProblem(kRejected);
  Status s = StatusFromProblem(p, 400, std::chrono::seconds(30));
  EXPECT_EQ(s.message(), p.Summary());
  EXPECT_EQ(s.http_status(), 400);
  EXPECT_EQ(s.retry_after(), std::chrono::seconds(30));
  std::optional<Problem> back = ProblemFromStatus(s);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->type, p.type);
  EXPECT_EQ(back->subproblems.size(), 2u);
  EXPECT_EQ(back->raw, p.raw);
}

TEST(ProblemStatusTest, ProblemBuiltInCodeRoundTripsItsTypeAndRetryability) {
  Problem p;
  p.type = "urn:ietf:params:acme:error:rejectedIdentifier";
  p.detail = "not allowed here";
  std::optional<Problem> back = ProblemFromStatus(StatusFromProblem(p, 400, std::nullopt));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->type, p.type);
  EXPECT_EQ(back->detail, p.detail);
  EXPECT_FALSE(IsRetryable(*back));
}

// Found by acme_resources_fuzz: a CA's problem with "type": "" (about:blank once parsed) came
// back from its Status as no problem at all, so the CA's words were lost on the way up.
TEST(ProblemStatusTest, AnEmptyTypeRoundTripsAsAboutBlank) {
  for (const char* doc : {R"({"type": "", "detail": "out of credit", "status": 500})",
                          R"({"type": 7, "detail": "out of credit"})"}) {
    SCOPED_TRACE(doc);
    Problem p = *ParseProblem(doc);
    EXPECT_EQ(p.type, "about:blank");
    std::optional<Problem> back = ProblemFromStatus(StatusFromProblem(p, 500, std::nullopt));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->type, "about:blank");
    EXPECT_EQ(back->detail, "out of credit");
  }
}

TEST(ProblemStatusTest, NoProblemInOtherStatuses) {
  EXPECT_FALSE(ProblemFromStatus(Status()).has_value());
  EXPECT_FALSE(ProblemFromStatus(Status(ErrorCode::kUnavailable, "refused")).has_value());
  Status kube(ErrorCode::kConflict, "conflict");
  kube.set_payload(R"({"kind":"Status","reason":"Conflict"})");
  EXPECT_FALSE(ProblemFromStatus(kube).has_value());
}

TEST(ProblemRetryTest, TransientTypesAreRetryable) {
  for (const char* t : {"badNonce", "rateLimited", "serverInternal", "connection", "dns", "tls",
                        "incorrectResponse", "orderNotReady"}) {
    EXPECT_TRUE(IsRetryable(OfType(t))) << t;
  }
}

TEST(ProblemRetryTest, TypesNeedingAPersonAreNot) {
  for (const char* t :
       {"malformed", "unauthorized", "rejectedIdentifier", "caa", "badCSR",
        "externalAccountRequired", "accountDoesNotExist", "unsupportedIdentifier",
        "userActionRequired", "badPublicKey", "badSignatureAlgorithm", "badRevocationReason",
        "alreadyRevoked", "invalidContact", "unsupportedContact"}) {
    EXPECT_FALSE(IsRetryable(OfType(t))) << t;
  }
}

TEST(ProblemRetryTest, CompoundIsRetryableOnlyWhenEverySubproblemIs) {
  Problem p = OfType("compound");
  EXPECT_FALSE(IsRetryable(p));
  p.subproblems = {{"urn:ietf:params:acme:error:dns", "timeout", std::nullopt},
                   {"urn:ietf:params:acme:error:connection", "refused", std::nullopt}};
  EXPECT_TRUE(IsRetryable(p));
  p.subproblems.push_back({"urn:ietf:params:acme:error:caa", "forbidden", std::nullopt});
  EXPECT_FALSE(IsRetryable(p));
}

TEST(ProblemRetryTest, NonAcmeTypesFallBackToHttpStatus) {
  Problem p;
  p.type = "about:blank";
  p.status = 503;
  EXPECT_TRUE(IsRetryable(p));
  p.status = 400;
  EXPECT_FALSE(IsRetryable(p));
}

}  // namespace
}  // namespace certsmith::acme
