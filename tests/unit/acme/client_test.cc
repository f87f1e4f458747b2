// The ACME client against FakeAcmeServer: every verb, the nonce handling, problems, polling and
// chains. The fake verifies each JWS with OpenSSL, so a test passing means a strict CA would
// accept what the client sent.
#include "acme/client.h"

#include <gtest/gtest.h>

#include "acme/certificate.h"
#include "acme/csr.h"
#include "acme/jws.h"
#include "certsmith/base64.h"
#include "unit/acme/fake_acme_server.h"

namespace certsmith::acme {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::FakeAcmeOptions;
using testing::FakeAcmeServer;
using testing::InjectedProblem;
using testing::RecordedRequest;

constexpr char kHmacKey[] = "0123456789abcdef0123456789abcdef";  // raw bytes, test only

std::shared_ptr<KeySigner> NewSigner(KeyType type = KeyType::kEcdsaP256) {
  Result<PrivateKey> key = PrivateKey::Generate(type);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::make_shared<KeySigner>(*key);
}

json ProblemJson(const std::string& type, const std::string& detail) {
  return {{"type", "urn:ietf:params:acme:error:" + type}, {"detail", detail}};
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() { Build({}); }

  void Build(FakeAcmeOptions options) {
    server_ = std::make_shared<FakeAcmeServer>(clock_, std::move(options));
    key_ = NewSigner();
    client_ = NewClient(key_);
  }

  std::unique_ptr<Client> NewClient(std::shared_ptr<const Signer> key, ClientOptions options = {}) {
    options.directory_url = server_->directory_url();
    return std::make_unique<Client>(options, server_, clock_, std::move(key));
  }

  Account Register() {
    Result<Account> account = client_->NewAccount({.contact = {"admin@example.org"}});
    EXPECT_TRUE(account.ok()) << account.status().ToString();
    return account.ok() ? *account : Account{};
  }

  Order NewOrderFor(const std::vector<std::string>& names) {
    NewOrderRequest request;
    for (const auto& n : names) request.identifiers.push_back(*IdentifierFor(n));
    Result<Order> order = client_->NewOrder(request);
    EXPECT_TRUE(order.ok()) << order.status().ToString();
    return order.ok() ? *order : Order{};
  }

  // Responds to the http-01 (or dns-01 for wildcards) challenge of every pending authorization.
  void Authorize(const Order& order) {
    for (const std::string& url : order.authorizations) {
      Authorization authz = *client_->GetAuthorization(url, 0);
      if (authz.status != AuthorizationStatus::kPending) continue;
      const Challenge* ch = authz.FindChallenge(authz.wildcard ? "dns-01" : "http-01");
      ASSERT_NE(ch, nullptr);
      ASSERT_TRUE(client_->RespondToChallenge(ch->url).ok());
      ASSERT_TRUE(client_->GetAuthorization(url, 1).ok());
    }
  }

  std::string Csr(const PrivateKey& key, const std::vector<std::string>& names) {
    CsrRequest request;
    for (const auto& n : names) {
      (n.find_first_not_of("0123456789.:") == std::string::npos ? request.ip_addresses
                                                                : request.dns_names)
          .push_back(n);
    }
    Result<std::string> der = MakeCsrDer(key, request);
    EXPECT_TRUE(der.ok()) << der.status().ToString();
    return der.ok() ? *der : "";
  }

  // Account, order, challenges, finalize: returns the valid order.
  Order Issue(const std::vector<std::string>& names, const PrivateKey& cert_key) {
    Register();
    Order order = NewOrderFor(names);
    Authorize(order);
    Result<Order> finalized =
        client_->Finalize(*client_->GetOrder(order.url, 0), Csr(cert_key, names));
    EXPECT_TRUE(finalized.ok()) << finalized.status().ToString();
    return finalized.ok() ? *finalized : Order{};
  }

  std::vector<RecordedRequest> RequestsTo(const std::string& prefix) const {
    std::vector<RecordedRequest> out;
    for (const auto& r : server_->requests()) {
      if (r.path.rfind(prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }

  FakeClock clock_;
  std::shared_ptr<FakeAcmeServer> server_;
  std::shared_ptr<KeySigner> key_;
  std::unique_ptr<Client> client_;
};

// --- §7.1.1 directory ---

TEST_F(ClientTest, DirectoryIsParsedAndFetchedOnce) {
  Result<Directory> dir = client_->GetDirectory();
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(dir->url, server_->directory_url());
  EXPECT_EQ(dir->new_nonce, "https://acme.test/new-nonce");
  EXPECT_EQ(dir->new_account, "https://acme.test/new-account");
  EXPECT_EQ(dir->new_order, "https://acme.test/new-order");
  EXPECT_EQ(dir->revoke_cert, "https://acme.test/revoke-cert");
  EXPECT_EQ(dir->key_change, "https://acme.test/key-change");
  EXPECT_EQ(dir->renewal_info, "https://acme.test/renewal-info");
  EXPECT_EQ(dir->meta.terms_of_service, "https://acme.test/terms");
  EXPECT_EQ(dir->meta.caa_identities, std::vector<std::string>{"acme.test"});
  EXPECT_FALSE(dir->meta.external_account_required);
  ASSERT_TRUE(client_->GetDirectory().ok());
  EXPECT_EQ(server_->CountRequests("/directory"), 1);
  EXPECT_EQ(server_->requests()[0].method, "GET");
}

TEST_F(ClientTest, UnreachableServerNamesTheUrl) {
  server_->FailTransport(Status(ErrorCode::kUnavailable, "connection refused"));
  Result<Directory> dir = client_->GetDirectory();
  EXPECT_EQ(dir.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(dir.status().message(),
            "cannot reach ACME server https://acme.test/directory: connection refused");
}

TEST_F(ClientTest, TlsFailureHintsAtTheCaBundle) {
  server_->FailTransport(Status(ErrorCode::kTls, "certificate verify failed"));
  Result<Directory> dir = client_->GetDirectory();
  EXPECT_EQ(dir.status().code(), ErrorCode::kTls);
  EXPECT_NE(dir.status().message().find("certificate verify failed"), std::string::npos);
  EXPECT_NE(dir.status().message().find("if the CA uses a private root, pass --ca-bundle"),
            std::string::npos);
}

TEST_F(ClientTest, WrongDirectoryUrlIsExplained) {
  auto client = std::make_unique<Client>(ClientOptions{.directory_url = server_->url("/new-nonce")},
                                         server_, clock_, key_);
  Result<Directory> dir = client->GetDirectory();
  EXPECT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("https://acme.test/new-nonce"), std::string::npos)
      << dir.status().message();
}

// --- §7.2 nonces and the signed-POST helper ---

TEST_F(ClientTest, NewNonceUsesHead) {
  Result<std::string> nonce = client_->NewNonce();
  ASSERT_TRUE(nonce.ok());
  EXPECT_TRUE(IsBase64UrlToken(*nonce));
  auto nonce_requests = RequestsTo("/new-nonce");
  ASSERT_EQ(nonce_requests.size(), 1u);
  EXPECT_EQ(nonce_requests[0].method, "HEAD");
}

TEST_F(ClientTest, ReplayNoncesAreReusedSoOnlyTheFirstRequestFetchesOne) {
  Register();
  NewOrderFor({"a.example"});
  ASSERT_TRUE(client_->GetAccount().ok());
  EXPECT_EQ(server_->CountRequests("/new-nonce"), 1);
}

TEST_F(ClientTest, WithoutReplayNoncesEveryRequestFetchesOne) {
  server_->OmitReplayNonce(true);
  Register();
  NewOrderFor({"a.example"});
  EXPECT_EQ(server_->CountRequests("/new-nonce"), 2);
}

TEST_F(ClientTest, BadNonceIsRetriedWithTheNonceFromTheErrorResponse) {
  Register();
  server_->RejectNextNonces(5);
  Order order = NewOrderFor({"a.example"});
  EXPECT_EQ(order.status, OrderStatus::kPending);
  EXPECT_EQ(server_->CountRequests("/new-order"), 6);
  EXPECT_EQ(server_->CountRequests("/new-nonce"), 1);  // no extra round trips
}

TEST_F(ClientTest, BadNonceRetriesAreBoundedAndReturnTheCasError) {
  Register();
  server_->RejectNextNonces(6);
  Result<Order> order = client_->NewOrder({.identifiers = {DnsIdentifier("a.example")}});
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().code(), ErrorCode::kAcmeProblem);
  std::optional<Problem> problem = ProblemFromStatus(order.status());
  ASSERT_TRUE(problem.has_value());
  EXPECT_TRUE(problem->Is("badNonce"));
  EXPECT_NE(order.status().message().find("invalid anti-replay nonce"), std::string::npos);
  EXPECT_EQ(server_->CountRequests("/new-order"), 6);  // 1 + 5 retries
}

TEST_F(ClientTest, BadNonceBoundIsConfigurable) {
  client_ = NewClient(key_, {.max_bad_nonce_retries = 0});
  server_->RejectNextNonces(1);
  EXPECT_FALSE(client_->NewAccount({}).ok());
  EXPECT_EQ(server_->CountRequests("/new-account"), 1);
}

// --- JWS structure (§6.2, §6.3) ---

TEST_F(ClientTest, NewAccountIsSignedWithJwkAndLaterRequestsWithKid) {
  Account account = Register();
  NewOrderFor({"a.example"});
  auto new_account = RequestsTo("/new-account");
  ASSERT_EQ(new_account.size(), 1u);
  const json& h = new_account[0].protected_header;
  EXPECT_TRUE(new_account[0].signature_valid);
  EXPECT_EQ(h["alg"], "ES256");
  EXPECT_EQ(h["url"], "https://acme.test/new-account");
  EXPECT_TRUE(h.contains("nonce"));
  EXPECT_EQ(h["jwk"], key_->PublicJwk());
  EXPECT_FALSE(h.contains("kid"));

  auto new_order = RequestsTo("/new-order");
  ASSERT_EQ(new_order.size(), 1u);
  EXPECT_TRUE(new_order[0].signature_valid);
  EXPECT_EQ(new_order[0].protected_header["kid"], account.url);
  EXPECT_FALSE(new_order[0].protected_header.contains("jwk"));
}

TEST_F(ClientTest, FetchesArePostAsGetWithEmptyPayload) {
  Register();
  Order order = NewOrderFor({"a.example"});
  ASSERT_TRUE(client_->GetOrder(order.url, 0).ok());
  ASSERT_TRUE(client_->GetAuthorization(order.authorizations[0], 0).ok());
  for (const auto& r : server_->requests()) {
    if (r.path.rfind("/order/", 0) == 0 || r.path.rfind("/authz/", 0) == 0) {
      EXPECT_EQ(r.method, "POST");
      EXPECT_TRUE(r.signed_request);
      EXPECT_EQ(r.payload, "");
      EXPECT_TRUE(r.signature_valid);
    }
  }
  EXPECT_EQ(server_->bad_signatures(), 0);
}

TEST_F(ClientTest, RsaAccountKeysSignRs256) {
  key_ = NewSigner(KeyType::kRsa2048);
  client_ = NewClient(key_);
  Register();
  NewOrderFor({"a.example"});
  EXPECT_EQ(RequestsTo("/new-order")[0].protected_header["alg"], "RS256");
  EXPECT_EQ(server_->bad_signatures(), 0);
}

TEST_F(ClientTest, KidRequestsBeforeAnAccountFailClearly) {
  Result<Order> order = client_->NewOrder({.identifiers = {DnsIdentifier("a.example")}});
  EXPECT_EQ(order.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(server_->CountRequests("/new-order"), 0);
}

// --- §7.3 accounts ---

TEST_F(ClientTest, NewAccountRegistersAndRemembersTheUrl) {
  Account account = Register();
  EXPECT_TRUE(account.created);
  EXPECT_EQ(account.status, AccountStatus::kValid);
  EXPECT_EQ(account.url.rfind("https://acme.test/acct/", 0), 0u);
  EXPECT_EQ(client_->account_url(), account.url);
  // Plain addresses become mailto: URLs (§7.3).
  EXPECT_EQ(account.contact, std::vector<std::string>{"mailto:admin@example.org"});
  json payload = json::parse(RequestsTo("/new-account")[0].payload);
  EXPECT_TRUE(payload["termsOfServiceAgreed"].get<bool>());
}

TEST_F(ClientTest, NewAccountWithAKnownKeyReturnsTheExistingAccount) {
  Account first = Register();
  Result<Account> again = client_->NewAccount({});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->url, first.url);
  EXPECT_EQ(server_->account_count(), 1u);
}

TEST_F(ClientTest, LookupNeverCreates) {
  Result<Account> none = client_->LookupAccount();
  EXPECT_EQ(none.status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(ProblemFromStatus(none.status()).has_value());
  EXPECT_TRUE(ProblemFromStatus(none.status())->Is("accountDoesNotExist"));
  EXPECT_EQ(server_->account_count(), 0u);
  EXPECT_EQ(json::parse(RequestsTo("/new-account")[0].payload),
            json({{"onlyReturnExisting", true}}));

  Account created = Register();
  auto other = NewClient(key_);
  Result<Account> found = other->LookupAccount();
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->url, created.url);
  EXPECT_EQ(other->account_url(), created.url);
}

TEST_F(ClientTest, UpdateGetAndDeactivateAccount) {
  Account account = Register();
  Result<Account> updated = client_->UpdateAccount({"mailto:new@example.org", "ops@example.org"});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(server_->AccountContact(account.url),
            (std::vector<std::string>{"mailto:new@example.org", "mailto:ops@example.org"}));
  Result<Account> fetched = client_->GetAccount();
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched->url, account.url);
  EXPECT_EQ(fetched->contact.size(), 2u);

  Result<Account> gone = client_->DeactivateAccount();
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, AccountStatus::kDeactivated);
  Result<Order> order = client_->NewOrder({.identifiers = {DnsIdentifier("a.example")}});
  EXPECT_EQ(order.status().code(), ErrorCode::kUnauthenticated);
}

TEST_F(ClientTest, KeyRolloverSwitchesTheAccountKey) {
  Account account = Register();
  auto new_key = NewSigner(KeyType::kEcdsaP384);
  ASSERT_TRUE(client_->KeyRollover(new_key).ok());
  auto change = RequestsTo("/key-change");
  ASSERT_EQ(change.size(), 1u);
  EXPECT_EQ(change[0].protected_header["kid"], account.url);  // outer: old key, kid
  json inner = json::parse(change[0].payload);
  json inner_header = json::parse(*Base64DecodeLenient(inner["protected"].get<std::string>()));
  EXPECT_EQ(inner_header["jwk"], new_key->PublicJwk());
  EXPECT_FALSE(inner_header.contains("nonce"));

  // The account now answers to the new key only.
  NewOrderFor({"a.example"});
  EXPECT_EQ(RequestsTo("/new-order")[0].protected_header["alg"], "ES384");
  EXPECT_EQ(server_->bad_signatures(), 0);
  EXPECT_EQ(NewClient(key_)->LookupAccount().status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(NewClient(new_key)->LookupAccount()->url, account.url);
}

// --- §7.3.4 External Account Binding ---

class EabTest : public ClientTest {
 protected:
  EabTest() { Build({.external_account_required = true, .eab_keys = {{"kid-1", kHmacKey}}}); }
  ExternalAccountBinding Eab(std::string hmac = kHmacKey,
                             HmacAlgorithm alg = HmacAlgorithm::kHS256) {
    return {.key_id = "kid-1", .hmac_key = std::move(hmac), .algorithm = alg};
  }
};

TEST_F(EabTest, MissingEabIsRefusedBeforeAnySignedRequest) {
  Result<Account> account = client_->NewAccount({.contact = {"a@example.org"}});
  EXPECT_EQ(account.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(account.status().message().find("requires External Account Binding"),
            std::string::npos);
  EXPECT_EQ(server_->CountRequests("/new-account"), 0);
}

TEST_F(EabTest, BindsTheAccountToTheKeyId) {
  for (HmacAlgorithm alg : {HmacAlgorithm::kHS256, HmacAlgorithm::kHS384, HmacAlgorithm::kHS512}) {
    Build({.external_account_required = true, .eab_keys = {{"kid-1", kHmacKey}}});
    Result<Account> account = client_->NewAccount({.eab = Eab(kHmacKey, alg)});
    ASSERT_TRUE(account.ok()) << HmacAlgorithmName(alg) << ": " << account.status().ToString();
    EXPECT_EQ(server_->AccountEabKid(account->url), "kid-1");
    auto eab = json::parse(RequestsTo("/new-account")[0].payload)["externalAccountBinding"];
    auto header = json::parse(*Base64DecodeLenient(eab["protected"].get<std::string>()));
    EXPECT_EQ(header["alg"], HmacAlgorithmName(alg));
  }
}

TEST_F(EabTest, WrongHmacKeyIsExplainedWithTheCasWordsAndWithoutTheKey) {
  std::string wrong = "this-is-the-wrong-hmac-key-bytes";
  Result<Account> account = client_->NewAccount({.eab = Eab(wrong)});
  ASSERT_FALSE(account.ok());
  EXPECT_EQ(account.status().code(), ErrorCode::kUnauthenticated);
  const std::string& m = account.status().message();
  EXPECT_EQ(m.rfind("the CA rejected the External Account Binding: check the key ID and HMAC "
                    "key: ",
                    0),
            0u)
      << m;
  EXPECT_NE(m.find("external account binding JWS verification failed"), std::string::npos);
  EXPECT_EQ(m.find(wrong), std::string::npos);
  EXPECT_EQ(m.find(Base64UrlEncode(wrong)), std::string::npos);
  EXPECT_EQ(account.status().payload().find(wrong), std::string::npos);
}

TEST_F(EabTest, CasExternalAccountRequiredProblemIsMapped) {
  server_->InjectProblem({.path_prefix = "/new-account",
                          .problem = ProblemJson("externalAccountRequired", "EAB needed")});
  Result<Account> account = client_->NewAccount({.eab = Eab()});
  EXPECT_EQ(account.status().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(account.status().message().find("External Account Binding"), std::string::npos);
}

TEST_F(EabTest, EnsureAccountReusesTheAccountInsteadOfRebinding) {
  Result<Account> first = client_->EnsureAccount({.eab = Eab()});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  // A recreated Issuer (same stored key, same EAB pair): looked up, EAB not consumed again.
  auto again = NewClient(key_);
  Result<Account> second = again->EnsureAccount({.eab = Eab()});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->url, first->url);
  EXPECT_EQ(server_->account_count(), 1u);
}

TEST_F(EabTest, SecondBindingOfASingleUsePairIsExplained) {
  ASSERT_TRUE(client_->NewAccount({.eab = Eab()}).ok());
  auto other = NewClient(NewSigner());
  Result<Account> second = other->EnsureAccount({.eab = Eab()});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("account is not awaiting external account binding"),
            std::string::npos);
  EXPECT_NE(second.status().message().find("check the key ID and HMAC key"), std::string::npos);
}

TEST_F(EabTest, MalformedHmacKeyIsRejectedWithoutEchoingIt) {
  Result<std::string> key = DecodeEabHmacKey("not*base64*key");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(key.status().message().find("not*base64*key"), std::string::npos);
}

// --- §7.4 orders, §7.5 authorizations and challenges ---

TEST_F(ClientTest, NewOrderNormalisesIdentifiersAndSendsOptionalFields) {
  Register();
  auto not_before = clock_.Now();
  auto not_after = clock_.Now() + std::chrono::hours(24 * 30);
  Result<Order> order = client_->NewOrder(
      {.identifiers = {{"dns", "WWW.Example.ORG."}, *IpIdentifier("2001:DB8::0:1")},
       .not_before = not_before,
       .not_after = not_after,
       .replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"});
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  EXPECT_EQ(order->status, OrderStatus::kPending);
  EXPECT_EQ(order->url.rfind("https://acme.test/order/", 0), 0u);
  ASSERT_EQ(order->identifiers.size(), 2u);
  EXPECT_EQ(order->identifiers[0], (Identifier{"dns", "www.example.org"}));
  EXPECT_EQ(order->identifiers[1], (Identifier{"ip", "2001:db8::1"}));
  EXPECT_EQ(order->authorizations.size(), 2u);
  EXPECT_EQ(order->finalize, order->url + "/finalize");
  json held = server_->OrderJson(order->url);
  EXPECT_EQ(held["notBefore"], FormatRfc3339(not_before));
  EXPECT_EQ(held["notAfter"], FormatRfc3339(not_after));
  EXPECT_EQ(held["replaces"], "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
  ASSERT_TRUE(order->expires.has_value());
}

TEST_F(ClientTest, NewOrderNeedsIdentifiers) {
  Register();
  EXPECT_EQ(client_->NewOrder({}).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ClientTest, AuthorizationAndChallengesAreParsed) {
  Register();
  Order order = NewOrderFor({"a.example", "*.b.example"});
  Result<Authorization> plain = client_->GetAuthorization(order.authorizations[0], 0);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->url, order.authorizations[0]);
  EXPECT_EQ(plain->identifier, (Identifier{"dns", "a.example"}));
  EXPECT_EQ(plain->status, AuthorizationStatus::kPending);
  EXPECT_FALSE(plain->wildcard);
  ASSERT_NE(plain->FindChallenge("http-01"), nullptr);
  ASSERT_NE(plain->FindChallenge("dns-01"), nullptr);
  const Challenge& http = *plain->FindChallenge("http-01");
  EXPECT_EQ(http.status, ChallengeStatus::kPending);
  EXPECT_TRUE(IsBase64UrlToken(http.token));

  Result<Authorization> wild = client_->GetAuthorization(order.authorizations[1], 0);
  ASSERT_TRUE(wild.ok());
  EXPECT_TRUE(wild->wildcard);
  EXPECT_EQ(wild->identifier.value, "b.example");
  EXPECT_EQ(wild->FindChallenge("http-01"), nullptr);
}

TEST_F(ClientTest, KeyAuthorizationIsTokenDotThumbprint) {
  EXPECT_EQ(client_->KeyAuthorization("tok123"), "tok123." + JwkThumbprint(key_->PublicJwk()));
}

TEST_F(ClientTest, ChallengeTokensOutsideBase64UrlAreRefused) {
  Register();
  server_->UseToken("../../etc/passwd");
  Order order = NewOrderFor({"a.example"});
  Result<Authorization> authz = client_->GetAuthorization(order.authorizations[0], 0);
  ASSERT_FALSE(authz.ok());
  EXPECT_EQ(authz.status().code(), ErrorCode::kProtocol);
  EXPECT_EQ(authz.status().message().find("passwd"), std::string::npos);
}

TEST_F(ClientTest, RespondToChallengeSendsEmptyObjectAndValidationIsPolled) {
  Register();
  Order order = NewOrderFor({"a.example"});
  Authorization authz = *client_->GetAuthorization(order.authorizations[0], 0);
  const Challenge* http = authz.FindChallenge("http-01");
  Result<Challenge> responded = client_->RespondToChallenge(http->url);
  ASSERT_TRUE(responded.ok()) << responded.status().ToString();
  EXPECT_EQ(responded->status, ChallengeStatus::kProcessing);
  auto posts = RequestsTo(http->url.substr(std::string("https://acme.test").size()));
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].payload, "{}");

  Result<Authorization> after = client_->GetAuthorization(authz.url, 1);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, AuthorizationStatus::kValid);
  Result<Challenge> fetched = client_->GetChallenge(http->url);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched->status, ChallengeStatus::kValid);
  EXPECT_TRUE(fetched->validated.has_value());
  EXPECT_EQ(client_->GetOrder(order.url, 0)->status, OrderStatus::kReady);
}

TEST_F(ClientTest, PrevalidatedAuthorizationsMakeTheOrderReadyAtOnce) {
  server_->Prevalidate("a.example");
  Register();
  Order order = NewOrderFor({"a.example"});
  EXPECT_EQ(order.status, OrderStatus::kReady);
  EXPECT_EQ(client_->GetAuthorization(order.authorizations[0], 0)->status,
            AuthorizationStatus::kValid);
}

TEST_F(ClientTest, FailedValidationCarriesTheCasProblem) {
  server_->FailValidation("a.example", ProblemJson("dns", "DNS problem: NXDOMAIN looking up A"));
  Register();
  Order order = NewOrderFor({"a.example"});
  Authorize(order);
  Authorization authz = *client_->GetAuthorization(order.authorizations[0], 2);
  EXPECT_EQ(authz.status, AuthorizationStatus::kInvalid);
  const Challenge* http = authz.FindChallenge("http-01");
  ASSERT_TRUE(http->error.has_value());
  EXPECT_TRUE(http->error->Is("dns"));
  EXPECT_TRUE(IsRetryable(*http->error));

  Order failed = *client_->GetOrder(order.url, 0);
  EXPECT_EQ(failed.status, OrderStatus::kInvalid);
  ASSERT_TRUE(failed.error.has_value());
  EXPECT_NE(failed.error->Summary().find("dns a.example: urn:ietf:params:acme:error:dns: DNS "
                                         "problem: NXDOMAIN looking up A"),
            std::string::npos)
      << failed.error->Summary();
}

TEST_F(ClientTest, DeactivateAuthorization) {
  Register();
  Order order = NewOrderFor({"a.example"});
  Result<Authorization> authz = client_->DeactivateAuthorization(order.authorizations[0]);
  ASSERT_TRUE(authz.ok());
  EXPECT_EQ(authz->status, AuthorizationStatus::kDeactivated);
}

TEST_F(ClientTest, FinalizeBeforeReadyIsOrderNotReady) {
  Register();
  Order order = NewOrderFor({"a.example"});
  auto cert_key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  Result<Order> finalized = client_->Finalize(order, Csr(cert_key, {"a.example"}));
  ASSERT_FALSE(finalized.ok());
  std::optional<Problem> problem = ProblemFromStatus(finalized.status());
  ASSERT_TRUE(problem.has_value());
  EXPECT_TRUE(problem->Is("orderNotReady"));
  EXPECT_TRUE(IsRetryable(*problem));
}

TEST_F(ClientTest, FinalizeWithTheWrongNamesIsBadCsr) {
  server_->Prevalidate("a.example");
  Register();
  Order order = NewOrderFor({"a.example"});
  auto cert_key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  Result<Order> finalized = client_->Finalize(order, Csr(cert_key, {"b.example"}));
  ASSERT_FALSE(finalized.ok());
  EXPECT_TRUE(ProblemFromStatus(finalized.status())->Is("badCSR"));
  EXPECT_FALSE(IsRetryable(*ProblemFromStatus(finalized.status())));
}

TEST_F(ClientTest, FullIssuanceForDnsAndIpNames) {
  auto cert_key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  Order order = Issue({"a.example", "*.a.example", "192.0.2.7"}, cert_key);
  EXPECT_EQ(order.status, OrderStatus::kValid);
  ASSERT_FALSE(order.certificate.empty());
  Result<CertificateChain> chain = client_->DownloadCertificate(order.certificate);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_EQ(SplitPemCertificates(chain->pem)->size(), 2u);
  EXPECT_TRUE(CertificateMatchesKey(chain->pem, cert_key));
  CertificateInfo leaf = *ParseCertificatePem(chain->pem);
  EXPECT_EQ(leaf.ip_addresses, std::vector<std::string>{"192.0.2.7"});
  // The alternate was linked relatively ("<N/alt>"): resolved against the certificate URL.
  EXPECT_EQ(chain->alternates, std::vector<std::string>{order.certificate + "/alt"});
  EXPECT_EQ(server_->bad_signatures(), 0);
  for (const auto& r : server_->requests()) {
    if (r.signed_request) {
      EXPECT_TRUE(r.signature_valid) << r.path;
    }
  }
}

// --- polling without sleeping ---

TEST_F(ClientTest, ProcessingOrdersAreRepolledAtRetryAfter) {
  server_->HoldProcessing(2, "7");
  auto cert_key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  Order order = Issue({"a.example"}, cert_key);
  EXPECT_EQ(order.status, OrderStatus::kProcessing);
  EXPECT_EQ(order.retry_after, seconds(7));
  EXPECT_EQ(order.next_poll, clock_.Now() + seconds(7));
  EXPECT_FALSE(order.url.empty());
  for (int attempt = 0; attempt < 2; ++attempt) {
    clock_.Advance(seconds(7));
    Result<Order> polled = client_->GetOrder(order.url, attempt);
    ASSERT_TRUE(polled.ok());
    EXPECT_EQ(polled->status, OrderStatus::kProcessing);
    EXPECT_EQ(polled->next_poll, clock_.Now() + seconds(7));
  }
  Result<Order> done = client_->GetOrder(order.url, 2);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, OrderStatus::kValid);
  EXPECT_FALSE(done->certificate.empty());
}

