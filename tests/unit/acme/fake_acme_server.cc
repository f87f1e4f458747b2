#include "unit/acme/fake_acme_server.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>

#include "acme/certificate.h"
#include "certsmith/base64.h"
#include "unit/acme/crypto_test_util.h"

namespace certsmith::acme::testing {

using nlohmann::json;

namespace {

constexpr char kErr[] = "urn:ietf:params:acme:error:";

using BnPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Free<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Free<OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Free<X509_REQ_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* key) { return {key, EVP_PKEY_free}; }

std::optional<std::string> Decode(const std::string& text) {
  if (!text.empty() && !IsBase64UrlToken(text)) return std::nullopt;  // JOSE: strict base64url
  auto r = Base64DecodeLenient(text);
  if (!r.ok()) return std::nullopt;
  return *r;
}

BnPtr Bn(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

// Builds the public key a JWK describes, with OpenSSL alone (not certsmith's code).
std::shared_ptr<EVP_PKEY> PublicKeyFromJwk(const json& jwk) {
  if (!jwk.is_object()) return nullptr;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  std::string type;
  BnPtr n, e;
  std::string pub;
  std::string kty = jwk.value("kty", "");
  if (kty == "RSA") {
    auto nb = Decode(jwk.value("n", "")), eb = Decode(jwk.value("e", ""));
    if (!nb || !eb) return nullptr;
    n = Bn(*nb);
    e = Bn(*eb);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    type = "RSA";
  } else if (kty == "EC") {
    std::string crv = jwk.value("crv", "");
    const char* group = crv == "P-256" ? "prime256v1" : crv == "P-384" ? "secp384r1" : nullptr;
    auto x = Decode(jwk.value("x", "")), y = Decode(jwk.value("y", ""));
    if (group == nullptr || !x || !y) return nullptr;
    pub = std::string(1, '\x04') + *x + *y;
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
    type = "EC";
  } else {
    return nullptr;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type.c_str(), nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Share(pkey);
}

bool VerifyJwsSignature(EVP_PKEY* key, const std::string& alg, const std::string& input,
                        const std::string& signature) {
  if (alg == "RS256") return VerifySignature(key, "SHA256", input, signature);
  if (alg == "ES256") return VerifySignature(key, "SHA256", input, RawEcdsaToDer(signature));
  if (alg == "ES384") return VerifySignature(key, "SHA384", input, RawEcdsaToDer(signature));
  return false;
}

std::string Rfc3339(Clock::TimePoint t) { return FormatRfc3339(t); }

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 1;
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(i, end - i));
    i = end + 1;
  }
  return parts;
}

// DER INTEGER content octets of a positive serial: big-endian, minimal, 0x00 before a high bit.
std::string SerialOctets(long serial) {
  std::string out;
  for (long v = serial; v > 0; v >>= 8) out.insert(out.begin(), static_cast<char>(v & 0xff));
  if (out.empty() || (static_cast<unsigned char>(out[0]) & 0x80)) out.insert(out.begin(), '\0');
  return out;
}

std::string SerialHex(long serial) {
  char buf[32];
  snprintf(buf, sizeof buf, "%lX", serial);
  return buf;
}

// SHA-1 of the subjectPublicKey BIT STRING, the usual key identifier (RFC 5280 §4.2.1.2).
std::string KeyId(EVP_PKEY* key) {
  X509_PUBKEY* pub = nullptr;
  X509_PUBKEY_set(&pub, key);
  const unsigned char* bits = nullptr;
  int len = 0;
  X509_PUBKEY_get0_param(nullptr, &bits, &len, nullptr, pub);
  unsigned char md[20];
  unsigned int md_len = 0;
  EVP_Digest(bits, static_cast<size_t>(len), md, &md_len, EVP_sha1(), nullptr);
  X509_PUBKEY_free(pub);
  return std::string(reinterpret_cast<char*>(md), md_len);
}

// Adds an authorityKeyIdentifier {keyIdentifier} and re-signs (ARI names certificates by it).
void AddAki(X509* cert, const std::string& key_id, EVP_PKEY* issuer_key) {
  AUTHORITY_KEYID* akid = AUTHORITY_KEYID_new();
  akid->keyid = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(akid->keyid, reinterpret_cast<const unsigned char*>(key_id.data()),
                        static_cast<int>(key_id.size()));
  X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT);
  AUTHORITY_KEYID_free(akid);
  X509_sign(cert, issuer_key, EVP_sha256());
}

