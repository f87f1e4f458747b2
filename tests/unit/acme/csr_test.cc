#include "acme/csr.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "unit/acme/crypto_test_util.h"

namespace certsmith::acme {
namespace {

// --- ParseSubject / FormatSubject -------------------------------------------------------------

TEST(ParseSubjectTest, ParsesOvSubject) {
  auto s = ParseSubject("O=Example Org,OU=IT,C=FR,ST=Ile-de-France,L=Paris");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->organizations, std::vector<std::string>{"Example Org"});
  EXPECT_EQ(s->organizational_units, std::vector<std::string>{"IT"});
  EXPECT_EQ(s->countries, std::vector<std::string>{"FR"});
  EXPECT_EQ(s->provinces, std::vector<std::string>{"Ile-de-France"});
  EXPECT_EQ(s->localities, std::vector<std::string>{"Paris"});
  EXPECT_TRUE(s->common_name.empty());
  EXPECT_FALSE(s->empty());
}

TEST(ParseSubjectTest, HandlesEscapesSpacesCaseAndLongNames) {
  auto s = ParseSubject(
      " cn = www.example.org , organizationName=Example\\, Inc.,OU=R\\2CD, street=1 rue de la "
      "Paix,postalCode=75002,SERIALNUMBER=ABC123,OU=Ops,c=fr, S=IDF, L=\\ Paris\\ ");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->common_name, "www.example.org");
  EXPECT_EQ(s->organizations, std::vector<std::string>{"Example, Inc."});
  EXPECT_EQ(s->organizational_units, (std::vector<std::string>{"R,D", "Ops"}));
  EXPECT_EQ(s->street_addresses, std::vector<std::string>{"1 rue de la Paix"});
  EXPECT_EQ(s->postal_codes, std::vector<std::string>{"75002"});
  EXPECT_EQ(s->serial_number, "ABC123");
  EXPECT_EQ(s->countries, std::vector<std::string>{"FR"});
  EXPECT_EQ(s->provinces, std::vector<std::string>{"IDF"});
  EXPECT_EQ(s->localities, std::vector<std::string>{" Paris "});  // escaped spaces kept
}

TEST(ParseSubjectTest, EmptyTextIsAnEmptySubject) {
  auto s = ParseSubject("");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
}

TEST(ParseSubjectTest, RejectsUnknownAttributeNamingIt) {
  auto s = ParseSubject("O=Example,EMAIL=a@example.org");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("\"EMAIL\""), std::string::npos) << s.status().message();
}

TEST(ParseSubjectTest, RejectsBadCountry) {
  for (const char* text : {"C=FRA", "C=F", "C=1A", "C="}) {
    auto s = ParseSubject(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.status().message().find("C"), std::string::npos);
  }
}

TEST(ParseSubjectTest, RejectsMalformedText) {
  for (const char* text : {"O", "O=a,,OU=b", "=x", "O=a,", "O=a\\", "CN=a,CN=b", "O=,OU=x"}) {
    EXPECT_FALSE(ParseSubject(text).ok()) << text;
  }
}

