// A gMock of acme::AcmeClient for controller tests (reconcilers) that script the CA's answers
// call by call. For tests that want a whole behaving CA, wrap FakeAcmeServer in an acme::Client
// instead.
#pragma once

#include <gmock/gmock.h>

#include "acme/client.h"

namespace certsmith::acme::testing {

class MockAcmeClient : public AcmeClient {
 public:
  MOCK_METHOD(Result<Directory>, GetDirectory, (), (override));
  MOCK_METHOD(Result<std::string>, NewNonce, (), (override));
  MOCK_METHOD(Result<Account>, NewAccount, (const NewAccountRequest&), (override));
  MOCK_METHOD(Result<Account>, LookupAccount, (), (override));
  MOCK_METHOD(Result<Account>, GetAccount, (), (override));
  MOCK_METHOD(Result<Account>, UpdateAccount, (const std::vector<std::string>&), (override));
  MOCK_METHOD(Result<Account>, DeactivateAccount, (), (override));
  MOCK_METHOD(Status, KeyRollover, (std::shared_ptr<const Signer>), (override));
  MOCK_METHOD(Result<Order>, NewOrder, (const NewOrderRequest&), (override));
  MOCK_METHOD(Result<Order>, GetOrder, (const std::string&, int), (override));
  MOCK_METHOD(Result<Authorization>, GetAuthorization, (const std::string&, int), (override));
  MOCK_METHOD(Result<Authorization>, DeactivateAuthorization, (const std::string&), (override));
  MOCK_METHOD(Result<Challenge>, GetChallenge, (const std::string&), (override));
  MOCK_METHOD(Result<Challenge>, RespondToChallenge, (const std::string&), (override));
  MOCK_METHOD(Result<Order>, Finalize, (const Order&, std::string_view), (override));
  MOCK_METHOD(Result<CertificateChain>, DownloadCertificate, (const std::string&), (override));
  MOCK_METHOD(Result<CertificateChain>, DownloadPreferredChain,
              (const std::string&, std::string_view), (override));
  MOCK_METHOD(Status, RevokeCertificate, (std::string_view, std::optional<RevocationReason>),
              (override));
  MOCK_METHOD(Status, RevokeCertificateWithKey,
              (std::string_view, const Signer&, std::optional<RevocationReason>), (override));
  MOCK_METHOD(Result<RenewalInfo>, GetRenewalInfo, (std::string_view), (override));
  MOCK_METHOD(std::string, KeyAuthorization, (std::string_view), (const, override));
  MOCK_METHOD(std::string, account_url, (), (const, override));
  MOCK_METHOD(void, set_account_url, (std::string), (override));
};

}  // namespace certsmith::acme::testing
