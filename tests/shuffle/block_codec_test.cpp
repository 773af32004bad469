// Defends the block frame contract: what Encode writes Decode returns
// byte-for-byte with its BlockInfo, and no damaged, truncated or forged frame
// decodes; each is reported as kCorruption naming its origin.
#include "shuffle/block_codec.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {
namespace {

constexpr size_t kRawSizeOffset = 24;
constexpr size_t kPayloadHashOffset = 32;
constexpr size_t kHeaderHashOffset = 40;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

// Word-like text: compressible, but not trivially.
std::string TextLike(size_t n, uint64_t seed) {
  static const char* const kWords[] = {
      "the",    "quick",   "brown", "fox",    "jumps", "over",  "lazy", "dog",   "map",
      "reduce", "shuffle", "block", "sluice", "rank",  "spill", "key",  "value", "partition"};
  std::mt19937_64 rng(seed);
  std::string s;
  s.reserve(n + 16);
  while (s.size() < n) {
    s += kWords[rng() % std::size(kWords)];
    s += (rng() % 12 == 0) ? '\n' : ' ';
  }
  s.resize(n);
  return s;
}

BlockInfo SomeInfo() {
  BlockInfo info;
  info.partition = 7;
  info.split = 123456;
  info.seq = 42;
  info.records = 999;
  info.raw_size = 0xdeadbeef;     // ignored on input
  info.packed_size = 0xfeedface;  // ignored on input
  return info;
}

std::string EncodeOrDie(BlockEncoder& enc, const BlockInfo& info, std::string_view raw,
                        BlockPayload payload = BlockPayload::kZstd) {
  std::string frame;
  Status s = enc.Encode(info, raw, &frame, payload);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return frame;
}

void Put32(std::string* frame, size_t off, uint32_t v) { std::memcpy(frame->data() + off, &v, 4); }
void Put64(std::string* frame, size_t off, uint64_t v) { std::memcpy(frame->data() + off, &v, 8); }
void ResealHeader(std::string* frame) {
  Put64(frame, kHeaderHashOffset, XXH3_64bits(frame->data(), kHeaderHashOffset));
}
void ResealPayload(std::string* frame) {
  Put64(frame, kPayloadHashOffset,
        XXH3_64bits(frame->data() + kBlockHeaderBytes, frame->size() - kBlockHeaderBytes));
  ResealHeader(frame);
}

void ExpectRoundTrip(std::string_view raw, int level = 1,
                     BlockPayload payload = BlockPayload::kZstd) {
  BlockEncoder enc(level);
  BlockDecoder dec;
  const BlockInfo in = SomeInfo();
  const std::string frame = EncodeOrDie(enc, in, raw, payload);

  Result<BlockInfo> peek = BlockDecoder::PeekHeader(frame, "test");
  ASSERT_TRUE(peek.ok()) << peek.status().ToString();
  EXPECT_EQ(peek->raw_size, raw.size());
  EXPECT_EQ(peek->packed_size, frame.size() - kBlockHeaderBytes);

  BlockInfo out;
  std::string got = "stale contents that must be replaced";
  Status s = dec.Decode(frame, "test", &out, &got);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(got == raw);
  EXPECT_EQ(out.partition, in.partition);
  EXPECT_EQ(out.split, in.split);
  EXPECT_EQ(out.seq, in.seq);
  EXPECT_EQ(out.records, in.records);
  EXPECT_EQ(out.raw_size, raw.size());
  EXPECT_EQ(out.packed_size, frame.size() - kBlockHeaderBytes);
}

TEST(BlockCodecTest, HeaderLayoutIsLittleEndianAsDocumented) {
  BlockEncoder enc;
  const std::string frame = EncodeOrDie(enc, SomeInfo(), "abc");
  ASSERT_GE(frame.size(), kBlockHeaderBytes);
  EXPECT_EQ(frame.substr(0, 4), "SLB1");
  auto u32 = [&](size_t off) {
    uint32_t v;
    std::memcpy(&v, frame.data() + off, 4);
    return v;
  };
  EXPECT_EQ(u32(4), 1u);  // version
  EXPECT_EQ(u32(8), 7u);
  EXPECT_EQ(u32(12), 123456u);
  EXPECT_EQ(u32(16), 42u);
  EXPECT_EQ(u32(20), 999u);
  EXPECT_EQ(u32(24), 3u);
  EXPECT_EQ(u32(28), frame.size() - kBlockHeaderBytes);
  uint64_t payload_hash, header_hash;
  std::memcpy(&payload_hash, frame.data() + 32, 8);
  std::memcpy(&header_hash, frame.data() + 40, 8);
  EXPECT_EQ(payload_hash, XXH3_64bits(frame.data() + 48, frame.size() - 48));
  EXPECT_EQ(header_hash, XXH3_64bits(frame.data(), 40));
}

TEST(BlockCodecTest, RoundTripEmpty) { ExpectRoundTrip(""); }

TEST(BlockCodecTest, RoundTripSmall) {
  ExpectRoundTrip("x");
  ExpectRoundTrip("hello, sluice");
  ExpectRoundTrip(std::string("\0\x01\xff\0", 4));
}

TEST(BlockCodecTest, RoundTripTenMegabytesRandom) {
  const std::string raw = RandomBytes(10u << 20, 1);
  ExpectRoundTrip(raw);
  BlockEncoder enc;
  const std::string frame = EncodeOrDie(enc, SomeInfo(), raw);
  // Incompressible data costs at most zstd's bound over the raw size.
  EXPECT_LE(frame.size(), kBlockHeaderBytes + ZSTD_COMPRESSBOUND(raw.size()));
}

TEST(BlockCodecTest, RoundTripHighlyCompressibleAndItShrinks) {
  const std::string zeros(4u << 20, '\0');
  const std::string text = TextLike(4u << 20, 2);
  ExpectRoundTrip(zeros);
  ExpectRoundTrip(text);
  ExpectRoundTrip(std::string_view(text).substr(0, 256u << 10), 19);  // slow level: less data
  ExpectRoundTrip(text, -5);
  BlockEncoder enc;
  EXPECT_LT(EncodeOrDie(enc, SomeInfo(), zeros).size(), zeros.size() / 100);
  EXPECT_LT(EncodeOrDie(enc, SomeInfo(), text).size(), text.size() / 2);
}

TEST(BlockCodecTest, EncodeReplacesFrameAndRejectsOversizedBlock) {
  BlockEncoder enc;
  std::string frame(1000, 'z');
  ASSERT_TRUE(enc.Encode(SomeInfo(), "", &frame).ok());
  EXPECT_EQ(frame.substr(0, 4), "SLB1");
  Result<BlockInfo> peek = BlockDecoder::PeekHeader(frame, "t");
  ASSERT_TRUE(peek.ok()) << peek.status().ToString();
  EXPECT_EQ(peek->raw_size, 0u);
  EXPECT_EQ(peek->packed_size, frame.size() - kBlockHeaderBytes);

  const std::string huge(size_t{kMaxBlockRawBytes} + 1, 'a');
  Status s = enc.Encode(SomeInfo(), huge, &frame);
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
}

TEST(BlockCodecTest, EverySingleByteFlipIsCorruption) {
  BlockEncoder enc;
  BlockDecoder dec;
  const std::string raw = TextLike(300, 3) + RandomBytes(60, 4);
  const std::string frame = EncodeOrDie(enc, SomeInfo(), raw);
  ASSERT_GT(frame.size(), kBlockHeaderBytes + 10);
  int checked = 0;
  for (size_t pos = 0; pos < frame.size(); ++pos) {
    for (unsigned pattern : {0x01u, 0x80u, 0x10u, 0xffu, 0x5au}) {
      std::string bad = frame;
      bad[pos] = static_cast<char>(static_cast<unsigned char>(bad[pos]) ^ pattern);
      BlockInfo info;
      std::string out;
      Status s = dec.Decode(bad, "block from rank 2", &info, &out);
      ASSERT_EQ(s.code(), StatusCode::kCorruption)
          << "byte " << pos << " ^ " << pattern << ": " << s.ToString();
      ASSERT_NE(s.message().find("block from rank 2"), std::string::npos) << s.message();
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(frame.size()) * 5);
  // The decoder is unharmed by all of that.
  BlockInfo info;
  std::string out;
  ASSERT_TRUE(dec.Decode(frame, "x", &info, &out).ok());
  EXPECT_EQ(out, raw);
}

TEST(BlockCodecTest, FailureMessagesSayWhatFailed) {
  BlockEncoder enc;
  BlockDecoder dec;
  const std::string frame = EncodeOrDie(enc, SomeInfo(), TextLike(1000, 5));
  BlockInfo info;
  std::string out;
  auto message_for = [&](std::string bad) {
    Status s = dec.Decode(bad, "block from rank 2", &info, &out);
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    return s.message();
  };
  EXPECT_EQ(message_for(frame.substr(0, 10)),
            "block from rank 2: truncated block header (10 bytes)");
  std::string bad = frame;
  bad[0] = 'X';
  EXPECT_NE(message_for(bad).find("magic"), std::string::npos);
  bad = frame;
  bad[4] = 3;
  EXPECT_NE(message_for(bad).find("version"), std::string::npos);
  bad = frame;
  bad[9] ^= 1;
  EXPECT_NE(message_for(bad).find("header checksum"), std::string::npos);
  bad = frame;
  bad.back() ^= 1;
  EXPECT_EQ(message_for(bad), "block from rank 2: payload checksum mismatch (frame of " +
                                  std::to_string(frame.size()) + " bytes)");
}

TEST(BlockCodecTest, EveryTruncationAndExtensionIsCorruption) {
  BlockEncoder enc;
  BlockDecoder dec;
  const std::string frame = EncodeOrDie(enc, SomeInfo(), TextLike(500, 6));
  for (size_t len = 0; len < frame.size(); ++len) {
    // A fresh copy of exactly `len` bytes, so reading past it trips ASan.
    const std::string cut = frame.substr(0, len);
    BlockInfo info;
    std::string out;
    Status s = dec.Decode(cut, "spill /tmp/x at offset 4096", &info, &out);
    ASSERT_EQ(s.code(), StatusCode::kCorruption) << "length " << len << ": " << s.ToString();
    EXPECT_FALSE(BlockDecoder::PeekHeader(cut, "p").ok()) << "length " << len;
  }
  BlockInfo info;
  std::string out;
  EXPECT_EQ(dec.Decode(frame + '\0', "o", &info, &out).code(), StatusCode::kCorruption);
  EXPECT_EQ(dec.Decode(frame + frame, "o", &info, &out).code(), StatusCode::kCorruption);
}

TEST(BlockCodecTest, ForgedHugeRawSizeIsRejectedBeforeAllocating) {
  BlockEncoder enc;
  BlockDecoder dec;
  std::string frame = EncodeOrDie(enc, SomeInfo(), "tiny");
  for (uint32_t forged : {kMaxBlockRawBytes + 1, 0xffffffffu}) {
    std::string bad = frame;
    Put32(&bad, kRawSizeOffset, forged);
    ResealHeader(&bad);
    Result<BlockInfo> peek = BlockDecoder::PeekHeader(bad, "forged");
    ASSERT_FALSE(peek.ok());
    EXPECT_EQ(peek.status().code(), StatusCode::kCorruption);

    std::string out = "keep";
    const size_t capacity_before = out.capacity();
    BlockInfo info;
    Status s = dec.Decode(bad, "forged", &info, &out);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_EQ(out, "keep");
    EXPECT_EQ(out.capacity(), capacity_before);
  }
}

TEST(BlockCodecTest, ResealedRawSizeThatDisagreesWithZstdIsCorruption) {
  BlockEncoder enc;
  BlockDecoder dec;
  const std::string raw = TextLike(2000, 7);
  const std::string frame = EncodeOrDie(enc, SomeInfo(), raw);
  for (uint32_t forged : {0u, 1999u, 2001u, 1u << 20}) {
    std::string bad = frame;
    Put32(&bad, kRawSizeOffset, forged);
    ResealHeader(&bad);
    ASSERT_TRUE(BlockDecoder::PeekHeader(bad, "p").ok());
    BlockInfo info;
    std::string out;
    Status s = dec.Decode(bad, "forged", &info, &out);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << forged << ": " << s.ToString();
  }
}

TEST(BlockCodecTest, ResealedDamagedPayloadDecodesSafely) {
  // Checksums recomputed over damaged zstd bytes: what only a forger can
  // make, and a forger could as well make a zstd frame of other bytes with
  // a valid content checksum, so frames carry none (block_codec.cpp). What
  // must hold is that decoding such a frame is safe: it fails as
  // corruption, or gives exactly the raw size the header promises (never
  // more, never a crash: the sanitizer build runs this), and the xxh3 of
  // the payload still refuses every such frame that was not resealed.
  BlockEncoder enc;
  BlockDecoder dec;
  const std::string raw = TextLike(3000, 8);
  const std::string frame = EncodeOrDie(enc, SomeInfo(), raw);
  int rejected = 0;
  for (size_t pos = kBlockHeaderBytes; pos < frame.size(); ++pos) {
    std::string bad = frame;
    bad[pos] ^= 0x01;
    BlockInfo info;
    std::string out;
    EXPECT_EQ(dec.Decode(bad, "damaged", &info, &out).code(), StatusCode::kCorruption) << "byte " << pos;
    ResealPayload(&bad);
    Status s = dec.Decode(bad, "resealed", &info, &out);
    if (s.ok()) {
      EXPECT_EQ(out.size(), raw.size()) << "byte " << pos;
    } else {
      EXPECT_EQ(s.code(), StatusCode::kCorruption);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);  // zstd's frame structure still catches many
  BlockInfo info;
  std::string out;
  ASSERT_TRUE(dec.Decode(frame, "x", &info, &out).ok());
  EXPECT_EQ(out, raw);
}

TEST(BlockCodecTest, EncoderAndDecoderAreReusable) {
  BlockEncoder enc;
  BlockDecoder dec;
  std::mt19937_64 rng(9);
  std::string frame, out;
  for (uint32_t i = 0; i < 500; ++i) {
    const size_t n = rng() % 20000;
    const std::string raw = (i % 3 == 0) ? RandomBytes(n, i) : TextLike(n, i);
    BlockInfo in;
    in.partition = i % 16;
    in.split = i / 16;
    in.seq = i;
    in.records = static_cast<uint32_t>(n / 7);
    ASSERT_TRUE(enc.Encode(in, raw, &frame).ok());
    if (i % 10 == 5) {
      std::string bad = frame;
      bad[bad.size() / 2] ^= 0x40;
      BlockInfo ignored;
      ASSERT_EQ(dec.Decode(bad, "bad", &ignored, &out).code(), StatusCode::kCorruption);
    }
    BlockInfo got;
    Status s = dec.Decode(frame, "loop", &got, &out);
    ASSERT_TRUE(s.ok()) << i << ": " << s.ToString();
    ASSERT_TRUE(out == raw) << i;
    EXPECT_EQ(got.partition, in.partition);
    EXPECT_EQ(got.split, in.split);
    EXPECT_EQ(got.seq, in.seq);
    EXPECT_EQ(got.records, in.records);
    EXPECT_EQ(got.raw_size, n);
  }
}

// Stored frames (version 2): the payload is the block itself, for blocks
// that stay on their node; the same checks guard them.
TEST(BlockCodecTest, StoredFramesRoundTrip) {
  ExpectRoundTrip("", 1, BlockPayload::kStored);
  ExpectRoundTrip("x", 1, BlockPayload::kStored);
  ExpectRoundTrip(RandomBytes(10 << 20, 8), 1, BlockPayload::kStored);
  ExpectRoundTrip(TextLike(100000, 9), 1, BlockPayload::kStored);
}

TEST(BlockCodecTest, StoredFrameHoldsTheBlockAsIsUnderVersionTwo) {
  BlockEncoder enc;
  const std::string raw = TextLike(5000, 10);
  const std::string frame = EncodeOrDie(enc, SomeInfo(), raw, BlockPayload::kStored);
  ASSERT_EQ(frame.size(), kBlockHeaderBytes + raw.size());
  uint32_t version, raw_size, packed_size;
  std::memcpy(&version, frame.data() + 4, 4);
  std::memcpy(&raw_size, frame.data() + 24, 4);
  std::memcpy(&packed_size, frame.data() + 28, 4);
  EXPECT_EQ(version, 2u);
  EXPECT_EQ(raw_size, raw.size());
  EXPECT_EQ(packed_size, raw.size());
  EXPECT_EQ(frame.substr(kBlockHeaderBytes), raw);
  // The same block through zstd is version 1 and smaller.
  const std::string packed = EncodeOrDie(enc, SomeInfo(), raw);
  std::memcpy(&version, packed.data() + 4, 4);
  EXPECT_EQ(version, 1u);
  EXPECT_LT(packed.size(), frame.size());
}

TEST(BlockCodecTest, StoredFrameDamageIsCorruption) {
  BlockEncoder enc;
  BlockDecoder dec;
  const std::string raw = TextLike(300, 11);
  const std::string frame = EncodeOrDie(enc, SomeInfo(), raw, BlockPayload::kStored);
  for (size_t pos = 0; pos < frame.size(); ++pos) {
    std::string bad = frame;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x20);
    BlockInfo info;
    std::string out;
    Status s = dec.Decode(bad, "block from rank 1", &info, &out);
    ASSERT_EQ(s.code(), StatusCode::kCorruption) << "byte " << pos << ": " << s.ToString();
  }
  for (size_t len = 0; len < frame.size(); ++len) {
    BlockInfo info;
    std::string out;
    ASSERT_EQ(dec.Decode(frame.substr(0, len), "cut", &info, &out).code(), StatusCode::kCorruption)
        << "length " << len;
  }
}

TEST(BlockCodecTest, StoredFrameWhoseSizesDisagreeIsRejectedFromItsHeader) {
  BlockEncoder enc;
  BlockDecoder dec;
  std::string bad = EncodeOrDie(enc, SomeInfo(), "tiny", BlockPayload::kStored);
  // Both checksums resealed: only the size rule can catch a raw size that
  // claims more than the stored payload holds.
  Put32(&bad, kRawSizeOffset, 1u << 20);
  ResealPayload(&bad);
  Result<BlockInfo> peek = BlockDecoder::ParseHeader(bad, "forged");
  ASSERT_FALSE(peek.ok());
  EXPECT_NE(peek.status().message().find("stored block of 4 bytes, header says 1048576"),
            std::string::npos)
      << peek.status().message();
  BlockInfo info;
  std::string out;
  EXPECT_EQ(dec.Decode(bad, "forged", &info, &out).code(), StatusCode::kCorruption);
  EXPECT_EQ(out.capacity() < (1u << 20), true) << "nothing allocated for the forged size";
}

TEST(BlockCodecTest, StoredFrameLargerThanTheReadersBufferIsCorruption) {
  BlockEncoder enc;
  BlockDecoder dec;
  const std::string frame = EncodeOrDie(enc, SomeInfo(), TextLike(4096, 12), BlockPayload::kStored);
  std::vector<char> buffer(4095);
  BlockInfo info;
  Status s = dec.DecodeTo(frame, "spill", &info, buffer.data(), buffer.size());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("exceeds the 4095 bytes its reader expected"), std::string::npos)
      << s.message();
  std::vector<char> enough(4096);
  ASSERT_TRUE(dec.DecodeTo(frame, "spill", &info, enough.data(), enough.size()).ok());
}

}  // namespace
}  // namespace sluice
