// OpenSSL's default verify paths as certsmith's binaries see them (common/src/cpprest_transport.cc):
// the system roots are parsed once per process, on first need, and shared by every SSL_CTX that
// asks for them, whoever asks (cpprestsdk asks for each new connection).
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <openssl/x509v3.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "certsmith/http_transport.h"
#include "certsmith/trust_roots.h"

namespace certsmith {
namespace {

// The first certificate of the system bundle, parsed here, or null.
X509* FirstSystemRoot() {
  const char* file = std::getenv(X509_get_default_cert_file_env());
  BIO* bio = BIO_new_file(file ? file : X509_get_default_cert_file(), "r");
  if (bio == nullptr) return nullptr;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// The certificate a context's store gives for a subject (through its lookups), or null.
X509* Lookup(SSL_CTX* ctx, const X509_NAME* subject) {
  X509_STORE_CTX* sctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx), nullptr, nullptr);
  X509_OBJECT* obj =
      X509_STORE_CTX_get_obj_by_subject(sctx, X509_LU_X509, const_cast<X509_NAME*>(subject));
  X509* cert = obj ? X509_OBJECT_get0_X509(obj) : nullptr;
  if (cert) X509_up_ref(cert);
  X509_OBJECT_free(obj);
  X509_STORE_CTX_free(sctx);
  return cert;
}

TEST(DefaultVerifyPaths, SystemRootsAreParsedOnceOnFirstNeedAndShared) {
  ASSERT_NE(MakeCpprestTransport({}), nullptr);  // the transport is what brings the definition
  X509* root = FirstSystemRoot();
  if (root == nullptr) GTEST_SKIP() << "no system CA bundle on this machine";
  SSL_CTX* a = SSL_CTX_new(TLS_client_method());
  SSL_CTX* b = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_set_default_verify_paths(a), 1);
  ASSERT_EQ(SSL_CTX_set_default_verify_paths(b), 1);
  // Nothing is parsed into a context's store until a verification asks for an issuer.
  X509_STORE_lock(SSL_CTX_get_cert_store(a));
  EXPECT_EQ(sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(a))), 0);
  X509_STORE_unlock(SSL_CTX_get_cert_store(a));
  X509* in_a = Lookup(a, X509_get_subject_name(root));
  X509* in_b = Lookup(b, X509_get_subject_name(root));
  ASSERT_NE(in_a, nullptr);
  EXPECT_EQ(X509_cmp(in_a, root), 0);
  // The same X509 object for both, not two parses of the same file.
  EXPECT_EQ(in_a, in_b);
  // Each context has a store of its own: what one adds, the other does not trust.
  EXPECT_NE(SSL_CTX_get_cert_store(a), SSL_CTX_get_cert_store(b));
  X509_free(in_a);
  X509_free(in_b);
  X509_free(root);
  SSL_CTX_free(a);
  SSL_CTX_free(b);
}

// Counts the frees of the one X509 marked with kMarker in its ex_data.
int freed_marked = 0;
int kMarker = 0;
void CountFree(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
               void* /*argp*/) {
  if (ptr == &kMarker) ++freed_marked;
}

// A P-256 certificate for `cn`, issued by (issuer, issuer_key), or self-signed when issuer is null.
X509* MakeCert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ca ? 1 : 2);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  if (ca) {
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

// A root found by the lookup is held by the store that asked, and by whoever asked it for the
// chain, and by nobody else: once they and the roots' own store are gone, it is freed. (Taking a
// reference for the lookup's answer, which OpenSSL never drops, kept every root ever looked up
// for the whole process.)
TEST(RootsLookup, FindsTheIssuerAndKeepsNoReferenceOfItsOwn) {
  int index = X509_get_ex_new_index(0, nullptr, nullptr, nullptr, CountFree);
  ASSERT_GE(index, 0);
  EVP_PKEY* ca_key = EVP_EC_gen("P-256");
  EVP_PKEY* leaf_key = EVP_EC_gen("P-256");
  ASSERT_NE(ca_key, nullptr);
  ASSERT_NE(leaf_key, nullptr);
  X509* ca = MakeCert("certsmith test root", ca_key, nullptr, nullptr, true);
  X509* leaf = MakeCert("leaf.example", leaf_key, ca, ca_key, false);
  ASSERT_EQ(X509_set_ex_data(ca, index, &kMarker), 1);
  X509_STORE* roots = X509_STORE_new();
  ASSERT_EQ(X509_STORE_add_cert(roots, ca), 1);
  X509_free(ca);  // the roots' store holds it now

  X509_STORE* store = X509_STORE_new();
  ASSERT_TRUE(AddRootsLookup(store, roots));
  for (int round = 0; round < 2; ++round) {  // the second finds it in the store itself
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    ASSERT_EQ(X509_STORE_CTX_init(ctx, store, leaf, nullptr), 1);
    EXPECT_EQ(X509_verify_cert(ctx), 1)
        << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
    ASSERT_EQ(sk_X509_num(chain), 2);
    X509* anchor = sk_X509_value(chain, 1);
    // The roots' own object, not a copy.
    X509_STORE_lock(roots);
    X509_OBJECT* in_roots = X509_OBJECT_retrieve_by_subject(
        X509_STORE_get0_objects(roots), X509_LU_X509, X509_get_subject_name(anchor));
    EXPECT_EQ(in_roots ? X509_OBJECT_get0_X509(in_roots) : nullptr, anchor);
    X509_STORE_unlock(roots);
    X509_STORE_CTX_free(ctx);
  }
  X509_STORE_free(store);
  EXPECT_EQ(freed_marked, 0);  // the roots' store still holds it
  X509_STORE_free(roots);
  EXPECT_EQ(freed_marked, 1);
  X509_free(leaf);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(leaf_key);
}

}  // namespace
}  // namespace certsmith