// The names a CSR asks for: SAN dNSName and iPAddress entries, plus the CN.
std::vector<std::string> CsrNames(X509_REQ* req) {
  std::vector<std::string> names;
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr)));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type == GEN_DNS) {
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                         ASN1_STRING_length(gn->d.dNSName));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
      int len = ASN1_STRING_length(ip);
      char buf[INET6_ADDRSTRLEN] = {};
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), buf, sizeof buf)) {
        names.emplace_back(buf);
      }
    }
  }
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn) >
      0) {
    names.emplace_back(cn);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

struct FakeAcmeServer::Account {
  std::string url;
  json jwk;
  std::string status = "valid";
  std::vector<std::string> contact;
  std::string eab_kid;
};

struct FakeAcmeServer::Authz {
  std::string path;
  std::string identifier_type, identifier_value;
  bool wildcard = false;
  std::string status = "pending";
  std::vector<std::string> challenge_paths;
};

struct FakeAcmeServer::Challenge {
  std::string path, authz_path, type, token;
  std::string status = "pending";
  json error;
  bool responded = false;
};

struct FakeAcmeServer::Order {
  std::string path;
  std::string account_url;
  std::string status = "pending";
  json identifiers;
  std::vector<std::string> authz_paths;
  json error;
  json extra = json::object();  // notBefore, notAfter, replaces as received
  int polls_left = 0;
  std::string cert_path;
};

struct FakeAcmeServer::Issued {
  std::string default_pem, alternate_pem;
  long serial = 0;
  std::string account_url;
  std::shared_ptr<EVP_PKEY> public_key;
  Clock::TimePoint not_after;
};

struct FakeAcmeServer::Jws {
  json header;
  std::string protected64, payload64, payload, signature;
  std::string kid;
  json jwk;
  Account* account = nullptr;  // for kid requests
  bool post_as_get = false;
  json payload_json;  // parsed payload (null for POST-as-GET or non-JSON)
};

FakeAcmeServer::FakeAcmeServer(const Clock& clock, FakeAcmeOptions options)
    : clock_(clock), options_(std::move(options)) {
  root1_key_ = Share(EVP_EC_gen("P-256"));
  root2_key_ = Share(EVP_EC_gen("P-256"));
  intermediate_key_ = Share(EVP_EC_gen("P-256"));
  auto now = clock_.Now();
  CertSpec root;
  root.common_name = kDefaultRoot;
  root.not_before = now - std::chrono::hours(24);
  root.not_after = now + std::chrono::hours(24 * 3650);
  root.serial = 1;
  root.is_ca = true;
  X509Ptr root1 = MakeCertificate(root, root1_key_.get(), nullptr);
  root.common_name = kAlternateRoot;
  X509Ptr root2 = MakeCertificate(root, root2_key_.get(), nullptr);
  CertSpec inter = root;
  inter.common_name = "Fake Intermediate";
  inter.serial = 2;
  intermediate_by_root1_pem_ = CertificateToPem(
      MakeCertificate(inter, intermediate_key_.get(), root1_key_.get(), root1.get()).get());
  intermediate_by_root2_pem_ = CertificateToPem(
      MakeCertificate(inter, intermediate_key_.get(), root2_key_.get(), root2.get()).get());
}

FakeAcmeServer::~FakeAcmeServer() = default;

Result<std::unique_ptr<HttpStream>> FakeAcmeServer::Stream(const HttpRequest&) {
  return MakeError(ErrorCode::kInternal, "FakeAcmeServer does not stream");
}

int FakeAcmeServer::CountRequests(const std::string& path_prefix) const {
  return static_cast<int>(std::count_if(requests_.begin(), requests_.end(), [&](const auto& r) {
    return r.path.rfind(path_prefix, 0) == 0;
  }));
}

std::string FakeAcmeServer::AccountEabKid(const std::string& account_url) const {
  for (const auto& a : accounts_) {
    if (a->url == account_url) return a->eab_kid;
  }
  return "";
}

std::vector<std::string> FakeAcmeServer::AccountContact(const std::string& account_url) const {
  for (const auto& a : accounts_) {
    if (a->url == account_url) return a->contact;
  }
  return {};
}

std::optional<int> FakeAcmeServer::RevocationReason(const std::string& serial_hex) const {
  auto it = revocation_reasons_.find(serial_hex);
  if (it == revocation_reasons_.end()) return std::nullopt;
  return it->second;
}

json FakeAcmeServer::OrderJson(const std::string& order_url) const {
  for (const auto& [path, order] : orders_) {
    if (url(path) == order_url) return OrderBody(*order);
  }
  return nullptr;
}

Result<HttpResponse> FakeAcmeServer::Send(const HttpRequest& request) {
  if (transport_failure_) {
    Status s = *transport_failure_;
    transport_failure_.reset();
    return s;
  }
  RecordedRequest record;
  record.method = request.method;
  if (request.url.rfind(options_.base_url, 0) != 0) {
    return MakeError(ErrorCode::kUnavailable, "connection refused");
  }
  record.path = request.url.substr(options_.base_url.size());
  HttpResponse response = Route(request, record);
  record.response_status = response.status;
  requests_.push_back(std::move(record));
  return response;
}

HttpResponse FakeAcmeServer::Route(const HttpRequest& request, RecordedRequest& record) {
  const std::string& path = record.path;
  if (path == "/directory" && request.method == "GET") return Directory();
  if (path == "/new-nonce") return NewNonceResponse(request);
  if (path.rfind("/renewal-info/", 0) == 0 && request.method == "GET") {
    return RenewalInfo(path.substr(std::string("/renewal-info/").size()));
  }
  if (request.method != "POST") {
    // §6.3: everything but the directory and newNonce is POST (POST-as-GET for fetches).
    return Problem(405, "malformed", "use POST-as-GET");
  }
  return HandleSigned(request, path, record);
}

HttpResponse FakeAcmeServer::Directory() const {
  json meta = {{"termsOfService", options_.terms_of_service},
               {"website", "https://acme.test/"},
               {"caaIdentities", {"acme.test"}}};
  if (options_.external_account_required) meta["externalAccountRequired"] = true;
  json dir = {{"newNonce", url("/new-nonce")},
              {"newAccount", url("/new-account")},
              {"newOrder", url("/new-order")},
              {"revokeCert", url("/revoke-cert")},
              {"meta", meta}};
  if (options_.offer_key_change) dir["keyChange"] = url("/key-change");
  if (options_.offer_renewal_info) dir["renewalInfo"] = url("/renewal-info");
  HttpResponse r;
  r.status = 200;
  r.headers = {{"content-type", "application/json"}};
  r.body = dir.dump();
  return r;
}

std::string FakeAcmeServer::NextNonce() {
  std::string nonce = "nonce" + std::to_string(++nonce_counter_) + "_AbCdEfGhIjKlMnOp";
  live_nonces_.insert(nonce);
  return nonce;
}

HttpResponse FakeAcmeServer::NewNonceResponse(const HttpRequest& request) {
  HttpResponse r;
  r.status = request.method == "HEAD" ? 200 : 204;  // §7.2
  r.headers = {{"replay-nonce", NextNonce()}, {"cache-control", "no-store"}};
  return r;
}

HttpResponse FakeAcmeServer::Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}};
  if (!omit_replay_nonce_) r.headers.emplace_back("replay-nonce", NextNonce());
  r.headers.emplace_back("link", "<" + directory_url() + ">;rel=\"index\"");
  r.body = body.dump();
  return r;
}

