// CERTSMITH_HTTP_THREADS: the size of cpprestsdk's I/O pool (certsmith/http_threads.h).
#include "certsmith/http_threads.h"

#include <gtest/gtest.h>

namespace certsmith {
namespace {

TEST(HttpThreadsFromEnv, UnsetOrEmptyIsTheDefault) {
  EXPECT_EQ(HttpThreadsFromEnv(nullptr).value(), kDefaultHttpThreads);
  EXPECT_EQ(HttpThreadsFromEnv("").value(), kDefaultHttpThreads);
  EXPECT_LT(kDefaultHttpThreads, 40u);  // cpprestsdk's own default is what it saves on
}

TEST(HttpThreadsFromEnv, AcceptsAWholeNumberInRange) {
  EXPECT_EQ(HttpThreadsFromEnv("1").value(), 1u);
  EXPECT_EQ(HttpThreadsFromEnv("40").value(), 40u);
  EXPECT_EQ(HttpThreadsFromEnv("256").value(), kMaxHttpThreads);
}

TEST(HttpThreadsFromEnv, RejectsAnythingElseNamingTheVariable) {
  for (const char* bad : {"0", "-1", "257", "4x", " 4", "four", "1e3"}) {
    auto r = HttpThreadsFromEnv(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("CERTSMITH_HTTP_THREADS"), std::string::npos);
  }
}

TEST(InitHttpThreadPool, SizesThePoolOnceOnly) {
  EXPECT_TRUE(InitHttpThreadPool(2));
  EXPECT_FALSE(InitHttpThreadPool(3));  // already started: a second size is refused
}

}  // namespace
}  // namespace certsmith
