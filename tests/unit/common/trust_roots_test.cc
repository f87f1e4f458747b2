// OpenSSL's default verify paths as certsmith's binaries see them (common/src/cpprest_transport.cc):
// the system roots are parsed once per process and shared by every SSL_CTX that asks for them,
// whoever asks (cpprestsdk asks for each new connection).
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include "certsmith/http_transport.h"

namespace certsmith {
namespace {

struct Certs {
  explicit Certs(SSL_CTX* ctx) : certs(X509_STORE_get1_all_certs(SSL_CTX_get_cert_store(ctx))) {}
  ~Certs() { sk_X509_pop_free(certs, X509_free); }
  STACK_OF(X509)* certs;
};

TEST(DefaultVerifyPaths, SystemRootsAreParsedOnceAndShared) {
  ASSERT_NE(MakeCpprestTransport({}), nullptr);  // the transport is what brings the definition
  SSL_CTX* a = SSL_CTX_new(TLS_client_method());
  SSL_CTX* b = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_set_default_verify_paths(a), 1);
  ASSERT_EQ(SSL_CTX_set_default_verify_paths(b), 1);
  Certs ca(a), cb(b);
  ASSERT_EQ(sk_X509_num(ca.certs), sk_X509_num(cb.certs));
  if (sk_X509_num(ca.certs) == 0) GTEST_SKIP() << "no system roots on this machine";
  // The same X509 objects, not two parses of the same file.
  EXPECT_EQ(sk_X509_value(ca.certs, 0), sk_X509_value(cb.certs, 0));
  // Each context has a store of its own: what one adds, the other does not trust.
  EXPECT_NE(SSL_CTX_get_cert_store(a), SSL_CTX_get_cert_store(b));
  SSL_CTX_free(a);
  SSL_CTX_free(b);
}

}  // namespace
}  // namespace certsmith