HttpResponse FakeAcmeServer::Problem(int status, const std::string& type,
                                     const std::string& detail) {
  HttpResponse r = Json(status, {{"type", kErr + type}, {"detail", detail}, {"status", status}});
  r.headers[0].second = "application/problem+json";
  return r;
}

std::optional<InjectedProblem> FakeAcmeServer::TakeInjected(const std::string& path) {
  for (auto it = injected_.begin(); it != injected_.end(); ++it) {
    if (path.rfind(it->path_prefix, 0) != 0) continue;
    InjectedProblem p = *it;
    if (--it->times <= 0) injected_.erase(it);
    return p;
  }
  return std::nullopt;
}

FakeAcmeServer::Account* FakeAcmeServer::FindAccountByUrl(const std::string& u) {
  for (auto& a : accounts_) {
    if (a->url == u) return a.get();
  }
  return nullptr;
}

FakeAcmeServer::Account* FakeAcmeServer::FindAccountByJwk(const json& jwk) {
  for (auto& a : accounts_) {
    if (a->jwk == jwk) return a.get();
  }
  return nullptr;
}

// The checks of RFC 8555 §6.2-§6.5, in the order a CA applies them.
HttpResponse FakeAcmeServer::HandleSigned(const HttpRequest& request, const std::string& path,
                                          RecordedRequest& record) {
  bool jose = false;
  for (const auto& [k, v] : request.headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (name == "content-type" && v == "application/jose+json") jose = true;
  }
  if (!jose) return Problem(415, "malformed", "Content-Type must be application/jose+json");
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("protected") || !body.contains("payload") ||
      !body.contains("signature") || body.size() != 3) {
    return Problem(400, "malformed", "not a flattened JWS");
  }
  Jws jws;
  jws.protected64 = body["protected"].is_string() ? body["protected"].get<std::string>() : "";
  jws.payload64 = body["payload"].is_string() ? body["payload"].get<std::string>() : "?";
  std::string sig64 = body["signature"].is_string() ? body["signature"].get<std::string>() : "";
  auto protected_text = Decode(jws.protected64);
  auto payload = Decode(jws.payload64);
  auto signature = Decode(sig64);
  if (jws.protected64.empty() || !protected_text || !payload || !signature) {
    return Problem(400, "malformed", "JWS members must be base64url without padding");
  }
  jws.header = json::parse(*protected_text, nullptr, false);
  jws.payload = *payload;
  jws.signature = *signature;
  jws.post_as_get = jws.payload64.empty();
  if (!jws.post_as_get) jws.payload_json = json::parse(jws.payload, nullptr, false);
  record.signed_request = true;
  record.protected_header = jws.header;
  record.payload = jws.payload;
  if (!jws.header.is_object()) return Problem(400, "malformed", "protected header not JSON");

  if (jws.header.value("url", "") != request.url) {
    return Problem(401, "unauthorized", "JWS url does not match the request URL");
  }
  bool has_jwk = jws.header.contains("jwk"), has_kid = jws.header.contains("kid");
  if (has_jwk == has_kid) return Problem(400, "malformed", "exactly one of jwk and kid");

  std::string nonce = jws.header.value("nonce", "");
  if (reject_nonces_ > 0) {
    --reject_nonces_;
    live_nonces_.erase(nonce);
    return Problem(400, "badNonce", "JWS has an invalid anti-replay nonce: " + nonce);
  }
  if (live_nonces_.erase(nonce) == 0) {
    return Problem(400, "badNonce", "JWS has an invalid anti-replay nonce: " + nonce);
  }

  std::shared_ptr<EVP_PKEY> key;
  if (has_jwk) {
    jws.jwk = jws.header["jwk"];
    key = PublicKeyFromJwk(jws.jwk);
  } else {
    jws.kid = jws.header.value("kid", "");
    jws.account = FindAccountByUrl(jws.kid);
    if (jws.account == nullptr) return Problem(400, "accountDoesNotExist", "unknown kid");
    key = PublicKeyFromJwk(jws.account->jwk);
  }
  std::string input = jws.protected64 + "." + jws.payload64;
  record.signature_valid =
      key && VerifyJwsSignature(key.get(), jws.header.value("alg", ""), input, jws.signature);
  if (!record.signature_valid) {
    ++bad_signatures_;
    return Problem(400, "malformed", "JWS verification error");
  }
  if (jws.account != nullptr && jws.account->status != "valid") {
    return Problem(401, "unauthorized", "account is " + jws.account->status);
  }
  if (auto injected = TakeInjected(path)) {
    HttpResponse r = Json(injected->status, injected->problem);
    r.headers[0].second = "application/problem+json";
    for (const auto& h : injected->headers) {
      if (h.first == "content-type") {
        r.headers[0].second = h.second;
      } else {
        r.headers.push_back(h);
      }
    }
    if (!injected->raw_body.empty()) r.body = injected->raw_body;
    return r;
  }
  return Dispatch(path, jws, record);
}