TEST(FormatSubjectTest, RoundTripsThroughParseSubject) {
  Subject s;
  s.common_name = "a.example";
  s.organizations = {"Example, Inc."};
  s.organizational_units = {"IT", "R+D"};
  s.countries = {"FR"};
  s.localities = {" Paris"};
  s.serial_number = "42";
  std::string text = FormatSubject(s);
  EXPECT_EQ(text.rfind("CN=a.example,serialNumber=42,OU=IT,OU=R\\+D,O=Example\\, Inc.", 0), 0u)
      << text;
  auto back = ParseSubject(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(FormatSubject(*back), text);
  EXPECT_EQ(back->localities, s.localities);
}

// --- names ----------------------------------------------------------------------------------

TEST(NormalizeTest, DnsNamesAreLowerCaseWithoutTrailingDot) {
  EXPECT_EQ(NormalizeDnsName("WWW.Example.ORG."), "www.example.org");
  EXPECT_EQ(NormalizeDnsName("*.example.org"), "*.example.org");
  EXPECT_EQ(NormalizeDnsName(""), "");
}

TEST(NormalizeTest, IpAddressesGetCanonicalText) {
  EXPECT_EQ(*NormalizeIpAddress("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(*NormalizeIpAddress("2001:DB8:0:0::0:1"), "2001:db8::1");
  EXPECT_EQ(*NormalizeIpAddress("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
  EXPECT_FALSE(NormalizeIpAddress("300.1.1.1").ok());
  EXPECT_FALSE(NormalizeIpAddress("example.org").ok());
  EXPECT_FALSE(NormalizeIpAddress("").ok());
}

// --- MakeCsrDer, checked by parsing the DER back with OpenSSL -----------------------------

struct ReqDeleter {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
using ReqPtr = std::unique_ptr<X509_REQ, ReqDeleter>;

ReqPtr ParseReq(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return ReqPtr(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
}

std::vector<std::string> Entries(X509_REQ* req, int nid) {
  std::vector<std::string> out;
  X509_NAME* name = X509_REQ_get_subject_name(req);
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     ASN1_STRING_length(data));
  }
  return out;
}

struct Sans {
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  bool critical = false;
  bool present = false;
};

Sans ReadSans(X509_REQ* req) {
  Sans sans;
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    sans.present = true;
    sans.critical = X509_EXTENSION_get_critical(ext) == 1;
    auto* gens = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
    for (int j = 0; j < sk_GENERAL_NAME_num(gens); ++j) {
      GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, j);
      int type = 0;
      auto* value = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(g, &type));
      std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                        ASN1_STRING_length(value));
      if (type == GEN_DNS) sans.dns.push_back(bytes);
      if (type == GEN_IPADD) sans.ips.push_back(bytes);
    }
    GENERAL_NAMES_free(gens);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return sans;
}

class CsrTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new PrivateKey(*PrivateKey::Generate(KeyType::kRsa2048));
    ec_ = new PrivateKey(*PrivateKey::Generate(KeyType::kEcdsaP384));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
  }
  static PrivateKey* rsa_;
  static PrivateKey* ec_;
};
PrivateKey* CsrTest::rsa_ = nullptr;
PrivateKey* CsrTest::ec_ = nullptr;

TEST_F(CsrTest, OvCsrCarriesSubjectSansAndAValidSha256Signature) {
  CsrRequest request;
  request.subject = *ParseSubject(
      "CN=www.example.fr,O=Exemple SA,OU=IT,OU=Web,C=FR,ST=Île-de-France,L=Paris,"
      "STREET=1 rue de la Paix,postalCode=75002,serialNumber=RCS-123");
  request.dns_names = {"WWW.example.fr.", "example.fr", "www.example.fr"};
  request.ip_addresses = {"192.0.2.10", "2001:db8::10"};
  auto der = MakeCsrDer(*rsa_, request);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  ReqPtr req = ParseReq(*der);
  ASSERT_NE(req, nullptr);

  EXPECT_EQ(X509_REQ_verify(req.get(), X509_REQ_get0_pubkey(req.get())), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(req.get()), rsa_->get()), 1);
  EXPECT_EQ(X509_REQ_get_signature_nid(req.get()), NID_sha256WithRSAEncryption);
  EXPECT_EQ(X509_REQ_get_version(req.get()), 0);

  EXPECT_EQ(Entries(req.get(), NID_commonName), std::vector<std::string>{"www.example.fr"});
  EXPECT_EQ(Entries(req.get(), NID_organizationName), std::vector<std::string>{"Exemple SA"});
  EXPECT_EQ(Entries(req.get(), NID_organizationalUnitName),
            (std::vector<std::string>{"IT", "Web"}));
  EXPECT_EQ(Entries(req.get(), NID_countryName), std::vector<std::string>{"FR"});
  EXPECT_EQ(Entries(req.get(), NID_stateOrProvinceName), std::vector<std::string>{"Île-de-France"});
  EXPECT_EQ(Entries(req.get(), NID_localityName), std::vector<std::string>{"Paris"});
  EXPECT_EQ(Entries(req.get(), NID_streetAddress), std::vector<std::string>{"1 rue de la Paix"});
  EXPECT_EQ(Entries(req.get(), NID_postalCode), std::vector<std::string>{"75002"});
  EXPECT_EQ(Entries(req.get(), NID_serialNumber), std::vector<std::string>{"RCS-123"});

  Sans sans = ReadSans(req.get());
  ASSERT_TRUE(sans.present);
  EXPECT_FALSE(sans.critical);
  EXPECT_EQ(sans.dns, (std::vector<std::string>{"www.example.fr", "example.fr"}));
  ASSERT_EQ(sans.ips.size(), 2u);
  EXPECT_EQ(sans.ips[0], std::string("\xc0\x00\x02\x0a", 4));
  EXPECT_EQ(sans.ips[1].size(), 16u);
  EXPECT_EQ(sans.ips[1].substr(0, 4), std::string("\x20\x01\x0d\xb8", 4));
  EXPECT_EQ(sans.ips[1].back(), '\x10');
}

