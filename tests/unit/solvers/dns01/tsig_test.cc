// TSIG (RFC 8945): every algorithm signs, ldns's own verifier accepts certsmith's MACs for the
// algorithms it implements, answers are checked (a tampered or foreign one refused), and no
// message ever holds the secret.
#include "solvers/dns01/tsig.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include "certsmith/base64.h"
#include "solvers/dns01/ldns_ptr.h"
#include "solvers/dns01/tsig_wire.h"

namespace certsmith::solvers::dns01 {
namespace {

using internal::BytesPtr;
using internal::PktPtr;
using internal::RdfPtr;

constexpr char kSecretB64[] = "c2VjcmV0LWtleS1ieXRlcy1mb3ItdHNpZy10ZXN0cw==";
constexpr uint64_t kNow = 1'700'000'000;

TsigKey Key(TsigAlgorithm a, const std::string& secret_b64 = kSecretB64) {
  return MakeTsigKey("test-key.", a, secret_b64).value();
}

PktPtr UpdatePacket() {
  RdfPtr zone(ldns_dname_new_frm_str("example."));
  ldns_rr* rr = nullptr;
  EXPECT_EQ(
      ldns_rr_new_frm_str(&rr, "_acme-challenge.a.example. 60 IN TXT \"v1\"", 0, nullptr, nullptr),
      LDNS_STATUS_OK);
  ldns_rr_list* list = ldns_rr_list_new();
  ldns_rr_list_push_rr(list, rr);
  PktPtr pkt(ldns_update_pkt_new(zone.release(), LDNS_RR_CLASS_IN, nullptr, list, nullptr));
  ldns_rr_list_deep_free(list);
  ldns_pkt_set_id(pkt.get(), 4242);
  return pkt;
}

std::string Wire(const ldns_pkt* pkt) {
  uint8_t* raw = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&raw, pkt, &size), LDNS_STATUS_OK);
  BytesPtr owned(raw);
  return std::string(reinterpret_cast<char*>(raw), size);
}

const TsigAlgorithm kAll[] = {TsigAlgorithm::kHmacMd5,    TsigAlgorithm::kHmacSha1,
                              TsigAlgorithm::kHmacSha224, TsigAlgorithm::kHmacSha256,
                              TsigAlgorithm::kHmacSha384, TsigAlgorithm::kHmacSha512};

