// Serialization: plain types travel raw, strings decode as views, user types
// go through Cereal, and no malformed input is ever read past its end.
#include "shuffle/serde.h"

#include "shuffle/little_endian.h"

#include <map>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

struct UserPoint {
  int x = 0;
  std::string label;
  std::vector<double> weights;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, label, weights);
  }
  bool operator==(const UserPoint&) const = default;
};

template <class T>
T RoundTrip(const T& v) {
  std::string buf;
  Encode(&buf, v);
  ByteReader r{buf.data(), buf.data() + buf.size()};
  T out{};
  EXPECT_TRUE(Decode(r, &out));
  EXPECT_EQ(r.p, r.end) << "decoder must consume exactly what the encoder wrote";
  return out;
}

TEST(Serde, PlainTypesRoundTrip) {
  EXPECT_EQ(RoundTrip<uint64_t>(0xfeedfacecafebeefull), 0xfeedfacecafebeefull);
  EXPECT_EQ(RoundTrip<int32_t>(-7), -7);
  EXPECT_EQ(RoundTrip<double>(3.25), 3.25);
  EXPECT_EQ(RoundTrip<std::string>(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(RoundTrip<std::string>(std::string(100000, 'x')), std::string(100000, 'x'));
  auto pair = std::make_pair(std::string("k"), int64_t{-1});
  EXPECT_EQ(RoundTrip(pair), pair);
  auto tuple = std::make_tuple(1u, std::string("two"), 3.0f);
  EXPECT_EQ(RoundTrip(tuple), tuple);
}

TEST(Serde, RawTypesCostTheirSize) {
  std::string buf;
  Encode(&buf, uint64_t{1});
  EXPECT_EQ(buf.size(), 8u);
  buf.clear();
  Encode(&buf, std::string("abc"));
  EXPECT_EQ(buf.size(), 4u);  // one varint byte + 3
}

TEST(Serde, StringsDecodeAsViewsIntoTheBuffer) {
  std::string buf;
  Encode(&buf, std::string("hello"));
  ByteReader r{buf.data(), buf.data() + buf.size()};
  std::string_view v;
  ASSERT_TRUE(Decode(r, &v));
  EXPECT_EQ(v, "hello");
  EXPECT_GE(v.data(), buf.data());
  EXPECT_LT(v.data(), buf.data() + buf.size());
}

TEST(Serde, UserTypesGoThroughCereal) {
  UserPoint p{7, "seven", {0.5, 1.5}};
  EXPECT_EQ(RoundTrip(p), p);
  std::map<std::string, int> m{{"a", 1}, {"b", 2}};
  EXPECT_EQ(RoundTrip(m), m);
}

// The encoder's archive writes Cereal's own binary format, byte for byte:
// part files and spills written before it read the same, and any Cereal
// binary reader reads what it writes. A body of 200 bytes needs a two-byte
// length, so the splice in front is exercised too.
TEST(Serde, UserTypesAreCerealsBinaryFormatFramedByTheirLength) {
  const std::map<std::string, std::vector<UserPoint>> value{
      {"a", {UserPoint{-1, "minus", {0.5}}, UserPoint{2, "", {}}}},
      {"b", {UserPoint{3, std::string(150, 'x'), {1.0, -2.0, 3.5}}}}};
  std::string cereal_bytes;
  {
    std::ostringstream os;
    {
      cereal::BinaryOutputArchive ar(os);
      ar(value);
    }
    cereal_bytes = os.str();
  }
  ASSERT_GT(cereal_bytes.size(), 127u);
  std::string framed;
  PutVarint(&framed, cereal_bytes.size());
  framed += cereal_bytes;
  std::string buf = "prefix";
  Encode(&buf, value);
  EXPECT_TRUE(buf == "prefix" + framed) << "the encoding differs from Cereal's BinaryOutputArchive";
  EXPECT_EQ(RoundTrip(value), value);
}

TEST(Serde, EveryTruncationFailsCleanly) {
  std::string buf;
  Encode(&buf, std::make_tuple(std::string("key"), uint64_t{5}, UserPoint{1, "p", {2.0}}));
  for (size_t n = 0; n < buf.size(); ++n) {
    std::string cut = buf.substr(0, n);  // exact-size copy: ASan sees any over-read
    ByteReader r{cut.data(), cut.data() + cut.size()};
    std::tuple<std::string, uint64_t, UserPoint> out;
    EXPECT_FALSE(Decode(r, &out)) << "decoded from " << n << " of " << buf.size() << " bytes";
  }
}

TEST(Serde, HugeLengthPrefixIsRejected) {
  std::string buf;
  PutVarint(&buf, uint64_t{1} << 62);
  buf += "abc";
  ByteReader r{buf.data(), buf.data() + buf.size()};
  std::string s;
  EXPECT_FALSE(Decode(r, &s));
}

// Inside a Cereal value, a container's element count must fit the bytes
// left: 18 bytes may not claim a 3 GiB string (the fuzzer's first find,
// tests/fuzz/crashes/kv_file_reader_fuzz-1). Under ASan the old decoder
// failed this with an allocation-size error; without, it spent 3 GiB.
TEST(Serde, CerealCountLargerThanTheBytesLeftIsRejected) {
  std::string body;
  Put32(&body, 1);                          // UserPoint::x
  Put64(&body, uint64_t{3} << 30);          // label's size tag: 3 GiB
  body += "abcdef";                         // ...but only 6 bytes follow
  std::string buf;
  PutVarint(&buf, body.size());
  buf += body;
  ByteReader r{buf.data(), buf.data() + buf.size()};
  UserPoint out;
  EXPECT_FALSE(Decode(r, &out));
  // Counts that do fit still decode: the archive reads Cereal's own format.
  EXPECT_EQ(RoundTrip(UserPoint{3, std::string(1000, 'z'), std::vector<double>(500, 0.25)}),
            (UserPoint{3, std::string(1000, 'z'), std::vector<double>(500, 0.25)}));
}

TEST(Serde, KeyBytesOfStringsAreTheCharacters) {
  std::string scratch;
  EXPECT_EQ(KeyBytes(std::string("abc"), &scratch), "abc");
  EXPECT_EQ(KeyBytes(std::string_view("abc"), &scratch), "abc");
  EXPECT_EQ(KeyBytes(uint32_t{0x01020304}, &scratch).size(), 4u);
}

}  // namespace
}  // namespace sluice