HttpResponse FakeAcmeServer::Dispatch(const std::string& path, const Jws& jws, RecordedRequest&) {
  bool by_jwk = jws.account == nullptr;
  if (path == "/new-account") {
    if (!by_jwk) return Problem(400, "malformed", "newAccount must use jwk");
    return NewAccount(jws);
  }
  if (path == "/revoke-cert") return Revoke(jws.account, jws);
  if (by_jwk) return Problem(400, "malformed", "this request must use kid");
  Account& account = *jws.account;
  if (path == "/key-change") return KeyChange(account, jws);
  if (path == "/new-order") return NewOrder(account, jws);
  if (path == account.url.substr(options_.base_url.size())) return AccountRequest(account, jws);
  std::vector<std::string> parts = Split(path);
  std::string base = "/" + parts[0] + (parts.size() > 1 ? "/" + parts[1] : "");
  if (parts[0] == "order" && orders_.count(base)) {
    Order& order = *orders_[base];
    if (order.account_url != account.url) return Problem(403, "unauthorized", "not your order");
    if (parts.size() == 3 && parts[2] == "finalize") return Finalize(order, jws);
    if (!jws.post_as_get) return Problem(400, "malformed", "order fetch must be POST-as-GET");
    return OrderResponse(order, 200);
  }
  if (parts[0] == "authz" && authzs_.count(base)) return AuthzRequest(*authzs_[base], jws);
  if (parts[0] == "chall" && challenges_.count(base)) {
    return ChallengeRequest(*challenges_[base], jws);
  }
  if (parts[0] == "cert") {
    if (!jws.post_as_get) return Problem(400, "malformed", "certificate fetch is POST-as-GET");
    return Certificate(path);
  }
  return Problem(404, "malformed", "no such resource " + path);
}