TEST(TsigAlgorithmTest, ParsesTheApiNamesAndDefaultsToHmacSha256) {
  EXPECT_EQ(ParseTsigAlgorithm("").value(), TsigAlgorithm::kHmacSha256);
  const std::pair<const char*, TsigAlgorithm> cases[] = {
      {"HMACMD5", TsigAlgorithm::kHmacMd5},
      {"HMACSHA1", TsigAlgorithm::kHmacSha1},
      {"HMACSHA224", TsigAlgorithm::kHmacSha224},
      {"HMACSHA256", TsigAlgorithm::kHmacSha256},
      {"HMACSHA384", TsigAlgorithm::kHmacSha384},
      {"HMACSHA512", TsigAlgorithm::kHmacSha512},
      {"hmac-sha384", TsigAlgorithm::kHmacSha384},
      {"hmac-md5.sig-alg.reg.int.", TsigAlgorithm::kHmacMd5},
      {"hmac-md5", TsigAlgorithm::kHmacMd5}};
  for (const auto& [name, want] : cases) {
    auto got = ParseTsigAlgorithm(name);
    ASSERT_TRUE(got.ok()) << name;
    EXPECT_EQ(*got, want) << name;
  }
  auto bad = ParseTsigAlgorithm("HMACSHA3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("HMACSHA224"), std::string::npos);
}

TEST(TsigAlgorithmTest, NamesAndMacSizesFollowRfc8945) {
  EXPECT_STREQ(TsigAlgorithmDnsName(TsigAlgorithm::kHmacMd5), "hmac-md5.sig-alg.reg.int.");
  EXPECT_STREQ(TsigAlgorithmDnsName(TsigAlgorithm::kHmacSha224), "hmac-sha224.");
  EXPECT_STREQ(TsigAlgorithmDnsName(TsigAlgorithm::kHmacSha384), "hmac-sha384.");
  const size_t sizes[] = {16, 20, 28, 32, 48, 64};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(TsigMacSize(kAll[i]), sizes[i]);
}

TEST(TsigKeyTest, TheSecretIsDecodedLenientlyAndNeverShown) {
  const std::string raw = "secret-key-bytes-for-tsig-tests";
  for (const std::string& form : {std::string(kSecretB64),
                                  std::string(" c2VjcmV0LWtleS1ieXRlcy"
                                              "1mb3ItdHNpZy10ZXN0cw \n"),
                                  Base64UrlEncode(raw)}) {
    auto key = MakeTsigKey("Test-Key", TsigAlgorithm::kHmacSha256, form);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(key->secret, raw);
    EXPECT_EQ(key->name, "test-key.");
    EXPECT_EQ(key->Describe(), "test-key. (hmac-sha256)");
  }
  const std::string wrong = "not*base64*at*all-but-secret";
  auto bad = MakeTsigKey("k.", TsigAlgorithm::kHmacSha256, wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("secret*base64"), std::string::npos);
  EXPECT_EQ(bad.status().message().find(wrong), std::string::npos);
  EXPECT_NE(bad.status().message().find("k. (hmac-sha256)"), std::string::npos);
  EXPECT_FALSE(MakeTsigKey("k.", TsigAlgorithm::kHmacSha256, "").ok());
}

// Each algorithm signs: the TSIG record names it, carries a MAC of its size, the time, the
// fudge and the message's ID (RFC 8945 §4.2).
TEST(TsigSignTest, EveryAlgorithmSigns) {
  for (TsigAlgorithm a : kAll) {
    SCOPED_TRACE(TsigAlgorithmApiName(a));
    PktPtr pkt = UpdatePacket();
    auto mac = internal::TsigSign(pkt.get(), Key(a), kNow);
    ASSERT_TRUE(mac.ok()) << mac.status().ToString();
    EXPECT_EQ(mac->size(), TsigMacSize(a));
    const ldns_rr* tsig = ldns_pkt_tsig(pkt.get());
    ASSERT_NE(tsig, nullptr);
    RdfPtr want_alg(ldns_dname_new_frm_str(TsigAlgorithmDnsName(a)));
    EXPECT_EQ(ldns_dname_compare(ldns_rr_rdf(tsig, 0), want_alg.get()), 0);
    EXPECT_EQ(ldns_rdf_size(ldns_rr_rdf(tsig, 3)), TsigMacSize(a) + 2);
    EXPECT_EQ(ldns_rdf2native_int16(ldns_rr_rdf(tsig, 2)), 300);
    EXPECT_EQ(ldns_rdf2native_int16(ldns_rr_rdf(tsig, 4)), 4242);
    // A different secret gives a different MAC.
    PktPtr other = UpdatePacket();
    auto other_mac = internal::TsigSign(other.get(), Key(a, Base64Encode("another secret")), kNow);
    ASSERT_TRUE(other_mac.ok());
    EXPECT_NE(*mac, *other_mac);
  }
}

// ldns implements the MAC for MD5, SHA-1, SHA-256 and SHA-512 (not SHA-224, and SHA-384 under
// a misspelt name): its verifier, an independent implementation, accepts certsmith's signature.
// (BIND checks all six in the conformance suite.)
TEST(TsigSignTest, LdnsVerifiesTheAlgorithmsItImplements) {
  for (TsigAlgorithm a : {TsigAlgorithm::kHmacMd5, TsigAlgorithm::kHmacSha1,
                          TsigAlgorithm::kHmacSha256, TsigAlgorithm::kHmacSha512}) {
    SCOPED_TRACE(TsigAlgorithmApiName(a));
    PktPtr pkt = UpdatePacket();
    ASSERT_TRUE(internal::TsigSign(pkt.get(), Key(a), kNow).ok());
    std::string wire = Wire(pkt.get());
    ldns_pkt* parsed_raw = nullptr;
    ASSERT_EQ(
        ldns_wire2pkt(&parsed_raw, reinterpret_cast<const uint8_t*>(wire.data()), wire.size()),
        LDNS_STATUS_OK);
    PktPtr parsed(parsed_raw);
    EXPECT_TRUE(ldns_pkt_tsig_verify(parsed.get(), reinterpret_cast<const uint8_t*>(wire.data()),
                                     wire.size(), "test-key.", kSecretB64, nullptr));
    EXPECT_FALSE(ldns_pkt_tsig_verify(parsed.get(), reinterpret_cast<const uint8_t*>(wire.data()),
                                      wire.size(), "test-key.", "d3Jvbmc=", nullptr));
  }
}

// A server's answer signed by ldns (as a server signs: over the request MAC, §5.3) is accepted;
// a changed byte, another key or a clock far off is not.
class TsigVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PktPtr request = UpdatePacket();
    request_mac_ = internal::TsigSign(request.get(), Key(TsigAlgorithm::kHmacSha256), kNow).value();
    answer_.reset(ldns_pkt_new());
    ldns_pkt_set_id(answer_.get(), 4242);
    ldns_pkt_set_qr(answer_.get(), true);
    ldns_pkt_set_opcode(answer_.get(), LDNS_PACKET_UPDATE);
  }
  // Signs answer_ at the current time with ldns (a real clock: the test checks skew with it).
  std::string SignedAnswer(const char* secret_b64 = kSecretB64) {
    RdfPtr mac(ldns_native2rdf_int16_data(request_mac_.size(),
                                          reinterpret_cast<uint8_t*>(request_mac_.data())));
    EXPECT_EQ(
        ldns_pkt_tsig_sign(answer_.get(), "test-key.", secret_b64, 300, "hmac-sha256.", mac.get()),
        LDNS_STATUS_OK);
    return Wire(answer_.get());
  }
  static uint64_t Now() { return static_cast<uint64_t>(time(nullptr)); }

  std::string request_mac_;
  PktPtr answer_;
};

