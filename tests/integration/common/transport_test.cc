// The cpprestsdk transport against a real TLS peer (a Python HTTPS server with a CA made here):
// CA bundle trust, TLS failure without it, repeated headers, bodies, streaming and cancel,
// connection refused.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "certsmith/http_transport.h"

namespace {
certsmith::HttpRequest Get(std::string url) {
  certsmith::HttpRequest r;
  r.url = std::move(url);
  return r;
}
}  // namespace

namespace certsmith {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("certsmith-transport-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    std::string d = dir_->string();
    std::string cmd =
        "cd " + d +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-keyout ca.key -out ca.pem -days 1 -subj /CN=transport-test-ca >/dev/null 2>&1 && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key "
        "-out srv.csr -subj /CN=localhost >/dev/null 2>&1 && "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && "
        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile ext.cnf -out srv.pem >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::string peer = std::string(CERTSMITH_TEST_SOURCE_DIR) + "/transport_peer.py";
    std::string run = "/usr/bin/python3 " + peer + " --cert " + d + "/srv.pem --key " + d +
                      "/srv.key --lifetime 120 2>/dev/null";
    peer_ = popen(run.c_str(), "r");
    ASSERT_NE(peer_, nullptr);
    char line[64] = {0};
    ASSERT_NE(fgets(line, sizeof line, peer_), nullptr);
    ASSERT_EQ(std::sscanf(line, "%d %d", &peer_pid_, &port_), 2);
    ASSERT_GT(port_, 0);
  }
  static void TearDownTestSuite() {
    // The peer also stops by itself (--lifetime) should this process die first.
    if (peer_pid_ > 0) kill(peer_pid_, SIGTERM);
    if (peer_) pclose(peer_);
    if (dir_) fs::remove_all(*dir_);
  }

  static std::string Url(const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  static std::unique_ptr<HttpTransport> Trusting() {
    TransportOptions o;
    o.tls.ca_pem = ReadFile(*dir_ / "ca.pem");
    o.tls.ca_only = true;
    o.user_agent = "certsmith-test";
    return MakeCpprestTransport(o);
  }

  static inline fs::path* dir_ = nullptr;
  static inline FILE* peer_ = nullptr;
  static inline int port_ = 0;
  static inline int peer_pid_ = 0;
};

TEST_F(TransportTest, TrustsGivenCaAndKeepsRepeatedHeaders) {
  auto t = Trusting();
  auto r = t->Send(Get(Url("/links")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->Header("replay-nonce").value_or(""), "n1");
  std::string links;
  for (const auto& v : r->Headers("Link")) links += v + ";;";
  EXPECT_NE(links.find("https://a/1"), std::string::npos);
  EXPECT_NE(links.find("https://a/2"), std::string::npos);
}

TEST_F(TransportTest, PostsBodyWithContentTypeAndUserAgent) {
  auto t = Trusting();
  HttpRequest req = Get(Url("/echo"));
  req.method = "POST";
  req.headers = {{"Content-Type", "application/jose+json"}, {"X-Test", "yes"}};
  req.body = "{\"x\":1}";
  auto r = t->Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "application/jose+json|certsmith-test|yes|{\"x\":1}");
}

TEST_F(TransportTest, NotFoundIsAResponseNotAnError) {
  auto r = Trusting()->Send(Get(Url("/missing")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
}

TEST_F(TransportTest, UnknownCaIsATlsErrorWithHint) {
  auto t = MakeCpprestTransport({});
  auto r = t->Send(Get(Url("/links")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kTls) << r.status().ToString();
  EXPECT_NE(r.status().message().find("CA bundle"), std::string::npos);
}

TEST_F(TransportTest, SkipVerifyAcceptsUnknownCa) {
  TransportOptions o;
  o.tls.insecure_skip_verify = true;
  auto r = MakeCpprestTransport(o)->Send(Get(Url("/links")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(TransportTest, CaBundleIsTrustedBesideTheSystemRoots) {
  TransportOptions o;
  o.tls.ca_pem = ReadFile(*dir_ / "ca.pem");  // ca_only false: system roots plus this CA
  auto r = MakeCpprestTransport(o)->Send(Get(Url("/links")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

// Every connection of a transport verifies with the one store the transport parsed: a second
// connection, opened while the first is held by a stream, trusts the same CA.
TEST_F(TransportTest, ConnectionsOfOneTransportShareItsTrustAnchors) {
  auto t = Trusting();
  auto s = t->Stream(Get(Url("/stream")));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto l1 = (*s)->ReadLine();
  ASSERT_TRUE(l1.ok() && l1->has_value()) << l1.status().ToString();
  for (int i = 0; i < 3; ++i) {  // the stream holds its connection: these need another one
    auto r = t->Send(Get(Url("/links")));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
  }
  (*s)->Cancel();
  // A transport of its own, given no CA, still trusts nothing of the other's.
  auto untrusting = MakeCpprestTransport({})->Send(Get(Url("/links")));
  ASSERT_FALSE(untrusting.ok());
  EXPECT_EQ(untrusting.status().code(), ErrorCode::kTls) << untrusting.status().ToString();
}

TEST_F(TransportTest, GarbageCaBundleIsRejectedClearly) {
  TransportOptions o;
  o.tls.ca_pem = "not a certificate";
  auto r = MakeCpprestTransport(o)->Send(Get(Url("/links")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(TransportTest, ConnectionRefusedIsUnavailable) {
  // Bind a port, close it, and talk to it: nothing listens there.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  auto r = Trusting()->Send(Get("https://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("cannot reach https://127.0.0.1:"), std::string::npos);
}

TEST_F(TransportTest, StreamsLinesAndCancels) {
  auto t = Trusting();
  auto s = t->Stream(Get(Url("/stream")));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto& stream = *s.value();
  EXPECT_EQ(stream.status(), 200);
  auto l1 = stream.ReadLine();
  ASSERT_TRUE(l1.ok() && l1->has_value()) << l1.status().ToString();
  EXPECT_EQ(**l1, "{\"a\":1}");
  auto l2 = stream.ReadLine();
  ASSERT_TRUE(l2.ok() && l2->has_value());
  EXPECT_EQ(**l2, "{\"b\":2}");
  // The peer now holds the stream open (until GET /release, far past the bound): only Cancel,
  // from another thread, can end the ReadLine blocked on it.
  auto reader = std::async(std::launch::async, [&] { return stream.ReadLine(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it block (not required)
  EXPECT_EQ(reader.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "ReadLine returned while the peer held the stream open";
  stream.Cancel();
  constexpr auto kBound = std::chrono::seconds(5);
  if (reader.wait_for(kBound) != std::future_status::ready) {
    ADD_FAILURE() << "Cancel did not unblock ReadLine within 5 s";
    auto released = t->Send(Get(Url("/release")));  // end the stream so the reader returns
    EXPECT_TRUE(released.ok()) << released.status().ToString();
  }
  auto l3 = reader.get();
  ASSERT_FALSE(l3.ok()) << "ReadLine after Cancel gave "
                        << (l3->has_value() ? "a line: " + **l3
                                            : std::string("the end of the stream"));
  EXPECT_EQ(l3.status().code(), ErrorCode::kCancelled) << l3.status().ToString();
}

}  // namespace
}  // namespace certsmith