TEST_F(ClientTest, WithoutRetryAfterPollingBacksOffExponentially) {
  server_->HoldProcessing(10);
  auto cert_key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  Order order = Issue({"a.example"}, cert_key);
  EXPECT_FALSE(order.retry_after.has_value());
  EXPECT_EQ(client_->GetOrder(order.url, 0)->next_poll, clock_.Now() + seconds(1));
  EXPECT_EQ(client_->GetOrder(order.url, 3)->next_poll, clock_.Now() + seconds(8));
  EXPECT_EQ(client_->GetOrder(order.url, 30)->next_poll, clock_.Now() + seconds(60));
}

TEST_F(ClientTest, HugeRetryAfterIsClamped) {
  server_->HoldProcessing(3, "999999");
  auto cert_key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  Order order = Issue({"a.example"}, cert_key);
  EXPECT_EQ(order.next_poll, clock_.Now() + std::chrono::hours(1));
}

// --- rate limits and CA problems (§6.6, §6.7) ---

TEST_F(ClientTest, RateLimitedReturnsRetryAfterWithoutSleeping) {
  Register();
  server_->InjectProblem({.path_prefix = "/new-order",
                          .status = 429,
                          .problem = ProblemJson("rateLimited", "too many new orders recently"),
                          .headers = {{"retry-after", "30"}}});
  auto before = clock_.Now();
  Result<Order> order = client_->NewOrder({.identifiers = {DnsIdentifier("a.example")}});
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(order.status().retry_after(), seconds(30));
  EXPECT_EQ(order.status().http_status(), 429);
  EXPECT_NE(order.status().message().find("too many new orders recently"), std::string::npos);
  EXPECT_EQ(clock_.Now(), before);
  EXPECT_EQ(server_->CountRequests("/new-order"), 1);  // not retried by the library
  EXPECT_TRUE(client_->NewOrder({.identifiers = {DnsIdentifier("a.example")}}).ok());
}