HttpResponse FakeAcmeServer::NewAccount(const Jws& jws) {
  const json& p = jws.payload_json;
  if (!p.is_object()) return Problem(400, "malformed", "newAccount payload must be an object");
  Account* existing = FindAccountByJwk(jws.jwk);
  auto account_json = [](const Account& a) {
    return json{{"status", a.status}, {"contact", a.contact}, {"orders", a.url + "/orders"}};
  };
  if (existing != nullptr) {
    HttpResponse r = Json(200, account_json(*existing));
    r.headers.emplace_back("location", existing->url);
    return r;
  }
  if (p.value("onlyReturnExisting", false)) {
    return Problem(400, "accountDoesNotExist", "no account exists with the provided key");
  }
  auto account = std::make_unique<Account>();
  if (p.contains("externalAccountBinding")) {
    const json& eab = p["externalAccountBinding"];
    if (!eab.is_object() || !eab["protected"].is_string() || !eab["payload"].is_string() ||
        !eab["signature"].is_string()) {
      return Problem(400, "malformed", "externalAccountBinding is not a JWS");
    }
    auto header_text = Decode(eab["protected"].get<std::string>());
    auto payload_text = Decode(eab["payload"].get<std::string>());
    auto mac = Decode(eab["signature"].get<std::string>());
    json header = header_text ? json::parse(*header_text, nullptr, false) : json();
    if (!header.is_object() || !payload_text || !mac) {
      return Problem(400, "malformed", "externalAccountBinding is not a JWS");
    }
    std::string kid = header.value("kid", ""), alg = header.value("alg", "");
    if (header.value("url", "") != url("/new-account") || header.contains("nonce")) {
      return Problem(400, "malformed", "EAB JWS url must be newAccount and carry no nonce");
    }
    if (json::parse(*payload_text, nullptr, false) != jws.jwk) {
      return Problem(400, "malformed", "EAB payload must be the account JWK");
    }
    auto key = options_.eab_keys.find(kid);
    if (key == options_.eab_keys.end()) {
      return Problem(401, "unauthorized", "external account binding key ID not found");
    }
    const char* digest = alg == "HS256"   ? "SHA256"
                         : alg == "HS384" ? "SHA384"
                         : alg == "HS512" ? "SHA512"
                                          : nullptr;
    std::string input =
        eab["protected"].get<std::string>() + "." + eab["payload"].get<std::string>();
    if (digest == nullptr || ReferenceHmac(digest, key->second, input) != *mac) {
      return Problem(401, "unauthorized", "external account binding JWS verification failed");
    }
    if (options_.eab_single_use && bound_eab_kids_.count(kid)) {
      return Problem(401, "unauthorized", "account is not awaiting external account binding");
    }
    bound_eab_kids_.insert(kid);
    account->eab_kid = kid;
  } else if (options_.external_account_required) {
    return Problem(400, "externalAccountRequired", "this CA requires external account binding");
  }
  if (!p.value("termsOfServiceAgreed", false)) {
    return Problem(403, "userActionRequired", "you must agree to the terms of service");
  }
  for (const auto& c : p.value("contact", json::array())) {
    std::string contact = c.is_string() ? c.get<std::string>() : "";
    if (contact.rfind("mailto:", 0) != 0) {
      return Problem(400, "unsupportedContact", "only mailto: contacts are supported");
    }
    account->contact.push_back(contact);
  }
  account->jwk = jws.jwk;
  account->url = url("/acct/" + std::to_string(next_id_++));
  HttpResponse r = Json(201, account_json(*account));
  r.headers.emplace_back("location", account->url);
  accounts_.push_back(std::move(account));
  return r;
}

HttpResponse FakeAcmeServer::AccountRequest(Account& account, const Jws& jws) {
  const json& p = jws.payload_json;
  // As Pebble does: an empty update is refused, account data is read with POST-as-GET (§6.3).
  if (!jws.post_as_get && p.is_object() && p.empty()) {
    return Problem(400, "malformed",
                   "Use POST-as-GET to retrieve account data instead of doing an empty update");
  }
  if (p.is_object() && p.contains("contact")) {
    account.contact.clear();
    for (const auto& c : p["contact"]) account.contact.push_back(c.get<std::string>());
  }
  if (p.is_object() && p.value("status", "") == "deactivated") account.status = "deactivated";
  return Json(200, {{"status", account.status}, {"contact", account.contact}});
}

// §7.3.5
HttpResponse FakeAcmeServer::KeyChange(Account& account, const Jws& jws) {
  const json& inner = jws.payload_json;
  if (!inner.is_object() || !inner["protected"].is_string() || !inner["payload"].is_string() ||
      !inner["signature"].is_string()) {
    return Problem(400, "malformed", "keyChange payload must be a JWS");
  }
  auto header_text = Decode(inner["protected"].get<std::string>());
  auto payload_text = Decode(inner["payload"].get<std::string>());
  auto signature = Decode(inner["signature"].get<std::string>());
  json header = header_text ? json::parse(*header_text, nullptr, false) : json();
  if (!header.is_object() || !payload_text || !signature || !header.contains("jwk") ||
      header.contains("kid")) {
    return Problem(400, "malformed", "inner JWS must carry jwk");
  }
  if (header.value("url", "") != url("/key-change")) {
    return Problem(400, "malformed", "inner JWS url must match the outer");
  }
  std::shared_ptr<EVP_PKEY> new_key = PublicKeyFromJwk(header["jwk"]);
  std::string input =
      inner["protected"].get<std::string>() + "." + inner["payload"].get<std::string>();
  if (!new_key || !VerifyJwsSignature(new_key.get(), header.value("alg", ""), input, *signature)) {
    ++bad_signatures_;
    return Problem(400, "malformed", "inner JWS verification error");
  }
  json payload = json::parse(*payload_text, nullptr, false);
  if (!payload.is_object() || payload.value("account", "") != account.url ||
      payload["oldKey"] != account.jwk) {
    return Problem(400, "malformed", "keyChange payload must name the account and its old key");
  }
  if (FindAccountByJwk(header["jwk"]) != nullptr) {
    return Problem(409, "malformed", "the new key is already in use");
  }
  account.jwk = header["jwk"];
  return Json(200, {{"status", account.status}});
}

