// AcmeClient::EnsureAccount's rule, over the gMock's LookupAccount and NewAccount: an EAB pair is
// spent (the new-account request built and sent) only when the lookup says there is no account.
// The same rule through the Issuer reconciler: tests/unit/reconcilers/issuer_reconciler_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/acme/mock_acme_client.h"

namespace certsmith::acme {
namespace {

using ::testing::_;
using testing::MockAcmeClient;
using ::testing::Return;

class EnsureAccountTest : public ::testing::Test {
 protected:
  // The request source the callers pass: counts how often the EAB would have been read.
  std::function<Result<NewAccountRequest>()> Request() {
    return [this]() -> Result<NewAccountRequest> {
      ++requests_built_;
      return NewAccountRequest{.contact = {"mailto:ops@example.org"}};
    };
  }
  MockAcmeClient client_;
  int requests_built_ = 0;
};

Status NotFound() {
  Problem p;
  p.type = "urn:ietf:params:acme:error:accountDoesNotExist";
  return StatusFromProblem(p, 400);
}

TEST_F(EnsureAccountTest, ExistingAccountIsReturnedWithoutRegistering) {
  EXPECT_CALL(client_, LookupAccount()).WillOnce(Return(Account{.url = "https://ca/acct/1"}));
  EXPECT_CALL(client_, NewAccount(_)).Times(0);
  Result<Account> a = client_.EnsureAccount(Request());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->url, "https://ca/acct/1");
  EXPECT_FALSE(a->created);
  EXPECT_EQ(requests_built_, 0);
}

TEST_F(EnsureAccountTest, MissingAccountIsRegistered) {
  EXPECT_CALL(client_, LookupAccount()).WillOnce(Return(NotFound()));
  EXPECT_CALL(client_, NewAccount(_))
      .WillOnce(Return(Account{.url = "https://ca/acct/2", .created = true}));
  Result<Account> a = client_.EnsureAccount(Request());
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->created);
  EXPECT_EQ(requests_built_, 1);
}

TEST_F(EnsureAccountTest, OtherLookupErrorsDoNotSpendTheEab) {
  EXPECT_CALL(client_, LookupAccount())
      .WillOnce(Return(Status(ErrorCode::kUnavailable, "cannot reach ACME server")));
  EXPECT_CALL(client_, NewAccount(_)).Times(0);
  EXPECT_EQ(client_.EnsureAccount(Request()).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(requests_built_, 0);
}

TEST_F(EnsureAccountTest, ARequestThatCannotBeBuiltIsTheError) {
  EXPECT_CALL(client_, LookupAccount()).WillOnce(Return(NotFound()));
  EXPECT_CALL(client_, NewAccount(_)).Times(0);
  Result<Account> a = client_.EnsureAccount([]() -> Result<NewAccountRequest> {
    return MakeError(ErrorCode::kNotFound, "no EAB Secret");
  });
  EXPECT_EQ(a.status().message(), "no EAB Secret");
}

TEST_F(EnsureAccountTest, AFixedRequestIsSentOnlyForANewAccount) {
  EXPECT_CALL(client_, LookupAccount()).WillOnce(Return(NotFound()));
  EXPECT_CALL(client_, NewAccount(::testing::Field(&NewAccountRequest::contact,
                                                   std::vector<std::string>{"mailto:a@b.c"})))
      .WillOnce(Return(Account{.url = "https://ca/acct/3", .created = true}));
  EXPECT_TRUE(client_.EnsureAccount(NewAccountRequest{.contact = {"mailto:a@b.c"}}).ok());
}

}  // namespace
}  // namespace certsmith::acme
