// OpenSSL's default verify paths as certsmith's binaries see them (common/src/cpprest_transport.cc):
// the system roots are parsed once per process, on first need, and shared by every SSL_CTX that
// asks for them, whoever asks (cpprestsdk asks for each new connection).
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "certsmith/http_transport.h"

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

}  // namespace
}  // namespace certsmith