TEST_F(ClientTest, RetryAfterAsHttpDate) {
  Register();
  server_->InjectProblem(
      {.path_prefix = "/new-order",
       .status = 429,
       .problem = ProblemJson("rateLimited", "slow down"),
       .headers = {{"retry-after", "Tue, 14 Nov 2023 22:14:20 GMT"}}});  // FakeClock + 1 min
  Result<Order> order = client_->NewOrder({.identifiers = {DnsIdentifier("a.example")}});
  EXPECT_EQ(order.status().retry_after(), seconds(60));
}

TEST_F(ClientTest, ServiceUnavailableWithoutProblemDocument) {
  Register();
  server_->InjectProblem({.path_prefix = "/order/",
                          .status = 503,
                          .problem = "maintenance",
                          .headers = {{"retry-after", "120"}}});
  Order order = NewOrderFor({"a.example"});
  Result<Order> polled = client_->GetOrder(order.url, 0);
  EXPECT_EQ(polled.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(polled.status().retry_after(), seconds(120));
  EXPECT_EQ(polled.status().http_status(), 503);
}

TEST_F(ClientTest, ProxyErrorPageIsNotMistakenForAProblem) {
  Register();
  server_->InjectProblem({.path_prefix = "/new-order",
                          .status = 502,
                          .headers = {{"content-type", "text/html"}},
                          .raw_body = "<html><body>Bad Gateway</body></html>"});
  Result<Order> order = client_->NewOrder({.identifiers = {DnsIdentifier("a.example")}});
  EXPECT_EQ(order.status().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(ProblemFromStatus(order.status()).has_value());
  EXPECT_NE(order.status().message().find("HTTP 502 for https://acme.test/new-order"),
            std::string::npos)
      << order.status().message();
}

TEST_F(ClientTest, JsonErrorWithTypeButWrongMediaTypeIsStillAProblem) {
  Register();
  server_->InjectProblem({.path_prefix = "/new-order",
                          .status = 403,
                          .problem = ProblemJson("unauthorized", "DEACTIVATED_ACCOUNT"),
                          .headers = {{"content-type", "application/json"}}});
  Result<Order> order = client_->NewOrder({.identifiers = {DnsIdentifier("a.example")}});
  EXPECT_EQ(order.status().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(order.status().message().find("DEACTIVATED_ACCOUNT"), std::string::npos);
}

TEST_F(ClientTest, ProblemWithSubproblemsAndCertignaCodeIsShownVerbatim) {
  Register();
  json problem = {{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
                  {"detail", "DOMAIN_NOT_FOUND: The requested domain is not in the domain list"},
                  {"status", 400},
                  {"errorCode", "DOMAIN_NOT_FOUND"},
                  {"subproblems",
                   {{{"type", "urn:ietf:params:acme:error:caa"},
                     {"detail", "INVALID_DNSCAA: CAA must allow certigna.com"},
                     {"identifier", {{"type", "dns"}, {"value", "b.example"}}}}}}};
  server_->InjectProblem({.path_prefix = "/new-order", .problem = problem});
  Result<Order> order = client_->NewOrder({.identifiers = {DnsIdentifier("b.example")}});
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().code(), ErrorCode::kAcmeProblem);
  EXPECT_EQ(order.status().message(),
            "urn:ietf:params:acme:error:rejectedIdentifier: DOMAIN_NOT_FOUND: The requested "
            "domain is not in the domain list [errorCode=DOMAIN_NOT_FOUND] (subproblems: dns "
            "b.example: urn:ietf:params:acme:error:caa: INVALID_DNSCAA: CAA must allow "
            "certigna.com)");
  std::optional<Problem> p = ProblemFromStatus(order.status());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->raw, problem);
  EXPECT_FALSE(IsRetryable(*p));
}

// --- §7.4.2 certificate chains ---

class ChainTest : public ClientTest {
 protected:
  ChainTest() {
    cert_key_ = std::make_unique<PrivateKey>(*PrivateKey::Generate(KeyType::kEcdsaP256));
    order_ = Issue({"a.example"}, *cert_key_);
  }
  std::string TopIssuer(const CertificateChain& chain) {
    auto certs = *SplitPemCertificates(chain.pem);
    return ParseCertificatePem(certs.back())->issuer_common_name;
  }
  std::unique_ptr<PrivateKey> cert_key_;
  Order order_;
};

TEST_F(ChainTest, DefaultChainWhenNoPreference) {
  Result<CertificateChain> chain = client_->DownloadPreferredChain(order_.certificate, "");
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(TopIssuer(*chain), FakeAcmeServer::kDefaultRoot);
  EXPECT_EQ(server_->CountRequests("/cert/"), 1);
}

TEST_F(ChainTest, PreferredAlternateIsPicked) {
  Result<CertificateChain> chain =
      client_->DownloadPreferredChain(order_.certificate, FakeAcmeServer::kAlternateRoot);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_EQ(TopIssuer(*chain), FakeAcmeServer::kAlternateRoot);
  EXPECT_EQ(chain->url, order_.certificate + "/alt");
  EXPECT_TRUE(CertificateMatchesKey(chain->pem, *cert_key_));
}

TEST_F(ChainTest, PreferenceMatchingTheDefaultFetchesNoAlternate) {
  Result<CertificateChain> chain =
      client_->DownloadPreferredChain(order_.certificate, FakeAcmeServer::kDefaultRoot);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(TopIssuer(*chain), FakeAcmeServer::kDefaultRoot);
  EXPECT_EQ(server_->CountRequests("/cert/"), 1);
}

TEST_F(ChainTest, UnknownPreferenceFallsBackToTheDefault) {
  Result<CertificateChain> chain =
      client_->DownloadPreferredChain(order_.certificate, "No Such Root");
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(TopIssuer(*chain), FakeAcmeServer::kDefaultRoot);
  EXPECT_EQ(server_->CountRequests("/cert/"), 2);
}

TEST_F(ChainTest, TransientAlternateFailureIsReturned) {
  std::string alt_path =
      order_.certificate.substr(std::string("https://acme.test").size()) + "/alt";
  server_->InjectProblem(
      {.path_prefix = alt_path, .status = 503, .problem = ProblemJson("serverInternal", "busy")});
  Result<CertificateChain> chain =
      client_->DownloadPreferredChain(order_.certificate, FakeAcmeServer::kAlternateRoot);
  EXPECT_EQ(chain.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(server_->CountRequests(alt_path), 1);
}

TEST_F(ChainTest, PermanentlyBrokenAlternateIsSkipped) {
  std::string alt_path =
      order_.certificate.substr(std::string("https://acme.test").size()) + "/alt";
  server_->InjectProblem(
      {.path_prefix = alt_path, .status = 404, .problem = ProblemJson("malformed", "gone")});
  Result<CertificateChain> chain =
      client_->DownloadPreferredChain(order_.certificate, FakeAcmeServer::kAlternateRoot);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(TopIssuer(*chain), FakeAcmeServer::kDefaultRoot);
}

// --- §7.6 revocation ---

TEST_F(ChainTest, RevokeWithTheAccountKey) {
  std::string pem = client_->DownloadCertificate(order_.certificate)->pem;
  std::string serial = ParseCertificatePem(pem)->serial_hex;
  ASSERT_TRUE(client_->RevokeCertificate(pem, RevocationReason::kSuperseded).ok());
  EXPECT_TRUE(server_->IsRevoked(serial));
  EXPECT_EQ(server_->RevocationReason(serial), 4);
  EXPECT_TRUE(RequestsTo("/revoke-cert")[0].protected_header.contains("kid"));

  Status again = client_->RevokeCertificate(pem, std::nullopt);
  EXPECT_TRUE(ProblemFromStatus(again)->Is("alreadyRevoked"));
}

TEST_F(ChainTest, RevokeWithTheCertificateKeyNeedsNoAccount) {
  std::string pem = client_->DownloadCertificate(order_.certificate)->pem;
  std::string der = *CertificatePemToDer(pem);
  auto stranger = NewClient(NewSigner());  // no account at all
  KeySigner cert_signer(*cert_key_);
  ASSERT_TRUE(stranger->RevokeCertificateWithKey(der, cert_signer, std::nullopt).ok());
  EXPECT_TRUE(server_->IsRevoked(ParseCertificatePem(pem)->serial_hex));
  auto revoke = RequestsTo("/revoke-cert");
  EXPECT_EQ(revoke.back().protected_header["jwk"], cert_signer.PublicJwk());
  EXPECT_FALSE(json::parse(revoke.back().payload).contains("reason"));
}

TEST_F(ChainTest, RevokeWithAnotherKeyIsUnauthorized) {
  std::string pem = client_->DownloadCertificate(order_.certificate)->pem;
  auto stranger = NewClient(NewSigner());
  KeySigner wrong(*PrivateKey::Generate(KeyType::kEcdsaP256));
  Status s = stranger->RevokeCertificateWithKey(pem, wrong, RevocationReason::kKeyCompromise);
  EXPECT_EQ(s.code(), ErrorCode::kUnauthenticated);
}

// --- RFC 9773 renewal information ---

TEST_F(ChainTest, RenewalInfoWindowAndNextPoll) {
  std::string pem = client_->DownloadCertificate(order_.certificate)->pem;
  CertificateInfo info = *ParseCertificatePem(pem);
  Result<RenewalInfo> ri = client_->GetRenewalInfo(pem);
  ASSERT_TRUE(ri.ok()) << ri.status().ToString();
  EXPECT_EQ(ri->window_start, info.not_after - std::chrono::hours(24 * 10));
  EXPECT_EQ(ri->window_end, info.not_after - std::chrono::hours(24 * 5));
  EXPECT_EQ(ri->explanation_url, "https://acme.test/why");
  EXPECT_EQ(ri->next_poll, clock_.Now() + std::chrono::hours(6));
  EXPECT_EQ(RequestsTo("/renewal-info/").back().method, "GET");

  server_->SetRenewalRetryAfter("5");  // below the one-minute floor
  EXPECT_EQ(client_->GetRenewalInfo(pem)->next_poll, clock_.Now() + std::chrono::minutes(1));
}

TEST_F(ClientTest, RenewalInfoNeedsTheDirectoryEntry) {
  Build({.offer_renewal_info = false});
  Result<RenewalInfo> ri = client_->GetRenewalInfo("irrelevant");
  EXPECT_EQ(ri.status().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace certsmith::acme