TEST_F(CsrTest, NoSubjectMeansCriticalSanAndEcdsaSha256) {
  CsrRequest request;
  request.dns_names = {"*.example.org"};
  auto der = MakeCsrDer(*ec_, request);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  ReqPtr req = ParseReq(*der);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(X509_NAME_entry_count(X509_REQ_get_subject_name(req.get())), 0);
  EXPECT_EQ(X509_REQ_verify(req.get(), ec_->get()), 1);
  EXPECT_EQ(X509_REQ_get_signature_nid(req.get()), NID_ecdsa_with_SHA256);
  Sans sans = ReadSans(req.get());
  EXPECT_TRUE(sans.critical);
  EXPECT_EQ(sans.dns, std::vector<std::string>{"*.example.org"});
}

TEST_F(CsrTest, IpOnlyCsrWithIpCommonName) {
  CsrRequest request;
  request.subject.common_name = "2001:DB8::1";
  request.ip_addresses = {"2001:db8:0::1"};
  auto der = MakeCsrDer(*ec_, request);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  Sans sans = ReadSans(ParseReq(*der).get());
  EXPECT_TRUE(sans.dns.empty());
  EXPECT_EQ(sans.ips.size(), 1u);
}

TEST_F(CsrTest, RejectsBadInputWithClearMessages) {
  struct Case {
    CsrRequest request;
    const char* expect;
  };
  CsrRequest none;
  CsrRequest bad_ip;
  bad_ip.dns_names = {"a.example"};
  bad_ip.ip_addresses = {"10.0.0.256"};
  CsrRequest bad_dns;
  bad_dns.dns_names = {"a b.example"};
  CsrRequest unicode;
  unicode.dns_names = {"café.example"};
  CsrRequest stray_cn;
  stray_cn.subject.common_name = "other.example";
  stray_cn.dns_names = {"a.example"};
  CsrRequest long_cn;
  long_cn.subject.common_name = std::string(60, 'a') + ".example";  // CN max is 64
  long_cn.dns_names = {long_cn.subject.common_name};
  for (const Case& c :
       {Case{none, "at least one"}, Case{bad_ip, "10.0.0.256"}, Case{bad_dns, "a b.example"},
        Case{unicode, "punycode"}, Case{stray_cn, "other.example"}, Case{long_cn, "CN"}}) {
    auto der = MakeCsrDer(*ec_, c.request);
    ASSERT_FALSE(der.ok()) << c.expect;
    EXPECT_EQ(der.status().code(), ErrorCode::kInvalidArgument) << der.status().ToString();
    EXPECT_NE(der.status().message().find(c.expect), std::string::npos) << der.status().message();
  }
}

}  // namespace
}  // namespace certsmith::acme
