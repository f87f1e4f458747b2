// The CSR fields cert-manager users set beyond names and OV subjects: URI, email and otherName
// SANs, a literal RFC 4514 subject, and key usages. Checked by parsing the DER back with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "acme/csr.h"

namespace certsmith::acme {
namespace {

struct ReqDeleter {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
using ReqPtr = std::unique_ptr<X509_REQ, ReqDeleter>;

ReqPtr Csr(const CsrRequest& request) {
  static const PrivateKey key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  auto der = MakeCsrDer(key, request);
  EXPECT_TRUE(der.ok()) << der.status().ToString();
  if (!der.ok()) return nullptr;
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  return ReqPtr(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())));
}

// Every extension of the CSR, by NID, as OpenSSL prints it ("DNS:a.example, URI:spiffe://...").
std::map<int, std::string> Extensions(X509_REQ* req) {
  std::map<int, std::string> out;
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    BIO* bio = BIO_new(BIO_s_mem());
    X509V3_EXT_print(bio, ext, 0, 0);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<size_t>(len));
    if (X509_EXTENSION_get_critical(ext)) text = "critical " + text;
    out[OBJ_obj2nid(X509_EXTENSION_get_object(ext))] = text;
    BIO_free(bio);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return out;
}

std::string SubjectText(X509_REQ* req) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_REQ_get_subject_name(req), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(len));
  BIO_free(bio);
  return text;
}

TEST(CsrFieldsTest, UriEmailAndOtherNameSansFollowTheDnsNames) {
  CsrRequest r;
  r.dns_names = {"a.example"};
  r.uris = {"spiffe://cluster.local/ns/shop/sa/web"};
  r.email_addresses = {"ops@example.org"};
  r.other_names = {{"1.3.6.1.4.1.311.20.2.3", "web@example.org"}};
  ReqPtr req = Csr(r);
  ASSERT_NE(req, nullptr);
  const std::string sans = Extensions(req.get())[NID_subject_alt_name];
  EXPECT_NE(sans.find("DNS:a.example"), std::string::npos) << sans;
  EXPECT_NE(sans.find("URI:spiffe://cluster.local/ns/shop/sa/web"), std::string::npos) << sans;
  EXPECT_NE(sans.find("email:ops@example.org"), std::string::npos) << sans;
  // OpenSSL prints a UPN otherName as "othername: UPN::web@example.org".
  EXPECT_NE(sans.find("UPN"), std::string::npos) << sans;
  EXPECT_NE(sans.find("web@example.org"), std::string::npos) << sans;
}

TEST(CsrFieldsTest, OtherNameValueIsAUtf8StringUnderItsOid) {
  CsrRequest r;
  r.dns_names = {"a.example"};
  r.other_names = {{"1.2.3.4.5", "zażółć"}};
  ReqPtr req = Csr(r);
  ASSERT_NE(req, nullptr);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  auto* gens =
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(gens, nullptr);
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
    ASN1_OBJECT* oid = nullptr;
    ASN1_TYPE* value = nullptr;
    if (GENERAL_NAME_get0_otherName(sk_GENERAL_NAME_value(gens, i), &oid, &value) != 1) continue;
    char text[64];
    OBJ_obj2txt(text, sizeof(text), oid, 1);
    EXPECT_STREQ(text, "1.2.3.4.5");
    ASSERT_EQ(value->type, V_ASN1_UTF8STRING);
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value->value.utf8string)),
                    ASN1_STRING_length(value->value.utf8string)),
        "zażółć");
    found = true;
  }
  EXPECT_TRUE(found);
  GENERAL_NAMES_free(gens);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

TEST(CsrFieldsTest, LiteralSubjectIsWrittenVerbatimInRfc4514Order) {
  CsrRequest r;
  r.dns_names = {"a.example"};
  // RFC 4514 lists the most significant RDN last; OIDs and escapes are allowed.
  r.literal_subject =
      "CN=a.example,OU=Web\\, Team,O=Example,1.2.840.113549.1.9.1=x@example.org,C=FR";
  ReqPtr req = Csr(r);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(SubjectText(req.get()),
            "CN=a.example,OU=Web\\, Team,O=Example,emailAddress=x@example.org,C=FR");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  // C first in the DER: the string's last RDN.
  EXPECT_EQ(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, 0))), NID_countryName);
}

TEST(CsrFieldsTest, LiteralSubjectWhoseCnIsNoSanIsLeftToTheCa) {
  CsrRequest r;
  r.dns_names = {"a.example"};
  r.literal_subject = "CN=Example Web Service,O=Example";
  EXPECT_NE(Csr(r), nullptr);
}

TEST(CsrFieldsTest, LiteralSubjectWithAnUnknownTypeIsAnError) {
  static const PrivateKey key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  CsrRequest r;
  r.dns_names = {"a.example"};
  r.literal_subject = "CN=a.example,NOTATYPE=x";
  auto der = MakeCsrDer(key, r);
  ASSERT_FALSE(der.ok());
  EXPECT_NE(der.status().message().find("NOTATYPE"), std::string::npos) << der.status().message();
}

TEST(CsrFieldsTest, UsagesBecomeKeyUsageAndExtendedKeyUsage) {
  CsrRequest r;
  r.dns_names = {"a.example"};
  r.usages = {"digital signature", "key encipherment", "server auth",
              "client auth",       "microsoft sgc",    "signing"};
  ReqPtr req = Csr(r);
  ASSERT_NE(req, nullptr);
  auto ext = Extensions(req.get());
  EXPECT_EQ(ext[NID_key_usage], "critical Digital Signature, Key Encipherment");
  EXPECT_EQ(ext[NID_ext_key_usage],
            "TLS Web Server Authentication, TLS Web Client Authentication, Microsoft Server Gated "
            "Crypto");
}

TEST(CsrFieldsTest, NoUsagesNoUsageExtensions) {
  CsrRequest r;
  r.dns_names = {"a.example"};
  ReqPtr req = Csr(r);
  ASSERT_NE(req, nullptr);
  auto ext = Extensions(req.get());
  EXPECT_EQ(ext.count(NID_key_usage), 0u);
  EXPECT_EQ(ext.count(NID_ext_key_usage), 0u);
}

TEST(CsrFieldsTest, BadUriOrEmailIsAnError) {
  static const PrivateKey key = *PrivateKey::Generate(KeyType::kEcdsaP256);
  CsrRequest r;
  r.dns_names = {"a.example"};
  r.uris = {"no-scheme"};
  EXPECT_FALSE(MakeCsrDer(key, r).ok());
  r.uris.clear();
  r.email_addresses = {"not-an-address"};
  EXPECT_FALSE(MakeCsrDer(key, r).ok());
  r.email_addresses.clear();
  r.other_names = {{"not.an.oid", "x"}};
  EXPECT_FALSE(MakeCsrDer(key, r).ok());
}

}  // namespace
}  // namespace certsmith::acme