TEST_F(TsigVerifyTest, AcceptsTheServersSignature) {
  std::string wire = SignedAnswer();
  auto checked = internal::TsigVerify(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(),
                                      Key(TsigAlgorithm::kHmacSha256), request_mac_, Now());
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_TRUE(checked->signed_);
  EXPECT_EQ(checked->error, 0);
}

TEST_F(TsigVerifyTest, RefusesATamperedOrForeignAnswer) {
  std::string wire = SignedAnswer();
  std::string tampered = wire;
  tampered[3] ^= 0x05;  // rcode bits: NOERROR would read as REFUSED
  auto bad =
      internal::TsigVerify(reinterpret_cast<const uint8_t*>(tampered.data()), tampered.size(),
                           Key(TsigAlgorithm::kHmacSha256), request_mac_, Now());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("does not verify"), std::string::npos);

  auto other_key =
      internal::TsigVerify(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(),
                           Key(TsigAlgorithm::kHmacSha256, Base64Encode("x")), request_mac_, Now());
  EXPECT_FALSE(other_key.ok());
  auto other_alg = internal::TsigVerify(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(),
                                        Key(TsigAlgorithm::kHmacSha512), request_mac_, Now());
  ASSERT_FALSE(other_alg.ok());
  EXPECT_NE(other_alg.status().message().find("another TSIG key"), std::string::npos);
  auto skewed = internal::TsigVerify(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(),
                                     Key(TsigAlgorithm::kHmacSha256), request_mac_, Now() + 3600);
  ASSERT_FALSE(skewed.ok());
  EXPECT_NE(skewed.status().message().find("clocks"), std::string::npos);
}

// BADSIG and BADKEY answers carry no MAC (§5.3.2): reported, not verified.
TEST_F(TsigVerifyTest, ReportsBadSigWithoutVerifying) {
  ldns_pkt_set_rcode(answer_.get(), LDNS_RCODE_NOTAUTH);
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_dname_new_frm_str("test-key."));
  ldns_rr_set_class(rr, LDNS_RR_CLASS_ANY);
  ldns_rr_set_type(rr, LDNS_RR_TYPE_TSIG);
  uint8_t time_bytes[6] = {0, 0, 0x65, 0x53, 0xf1, 0x00};
  ldns_rr_push_rdf(rr, ldns_dname_new_frm_str("hmac-sha256."));
  ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TSIGTIME, 6, time_bytes));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 300));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int16_data(0, nullptr));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 4242));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, kTsigBadSig));
  ldns_rr_push_rdf(rr, ldns_native2rdf_int16_data(0, nullptr));
  ldns_pkt_set_tsig(answer_.get(), rr);
  std::string wire = Wire(answer_.get());
  auto checked = internal::TsigVerify(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(),
                                      Key(TsigAlgorithm::kHmacSha256), request_mac_, Now());
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_EQ(checked->error, kTsigBadSig);
  EXPECT_EQ(TsigErrorName(checked->error), "BADSIG");
  EXPECT_EQ(TsigErrorName(kTsigBadKey), "BADKEY");
}

}  // namespace
}  // namespace certsmith::solvers::dns01
