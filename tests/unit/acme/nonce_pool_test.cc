#include "acme/nonce_pool.h"

#include <gtest/gtest.h>

namespace certsmith::acme {
namespace {

TEST(NoncePoolTest, EmptyPoolHasNothing) {
  NoncePool pool;
  EXPECT_FALSE(pool.Take().has_value());
  EXPECT_EQ(pool.size(), 0u);
}

TEST(NoncePoolTest, EachNonceIsTakenOnceNewestFirst) {
  NoncePool pool;
  pool.Put("aaa");
  pool.Put("bbb");
  EXPECT_EQ(pool.Take(), "bbb");
  EXPECT_EQ(pool.Take(), "aaa");
  EXPECT_FALSE(pool.Take().has_value());
}

TEST(NoncePoolTest, BoundedDropsOldest) {
  NoncePool pool(2);
  pool.Put("n1");
  pool.Put("n2");
  pool.Put("n3");
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(pool.Take(), "n3");
  EXPECT_EQ(pool.Take(), "n2");
}

TEST(NoncePoolTest, IgnoresValuesThatAreNotBase64Url) {
  NoncePool pool;
  pool.Put("");
  pool.Put("has space");
  pool.Put("pad==");
  pool.Put("quote\"x");
  EXPECT_EQ(pool.size(), 0u);
}

TEST(NoncePoolTest, Clear) {
  NoncePool pool;
  pool.Put("x1");
  pool.Clear();
  EXPECT_FALSE(pool.Take().has_value());
}

}  // namespace
}  // namespace certsmith::acme