HttpResponse FakeAcmeServer::NewOrder(Account& account, const Jws& jws) {
  const json& p = jws.payload_json;
  if (!p.is_object() || !p["identifiers"].is_array() || p["identifiers"].empty()) {
    return Problem(400, "malformed", "an order needs identifiers");
  }
  auto order = std::make_unique<Order>();
  order->path = "/order/" + std::to_string(next_id_++);
  order->account_url = account.url;
  order->identifiers = p["identifiers"];
  for (const char* k : {"notBefore", "notAfter", "replaces"}) {
    if (p.contains(k)) order->extra[k] = p[k];
  }
  for (const auto& id : p["identifiers"]) {
    std::string type = id.value("type", ""), value = id.value("value", "");
    if (type != "dns" && type != "ip") {
      return Problem(400, "unsupportedIdentifier", "identifier type " + type);
    }
    std::string lower = value;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (value.empty() || value != lower || value.back() == '.') {
      return Problem(400, "rejectedIdentifier", "identifier not in canonical form: " + value);
    }
    auto authz = std::make_unique<Authz>();
    authz->path = "/authz/" + std::to_string(next_id_++);
    authz->identifier_type = type;
    authz->wildcard = value.rfind("*.", 0) == 0;
    authz->identifier_value = authz->wildcard ? value.substr(2) : value;
    if (prevalidated_.count(authz->identifier_value)) authz->status = "valid";
    std::vector<std::string> types = {"dns-01"};
    if (!authz->wildcard) types.insert(types.begin(), "http-01");
    for (const std::string& t : types) {
      auto ch = std::make_unique<Challenge>();
      ch->path = "/chall/" + std::to_string(next_id_++);
      ch->authz_path = authz->path;
      ch->type = t;
      ch->token = !forced_token_.empty()
                      ? forced_token_
                      : "tok" + std::to_string(next_id_) + "_" + "Zm9vYmFyYmF6cXV4cXV1eA";
      authz->challenge_paths.push_back(ch->path);
      challenges_[ch->path] = std::move(ch);
    }
    order->authz_paths.push_back(authz->path);
    authzs_[authz->path] = std::move(authz);
  }
  RefreshOrderStatus(*order);
  Order& ref = *order;
  orders_[order->path] = std::move(order);
  HttpResponse r = OrderResponse(ref, 201);
  r.headers.emplace_back("location", url(ref.path));
  return r;
}

void FakeAcmeServer::RefreshOrderStatus(Order& order) {
  if (order.status != "pending" && order.status != "ready") return;
  bool all_valid = true;
  for (const auto& a : order.authz_paths) {
    const Authz& authz = *authzs_[a];
    if (authz.status == "invalid") {
      order.status = "invalid";
      const Challenge* failed = nullptr;
      for (const auto& c : authz.challenge_paths) {
        if (challenges_[c]->status == "invalid") failed = challenges_[c].get();
      }
      json sub = failed ? failed->error : json::object();
      sub["identifier"] = {{"type", authz.identifier_type}, {"value", authz.identifier_value}};
      order.error = {{"type", std::string(kErr) + "unauthorized"},
                     {"detail", "authorization for " + authz.identifier_value + " failed"},
                     {"subproblems", json::array({sub})}};
      return;
    }
    all_valid = all_valid && authz.status == "valid";
  }
  order.status = all_valid ? "ready" : "pending";
}

json FakeAcmeServer::OrderBody(const Order& order) const {
  json authz_urls = json::array();
  for (const auto& a : order.authz_paths) authz_urls.push_back(url(a));
  json body = {{"status", order.status},
               {"expires", Rfc3339(clock_.Now() + std::chrono::hours(24 * 7))},
               {"identifiers", order.identifiers},
               {"authorizations", authz_urls},
               {"finalize", url(order.path + "/finalize")}};
  body.update(order.extra);
  if (!order.cert_path.empty() && order.status == "valid")
    body["certificate"] = url(order.cert_path);
  if (!order.error.is_null()) body["error"] = order.error;
  return body;
}

HttpResponse FakeAcmeServer::OrderResponse(Order& order, int status) {
  bool processing_hold = false;
  if (order.status == "processing" && status == 200) {
    if (order.polls_left > 0) {
      --order.polls_left;
      processing_hold = true;
    } else {
      order.status = "valid";
    }
  }
  RefreshOrderStatus(order);
  HttpResponse r = Json(status, OrderBody(order));
  if ((processing_hold || order.status == "processing") && !processing_retry_after_.empty()) {
    r.headers.emplace_back("retry-after", processing_retry_after_);
  }
  return r;
}

