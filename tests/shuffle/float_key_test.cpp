// Floating-point keys have one order and one equality (float_keys.h): -0.0
// and +0.0 are one key, every NaN is one key after +infinity, in a pair or
// tuple as alone. Equal keys must hash alike, or they reach Reduce split
// across partitions depending on the rank count.
#include "shuffle/float_keys.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "shuffle/partitioner.h"
#include "shuffle/serde.h"

namespace sluice {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// NaNs of every kind: quiet, signaling, negative, with payloads.
std::vector<double> AllKindsOfNaN() {
  return {std::bit_cast<double>(uint64_t{0x7ff8000000000000}),
          std::bit_cast<double>(uint64_t{0xfff8000000000000}),
          std::bit_cast<double>(uint64_t{0x7ff0000000000001}),
          std::bit_cast<double>(uint64_t{0xfff0000000000001}),
          std::bit_cast<double>(uint64_t{0x7ff8deadbeef0001}),
          std::bit_cast<double>(uint64_t{0x7fffffffffffffff}),
          std::bit_cast<double>(uint64_t{0xffffffffffffffff})};
}

std::vector<float> AllKindsOfFloatNaN() {
  return {std::bit_cast<float>(uint32_t{0x7fc00000}), std::bit_cast<float>(uint32_t{0xffc00000}),
          std::bit_cast<float>(uint32_t{0x7f800001}), std::bit_cast<float>(uint32_t{0x7fc0beef}),
          std::bit_cast<float>(uint32_t{0xffffffff})};
}

template <class K>
std::string KeyEncoding(const K& key) {
  std::string out;
  EncodeKey(&out, key);
  return out;
}

template <class K>
uint32_t Partition(const K& key, uint32_t partitions) {
  std::string scratch;
  return PartitionOf(KeyBytes(key, &scratch), partitions);
}

template <class K>
K DecodeKey(const std::string& bytes) {
  K key{};
  ByteReader r{bytes.data(), bytes.data() + bytes.size()};
  EXPECT_TRUE(Decode(r, &key));
  EXPECT_EQ(r.p, r.end);
  return key;
}

TEST(FloatKey, NegativeZeroHasThePartitionAndBytesOfPositiveZero) {
  EXPECT_EQ(KeyEncoding(-0.0), KeyEncoding(0.0));
  EXPECT_EQ(KeyEncoding(-0.0f), KeyEncoding(0.0f));
  for (uint32_t partitions : {2u, 3u, 7u, 64u, 1021u}) {
    EXPECT_EQ(Partition(-0.0, partitions), Partition(0.0, partitions)) << partitions;
    EXPECT_EQ(Partition(-0.0f, partitions), Partition(0.0f, partitions)) << partitions;
  }
  const double zero = DecodeKey<double>(KeyEncoding(-0.0));
  EXPECT_EQ(zero, 0.0);
  EXPECT_FALSE(std::signbit(zero)) << "Reduce sees the canonical +0.0";
}

TEST(FloatKey, EveryNaNHasTheBytesAndPartitionOfTheQuietPositiveNaN) {
  const double quiet = std::numeric_limits<double>::quiet_NaN();
  const std::string canonical = KeyEncoding(quiet);
  EXPECT_EQ(std::bit_cast<uint64_t>(DecodeKey<double>(canonical)), 0x7ff8000000000000u);
  for (double nan : AllKindsOfNaN()) {
    ASSERT_TRUE(std::isnan(nan));
    SCOPED_TRACE(std::bit_cast<uint64_t>(nan));
    EXPECT_EQ(KeyEncoding(nan), canonical);
    for (uint32_t partitions : {2u, 3u, 7u, 64u, 1021u}) {
      EXPECT_EQ(Partition(nan, partitions), Partition(quiet, partitions));
    }
  }
  const std::string canonical_f = KeyEncoding(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(std::bit_cast<uint32_t>(DecodeKey<float>(canonical_f)), 0x7fc00000u);
  for (float nan : AllKindsOfFloatNaN()) {
    ASSERT_TRUE(std::isnan(nan));
    EXPECT_EQ(KeyEncoding(nan), canonical_f) << std::bit_cast<uint32_t>(nan);
  }
}

TEST(FloatKey, OrdinaryFloatsAndValuesAreEncodedBitForBit) {
  for (double x : {1.5, -1.5, kInf, -kInf, 5e-324, -5e-324}) {
    std::string plain;
    Encode(&plain, x);
    EXPECT_EQ(KeyEncoding(x), plain) << x;
  }
  // Values are not keys: a value -0.0 or NaN payload reaches Reduce as sent.
  std::string value;
  Encode(&value, -0.0);
  EXPECT_TRUE(std::signbit(DecodeKey<double>(value)));
  const double payload = std::bit_cast<double>(uint64_t{0x7ff8deadbeef0001});
  value.clear();
  Encode(&value, payload);
  EXPECT_EQ(std::bit_cast<uint64_t>(DecodeKey<double>(value)), 0x7ff8deadbeef0001u);
}

TEST(FloatKey, OrderIsMinusInfinityToPlusInfinityThenNaN) {
  // Each entry is a class of equal keys; classes are in ascending order.
  const std::vector<std::vector<double>> classes = {{-kInf},  {-1.0}, {-5e-324}, {-0.0, 0.0},
                                                    {5e-324}, {1.0},  {kInf},    AllKindsOfNaN()};
  const KeyOrder less;
  const KeyEqual equal;
  for (size_t i = 0; i < classes.size(); ++i) {
    for (size_t j = 0; j < classes.size(); ++j) {
      for (double a : classes[i]) {
        for (double b : classes[j]) {
          SCOPED_TRACE(testing::Message()
                       << "class " << i << " vs " << j << ": " << std::bit_cast<uint64_t>(a)
                       << " vs " << std::bit_cast<uint64_t>(b));
          EXPECT_EQ(less(a, b), i < j);
          EXPECT_EQ(equal(a, b), i == j);
        }
      }
    }
  }
}

TEST(FloatKey, SortingWithNaNsIsAStrictWeakOrder) {
  std::vector<double> keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back(i % 5 == 0 ? std::bit_cast<double>(uint64_t{0x7ff8000000000000} + i)
                              : i - 100.0);
    keys.push_back(i % 2 == 0 ? -0.0 : 0.0);
  }
  keys.push_back(kInf);
  keys.push_back(-kInf);
  std::mt19937 rng(11);
  std::shuffle(keys.begin(), keys.end(), rng);
  std::sort(keys.begin(), keys.end(), KeyOrder());
  EXPECT_EQ(keys.front(), -kInf);
  const auto first_nan =
      std::find_if(keys.begin(), keys.end(), [](double x) { return std::isnan(x); });
  ASSERT_NE(first_nan, keys.end());
  EXPECT_EQ(*(first_nan - 1), kInf);
  EXPECT_TRUE(std::all_of(first_nan, keys.end(), [](double x) { return std::isnan(x); }));
  EXPECT_EQ(keys.end() - first_nan, 40);
  EXPECT_TRUE(std::is_sorted(keys.begin(), first_nan));
}

TEST(FloatKey, PairKeysFollowTheRuleInTheirFloatField) {
  using P = std::pair<double, int>;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double other_nan = std::bit_cast<double>(uint64_t{0xfff0000000000042});
  const KeyOrder less;
  const KeyEqual equal;
  EXPECT_TRUE(less(P{kInf, 9}, P{nan, 0}));
  EXPECT_FALSE(less(P{nan, 0}, P{kInf, 9}));
  EXPECT_TRUE(less(P{nan, 1}, P{other_nan, 2})) << "equal NaNs: the int decides";
  EXPECT_FALSE(less(P{other_nan, 2}, P{nan, 1}));
  EXPECT_TRUE(equal(P{nan, 3}, P{other_nan, 3}));
  EXPECT_TRUE(less(P{-0.0, 1}, P{0.0, 2}));
  EXPECT_TRUE(less(P{0.0, 1}, P{-0.0, 2}));
  EXPECT_TRUE(equal(P{-0.0, 5}, P{0.0, 5}));
  EXPECT_FALSE(equal(P{0.0, 5}, P{0.0, 6}));
  EXPECT_TRUE(less(P{-1.0, 7}, P{-0.0, 0}));

  EXPECT_EQ(KeyEncoding(P{-0.0, 5}), KeyEncoding(P{0.0, 5}));
  EXPECT_EQ(KeyEncoding(P{other_nan, 5}), KeyEncoding(P{nan, 5}));
  EXPECT_NE(KeyEncoding(P{nan, 5}), KeyEncoding(P{nan, 6}));
  EXPECT_EQ(Partition(P{-0.0, 5}, 97), Partition(P{0.0, 5}, 97));
  EXPECT_EQ(Partition(P{other_nan, 5}, 97), Partition(P{nan, 5}, 97));
  // Float fields further in, and inside a nested pair.
  using T = std::tuple<std::string, float, std::pair<int, double>>;
  EXPECT_EQ(KeyEncoding(T{"a", -0.0f, {1, std::bit_cast<double>(uint64_t{0x7ff0000000000001})}}),
            KeyEncoding(T{"a", 0.0f, {1, nan}}));
  EXPECT_TRUE(less(T{"a", 1.0f, {1, kInf}}, T{"a", 1.0f, {1, nan}}));
  EXPECT_TRUE(equal(T{"a", -0.0f, {1, nan}}, T{"a", 0.0f, {1, other_nan}}));
}

TEST(FloatKey, GroupPrefixTuplesOfReferencesCompareAndEncodeLikeTheirValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double neg_zero = -0.0;
  const int one = 1;
  const auto a = std::tie(neg_zero, one);
  const double zero = 0.0;
  const auto b = std::tie(zero, one);
  EXPECT_FALSE(KeyOrder()(a, b));
  EXPECT_FALSE(KeyOrder()(b, a));
  EXPECT_EQ(KeyEncoding(a), KeyEncoding(std::make_tuple(0.0, 1)));
  const double inf = kInf;
  EXPECT_TRUE(KeyOrder()(std::tie(inf, one), std::tie(nan, one)));
}

TEST(FloatKey, KeysWithoutFloatsKeepTheirOwnOrderAndBytes) {
  static_assert(!kKeyHasFloat<std::string>);
  static_assert(!kKeyHasFloat<std::pair<int64_t, std::string>>);
  static_assert(kKeyHasFloat<std::tuple<int, std::pair<std::string, float>>>);
  static_assert(kKeyHasFloat<std::tuple<const double&, const int&>>);
  const KeyOrder less;
  EXPECT_TRUE(less(std::string_view("abc"), std::string("abd")));
  EXPECT_FALSE(less(std::string("abd"), std::string("abc")));
  EXPECT_TRUE(less(-3, 2));
  EXPECT_TRUE(less(std::make_pair(1, std::string("z")), std::make_pair(2, std::string("a"))));
  std::string plain;
  Encode(&plain, std::make_pair(int64_t{-7}, std::string("key")));
  EXPECT_EQ(KeyEncoding(std::make_pair(int64_t{-7}, std::string("key"))), plain);
}

}  // namespace
}  // namespace sluice
