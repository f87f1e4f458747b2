// AcmeClient::EnsureAccount's rule, through the gMock (which also proves the mock compiles
// against the interface): an EAB pair is only spent when the lookup says there is no account.
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
  EnsureAccountTest() {
    ON_CALL(client_, EnsureAccount(_)).WillByDefault([this](const NewAccountRequest& r) {
      return client_.AcmeClient::EnsureAccount(r);
    });
  }
  MockAcmeClient client_;
};

Status NotFound() {
  Problem p;
  p.type = "urn:ietf:params:acme:error:accountDoesNotExist";
  return StatusFromProblem(p, 400);
}

TEST_F(EnsureAccountTest, ExistingAccountIsReturnedWithoutRegistering) {
  EXPECT_CALL(client_, LookupAccount()).WillOnce(Return(Account{.url = "https://ca/acct/1"}));
  EXPECT_CALL(client_, NewAccount(_)).Times(0);
  Result<Account> a = client_.EnsureAccount({});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->url, "https://ca/acct/1");
}

TEST_F(EnsureAccountTest, MissingAccountIsRegistered) {
  EXPECT_CALL(client_, LookupAccount()).WillOnce(Return(NotFound()));
  EXPECT_CALL(client_, NewAccount(_))
      .WillOnce(Return(Account{.url = "https://ca/acct/2", .created = true}));
  Result<Account> a = client_.EnsureAccount({});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->created);
}

TEST_F(EnsureAccountTest, OtherLookupErrorsDoNotSpendTheEab) {
  EXPECT_CALL(client_, LookupAccount())
      .WillOnce(Return(Status(ErrorCode::kUnavailable, "cannot reach ACME server")));
  EXPECT_CALL(client_, NewAccount(_)).Times(0);
  EXPECT_EQ(client_.EnsureAccount({}).status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace certsmith::acme