json FakeAcmeServer::ChallengeJson(const Challenge& c) const {
  json j = {{"type", c.type}, {"url", url(c.path)}, {"status", c.status}, {"token", c.token}};
  if (c.status == "valid") j["validated"] = Rfc3339(clock_.Now());
  if (!c.error.is_null()) j["error"] = c.error;
  return j;
}

json FakeAcmeServer::AuthzJson(const Authz& a) const {
  json challenges = json::array();
  for (const auto& c : a.challenge_paths) challenges.push_back(ChallengeJson(*challenges_.at(c)));
  json j = {{"identifier", {{"type", a.identifier_type}, {"value", a.identifier_value}}},
            {"status", a.status},
            {"expires", Rfc3339(clock_.Now() + std::chrono::hours(24 * 7))},
            {"challenges", challenges}};
  if (a.wildcard) j["wildcard"] = true;
  return j;
}

HttpResponse FakeAcmeServer::AuthzRequest(Authz& authz, const Jws& jws) {
  if (jws.payload_json.is_object() && jws.payload_json.value("status", "") == "deactivated") {
    authz.status = "deactivated";
  } else if (!jws.post_as_get) {
    return Problem(400, "malformed", "authorization fetch must be POST-as-GET");
  }
  // A challenge the client responded to is validated by the time the client looks again.
  for (const auto& c : authz.challenge_paths) {
    Challenge& ch = *challenges_[c];
    if (ch.status != "processing") continue;
    auto failing = failing_validation_.find(authz.identifier_value);
    if (failing != failing_validation_.end()) {
      ch.status = "invalid";
      ch.error = failing->second;
      authz.status = "invalid";
    } else {
      ch.status = "valid";
      authz.status = "valid";
    }
  }
  return Json(200, AuthzJson(authz));
}

HttpResponse FakeAcmeServer::ChallengeRequest(Challenge& challenge, const Jws& jws) {
  if (!jws.post_as_get) {
    // §7.5.1: the response is the payload "{}".
    if (!jws.payload_json.is_object() || !jws.payload_json.empty()) {
      return Problem(400, "malformed", "challenge response payload must be {}");
    }
    if (challenge.status == "pending") challenge.status = "processing";
  }
  HttpResponse r = Json(200, ChallengeJson(challenge));
  r.headers.emplace_back("link", "<" + url(challenge.authz_path) + ">;rel=\"up\"");
  return r;
}

HttpResponse FakeAcmeServer::Finalize(Order& order, const Jws& jws) {
  RefreshOrderStatus(order);
  if (order.status != "ready") {
    return Problem(403, "orderNotReady", "order is " + order.status + ", not ready");
  }
  const json& p = jws.payload_json;
  auto der =
      p.is_object() && p["csr"].is_string() ? Decode(p["csr"].get<std::string>()) : std::nullopt;
  if (!der) return Problem(400, "malformed", "csr must be base64url DER");
  const unsigned char* in = reinterpret_cast<const unsigned char*>(der->data());
  ReqPtr req(d2i_X509_REQ(nullptr, &in, static_cast<long>(der->size())));
  if (!req) return Problem(400, "badCSR", "CSR is not DER PKCS#10");
  std::shared_ptr<EVP_PKEY> key = Share(X509_REQ_get_pubkey(req.get()));
  if (!key || X509_REQ_verify(req.get(), key.get()) != 1) {
    return Problem(400, "badCSR", "CSR signature does not verify");
  }
  std::vector<std::string> names = CsrNames(req.get());
  std::vector<std::string> wanted;
  for (const auto& id : order.identifiers) wanted.push_back(id.value("value", ""));
  std::sort(wanted.begin(), wanted.end());
  if (names != wanted) return Problem(400, "badCSR", "CSR names do not match the order");
  order.cert_path = IssueCertificate(order, key.get(), names);
  order.polls_left = processing_polls_;
  order.status = processing_polls_ > 0 ? "processing" : "valid";
  HttpResponse r = Json(200, OrderBody(order));
  if (order.status == "processing" && !processing_retry_after_.empty()) {
    r.headers.emplace_back("retry-after", processing_retry_after_);
  }
  r.headers.emplace_back("location", url(order.path));
  return r;
}

std::string FakeAcmeServer::IssueCertificate(Order& order, EVP_PKEY* subject_key,
                                             const std::vector<std::string>& names) {
  auto issued = std::make_unique<Issued>();
  issued->serial = 0x80 + next_id_;  // high bit set: exercises the DER leading zero in ARI
  issued->account_url = order.account_url;
  issued->not_after = clock_.Now() + std::chrono::hours(24 * 90);
  EVP_PKEY_up_ref(subject_key);
  issued->public_key = Share(subject_key);
  CertSpec spec;
  spec.not_before = clock_.Now();
  spec.not_after = issued->not_after;
  spec.serial = issued->serial;
  for (const auto& n : names) {
    bool ip =
        n.find(':') != std::string::npos || n.find_first_not_of("0123456789.") == std::string::npos;
    (ip ? spec.ip_addresses : spec.dns_names).push_back(n);
  }
  // Issuer name only matters for display; use the intermediate's subject via a parsed copy.
  BIO* bio = BIO_new_mem_buf(intermediate_by_root1_pem_.data(),
                             static_cast<int>(intermediate_by_root1_pem_.size()));
  X509Ptr intermediate(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  X509Ptr leaf = MakeCertificate(spec, subject_key, intermediate_key_.get(), intermediate.get());
  AddAki(leaf.get(), KeyId(intermediate_key_.get()), intermediate_key_.get());
  std::string leaf_pem = CertificateToPem(leaf.get());
  issued->default_pem = leaf_pem + intermediate_by_root1_pem_;
  issued->alternate_pem = leaf_pem + intermediate_by_root2_pem_;
  std::string path = "/cert/" + std::to_string(next_id_++);
  certificates_[path] = std::move(issued);
  return path;
}

// §7.4.2: the alternate is linked with a relative reference, resolved against the request URL.
HttpResponse FakeAcmeServer::Certificate(const std::string& path) {
  bool alternate = path.size() > 4 && path.substr(path.size() - 4) == "/alt";
  std::string base = alternate ? path.substr(0, path.size() - 4) : path;
  auto it = certificates_.find(base);
  if (it == certificates_.end()) return Problem(404, "malformed", "no such certificate");
  HttpResponse r = Json(200, json::object());
  r.headers[0].second = "application/pem-certificate-chain";
  r.body = alternate ? it->second->alternate_pem : it->second->default_pem;
  std::string id = base.substr(std::string("/cert/").size());
  if (alternate) {
    r.headers.emplace_back("link", "<" + url(base) + ">; rel=\"alternate\"");
  } else {
    r.headers.emplace_back("link", "<" + id + "/alt>; rel=\"alternate\"; title=\"X2, chain\"");
  }
  return r;
}

// §7.6
HttpResponse FakeAcmeServer::Revoke(Account* account, const Jws& jws) {
  const json& p = jws.payload_json;
  auto der = p.is_object() && p["certificate"].is_string()
                 ? Decode(p["certificate"].get<std::string>())
                 : std::nullopt;
  if (!der) return Problem(400, "malformed", "certificate must be base64url DER");
  const unsigned char* in = reinterpret_cast<const unsigned char*>(der->data());
  X509Ptr cert(d2i_X509(nullptr, &in, static_cast<long>(der->size())));
  if (!cert) return Problem(400, "malformed", "not a DER certificate");
  long serial = ASN1_INTEGER_get(X509_get0_serialNumber(cert.get()));
  Issued* issued = nullptr;
  for (auto& [path, i] : certificates_) {
    if (i->serial == serial) issued = i.get();
  }
  if (issued == nullptr) return Problem(404, "malformed", "certificate not issued here");
  if (account != nullptr
          ? account->url != issued->account_url
          : EVP_PKEY_eq(PublicKeyFromJwk(jws.jwk).get(), issued->public_key.get()) != 1) {
    return Problem(403, "unauthorized", "not authorized to revoke this certificate");
  }
  int reason = p.value("reason", 0);
  if (reason == 2 || reason < 0 || reason > 10) {
    return Problem(400, "badRevocationReason", "unsupported revocation reason");
  }
  std::string hex = SerialHex(serial);
  if (revoked_.count(hex)) return Problem(400, "alreadyRevoked", "certificate already revoked");
  revoked_.insert(hex);
  if (p.contains("reason")) revocation_reasons_[hex] = reason;
  HttpResponse r = Json(200, json::object());
  r.body.clear();
  return r;
}

// RFC 9773 §4.2
HttpResponse FakeAcmeServer::RenewalInfo(const std::string& cert_id) {
  std::string key_id = KeyId(intermediate_key_.get());
  for (const auto& [path, issued] : certificates_) {
    std::string id = Base64UrlEncode(key_id) + "." + Base64UrlEncode(SerialOctets(issued->serial));
    if (id != cert_id) continue;
    json body = {{"suggestedWindow",
                  {{"start", Rfc3339(issued->not_after - std::chrono::hours(24 * 10))},
                   {"end", Rfc3339(issued->not_after - std::chrono::hours(24 * 5))}}},
                 {"explanationURL", url("/why")}};
    HttpResponse r;
    r.status = 200;
    r.headers = {{"content-type", "application/json"}};
    if (!renewal_retry_after_.empty()) r.headers.emplace_back("retry-after", renewal_retry_after_);
    r.body = body.dump();
    return r;
  }
  return Problem(404, "malformed", "unknown certificate ID");
}

}  // namespace certsmith::acme::testing
