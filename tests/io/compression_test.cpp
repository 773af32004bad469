// Defends what the planner learns before reading a byte of data: the
// format from magic bytes alone (never the name), and the member starts of
// BGZF and multi-frame zstd files, each of which must decode to exactly the
// original bytes from its offset on.
#include "io/compression.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/decoded_file.h"
#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

std::string Text(size_t bytes, uint32_t seed = 1) {
  static const char* const kWords[] = {"index", "member", "block", "frame", "split",
                                       "plan",  "rank",   "bytes", "of",    "the"};
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(bytes + 64);
  for (uint64_t line = 0; s.size() < bytes; ++line) {
    s += std::to_string(line * 7919 % 100'003);
    for (int w = rng() % 10; w >= 0; --w) {
      s += ' ';
      s += kWords[rng() % std::size(kWords)];
    }
    s += '\n';
  }
  s.resize(bytes);
  return s;
}

void Sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

std::string ReadBytes(const std::string& path) {
  std::string s;
  EXPECT_TRUE(iotest::TryRead(path, &s)) << path;
  return s;
}

std::unique_ptr<ReadableFile> OpenRaw(const std::string& path) {
  Result<std::unique_ptr<ReadableFile>> f = FileSystem::Default()->OpenForRead(path);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? std::move(f).value() : nullptr;
}

Compression Detect(const std::string& path) {
  std::unique_ptr<ReadableFile> f = OpenRaw(path);
  Result<Compression> c = DetectCompression(*f);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : Compression::kNone;
}

Result<std::vector<MemberStart>> Index(const std::string& path, Compression c) {
  std::unique_ptr<ReadableFile> f = OpenRaw(path);
  return IndexMembers(*f, c);
}

// `data` compressed into `path` by a shell command reading IN, writing OUT.
void Make(const TempDir& dir, const std::string& data, const std::string& cmd,
          const std::string& path) {
  const std::string in = dir.Sub("input");
  WriteFile(in, data);
  Sh("IN='" + in + "' OUT='" + path + "'; " + cmd);
}

// The decoded bytes from `from` to the end of the file.
std::string DecodeFrom(const std::string& path, Compression c, MemberStart from) {
  std::unique_ptr<ReadableFile> f = OpenDecoded(OpenRaw(path), c, from);
  std::string out, buf(1 << 20, '\0');
  for (uint64_t at = from.uncompressed;;) {
    size_t got = 0;
    Status s = f->ReadAt(at, buf.size(), buf.data(), &got);
    EXPECT_TRUE(s.ok()) << s.ToString();
    out.append(buf.data(), got);
    at += got;
    if (!s.ok() || got < buf.size()) return out;
  }
}

// The promises every index makes, checked against the original bytes.
void CheckIndex(const std::string& path, Compression c, const std::vector<MemberStart>& members,
                const std::string& data) {
  ASSERT_GE(members.size(), 3u) << "at least two members and the final entry";
  EXPECT_EQ(members.front().compressed, 0u);
  EXPECT_EQ(members.front().uncompressed, 0u);
  EXPECT_EQ(members.back().compressed, ReadBytes(path).size());
  EXPECT_EQ(members.back().uncompressed, data.size());
  for (size_t i = 1; i < members.size(); ++i) {
    EXPECT_GT(members[i].compressed, members[i - 1].compressed) << i;
    EXPECT_GE(members[i].uncompressed, members[i - 1].uncompressed) << i;
  }
  for (size_t i = 0; i + 1 < members.size(); ++i) {
    const std::string got = DecodeFrom(path, c, members[i]);
    ASSERT_TRUE(got == data.substr(members[i].uncompressed))
        << "member " << i << " at " << members[i].compressed << " decodes to " << got.size()
        << " bytes, want " << data.size() - members[i].uncompressed;
  }
}

TEST(CompressionTest, Names) {
  EXPECT_STREQ(CompressionName(Compression::kNone), "none");
  EXPECT_STREQ(CompressionName(Compression::kGzip), "gzip");
  EXPECT_STREQ(CompressionName(Compression::kZstd), "zstd");
  EXPECT_STREQ(CompressionName(Compression::kBzip2), "bzip2");
  EXPECT_STREQ(CompressionName(Compression::kXz), "xz");
}

TEST(CompressionTest, DetectsEachToolsOutputByMagic) {
  TempDir dir;
  const std::string data = Text(200'000);
  struct Case {
    const char* cmd;
    Compression want;
  };
  for (const Case& k : {
           Case{"gzip -c \"$IN\" > \"$OUT\"", Compression::kGzip},
           Case{"bgzip -c \"$IN\" > \"$OUT\"", Compression::kGzip},
           Case{"zstd -q -c \"$IN\" > \"$OUT\"", Compression::kZstd},
           Case{"pzstd -q -p 2 -c \"$IN\" > \"$OUT\"", Compression::kZstd},
           Case{"bzip2 -c \"$IN\" > \"$OUT\"", Compression::kBzip2},
           Case{"bzip2 -c < /dev/null > \"$OUT\"", Compression::kBzip2},  // no block
           Case{"xz -c \"$IN\" > \"$OUT\"", Compression::kXz},
           Case{"cp \"$IN\" \"$OUT\"", Compression::kNone},
       }) {
    // The name says gzip whatever the content: it must not matter.
    const std::string path = dir.Sub("file.gz");
    Make(dir, data, k.cmd, path);
    EXPECT_EQ(Detect(path), k.want) << k.cmd;
  }
}

TEST(CompressionTest, PzstdStartsWithASkippableFrame) {
  TempDir dir;
  Make(dir, Text(10'000), "pzstd -q -p 2 -c \"$IN\" > \"$OUT\"", dir.Sub("p.zst"));
  const std::string bytes = ReadBytes(dir.Sub("p.zst"));
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]) & 0xf0, 0x50);
  EXPECT_EQ(bytes.substr(1, 3), "\x2a\x4d\x18");
  EXPECT_EQ(Detect(dir.Sub("p.zst")), Compression::kZstd);
  // Every skippable magic counts, not just pzstd's.
  WriteFile(dir.Sub("skip"), std::string("\x5f\x2a\x4d\x18\0\0\0\0", 8));
  EXPECT_EQ(Detect(dir.Sub("skip")), Compression::kZstd);
}

TEST(CompressionTest, TextThatLooksAlmostCompressedIsNone) {
  TempDir dir;
  for (const std::string& text :
       {std::string(""), std::string("\x1f"), std::string("BZh"), std::string("BZh9"),
        std::string("BZh9 and then text\n"), std::string("BZhx is not bzip2\n"),
        std::string("BZh0\x31\x41\x59\x26\x53\x59"), std::string("\x28\xb5\x2f"),
        std::string("\xfd\x37\x7a\x58\x5a"), std::string("\x4f\x2a\x4d\x18 almost skippable"),
        std::string("plain text that mentions gzip\n")}) {
    WriteFile(dir.Sub("t.gz"), text);
    EXPECT_EQ(Detect(dir.Sub("t.gz")), Compression::kNone) << "'" << text << "'";
  }
  // The shortest real magic: two bytes are enough for gzip.
  WriteFile(dir.Sub("t"), "\x1f\x8b");
  EXPECT_EQ(Detect(dir.Sub("t")), Compression::kGzip);
  WriteFile(dir.Sub("t"), std::string("BZh1\x31\x41\x59\x26\x53\x59", 10));
  EXPECT_EQ(Detect(dir.Sub("t")), Compression::kBzip2);
}

TEST(CompressionTest, BgzfMemberStartsEveryBlock) {
  TempDir dir;
  const std::string data = Text(2 << 20, 3);
  const std::string path = dir.Sub("b.gz");
  Make(dir, data, "bgzip -c \"$IN\" > \"$OUT\"", path);
  Result<std::vector<MemberStart>> members = Index(path, Compression::kGzip);
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  // bgzip cuts the input every 65280 bytes and ends with an empty block.
  const size_t blocks = (data.size() + 65279) / 65280 + 1;
  EXPECT_EQ(members->size(), blocks + 1);
  const std::string bytes = ReadBytes(path);
  for (size_t i = 0; i + 1 < members->size(); ++i) {
    const MemberStart& m = (*members)[i];
    ASSERT_LT(m.compressed + 1, bytes.size());
    EXPECT_EQ(bytes.substr(m.compressed, 2), "\x1f\x8b") << i;
    EXPECT_EQ(m.uncompressed, std::min<uint64_t>(i * 65280, data.size())) << i;
  }
  CheckIndex(path, Compression::kGzip, *members, data);
}

// pzstd (1.5.4) writes its frames through the streaming API without the
// input size: no frame states its content size, so the decoded offsets of
// its frames cannot be known without decoding, and the file is not split.
TEST(CompressionTest, PzstdFramesHaveNoContentSizeSoAreNotSplit) {
  TempDir dir;
  const std::string data = Text(20 << 20, 4);
  const std::string path = dir.Sub("p.zst");
  Make(dir, data, "pzstd -q -p 2 -c \"$IN\" > \"$OUT\"", path);
  Result<std::vector<MemberStart>> members = Index(path, Compression::kZstd);
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  EXPECT_TRUE(members->empty());
  EXPECT_TRUE(DecodeFrom(path, Compression::kZstd, {}) == data);
}

// Frames that state their sizes, from the zstd tool, concatenated; with a
// skippable frame before each (the layout pzstd uses) and after the last.
TEST(CompressionTest, ZstdMemberStartsEveryDataFrame) {
  TempDir dir;
  const std::string data = Text(20 << 20, 5);
  const size_t piece = 6 << 20;
  std::string plain, skipping;
  std::vector<uint64_t> plain_starts, skipping_starts;
  for (size_t at = 0; at < data.size(); at += piece) {
    const std::string in = dir.Sub("piece");
    WriteFile(in, data.substr(at, piece));
    Sh("zstd -q -c '" + in + "' > '" + in + ".zst'");
    const std::string frame = ReadBytes(in + ".zst");
    plain_starts.push_back(plain.size());
    plain += frame;
    skipping_starts.push_back(skipping.size());
    const std::string skippable = std::string("\x50\x2a\x4d\x18\x05\0\0\0", 8) + "hello";
    skipping += skippable + frame;
  }
  skipping += std::string("\x5a\x2a\x4d\x18\0\0\0\0", 8);  // empty, after the last
  for (const auto& [bytes, starts] :
       {std::pair{plain, plain_starts}, std::pair{skipping, skipping_starts}}) {
    const std::string path = dir.Sub("cat.zst");
    WriteFile(path, bytes);
    Result<std::vector<MemberStart>> members = Index(path, Compression::kZstd);
    ASSERT_TRUE(members.ok()) << members.status().ToString();
    ASSERT_EQ(members->size(), starts.size() + 1);
    for (size_t i = 0; i < starts.size(); ++i) {
      // A member starts where the previous data frame ended: at the
      // skippable frame before its own.
      EXPECT_EQ((*members)[i].compressed, starts[i]) << i;
      EXPECT_EQ((*members)[i].uncompressed, i * piece) << i;
    }
    CheckIndex(path, Compression::kZstd, *members, data);
  }
}

TEST(CompressionTest, NotSplittableIsEmpty) {
  TempDir dir;
  const std::string data = Text(300'000, 6);
  struct Case {
    const char* cmd;
    Compression c;
  };
  for (const Case& k : {
           Case{"gzip -c \"$IN\" > \"$OUT\"", Compression::kGzip},
           Case{"gzip -c \"$IN\" > \"$OUT\"; gzip -c \"$IN\" >> \"$OUT\"", Compression::kGzip},
           Case{"bgzip -c \"$IN\" > \"$OUT\"; gzip -c \"$IN\" >> \"$OUT\"", Compression::kGzip},
           Case{"head -c 1000 \"$IN\" | bgzip -c > \"$OUT\"", Compression::kGzip},  // one block
           Case{"bgzip -c < /dev/null > \"$OUT\"", Compression::kGzip},
           Case{"zstd -q -c \"$IN\" > \"$OUT\"", Compression::kZstd},
           Case{"zstd -q -c --no-content-size \"$IN\" > \"$OUT\"; cat \"$OUT\" \"$OUT\" > "
                "\"$OUT.2\";"
                " mv \"$OUT.2\" \"$OUT\"",
                Compression::kZstd},
           Case{"cat \"$IN\" | zstd -q -c > \"$OUT\"; cat \"$OUT\" \"$OUT\" > \"$OUT.2\";"
                " mv \"$OUT.2\" \"$OUT\"",
                Compression::kZstd},
           Case{"bzip2 -c \"$IN\" \"$IN\" > \"$OUT\"", Compression::kBzip2},
           Case{"xz -c \"$IN\" > \"$OUT\"; xz -c \"$IN\" >> \"$OUT\"", Compression::kXz},
           Case{"cp \"$IN\" \"$OUT\"", Compression::kNone},
       }) {
    const std::string path = dir.Sub("f");
    Make(dir, data, k.cmd, path);
    Result<std::vector<MemberStart>> members = Index(path, k.c);
    ASSERT_TRUE(members.ok()) << k.cmd << ": " << members.status().ToString();
    EXPECT_TRUE(members->empty()) << k.cmd << ": " << members->size() << " entries";
  }
}

TEST(CompressionTest, BrokenHeadersAreBadInputNamingTheOffset) {
  TempDir dir;
  const std::string data = Text(1 << 20, 7);
  Make(dir, data, "bgzip -c \"$IN\" > \"$OUT\"", dir.Sub("b.gz"));
  const std::string bgzf = ReadBytes(dir.Sub("b.gz"));
  Result<std::vector<MemberStart>> good = Index(dir.Sub("b.gz"), Compression::kGzip);
  ASSERT_TRUE(good.ok() && good->size() > 4);
  const uint64_t third = (*good)[2].compressed;
  const std::string path = dir.Sub("broken");
  struct Case {
    std::string bytes;
    std::string want;
  };
  std::string bad_magic = bgzf;
  bad_magic[third] = 'x';
  std::string small_bsize = bgzf;
  small_bsize[third + 16] = 3;  // BSIZE's low byte: a block too small for its header
  small_bsize[third + 17] = 0;
  for (const Case& k : {
           Case{
               bgzf.substr(0, third + 5),
               "ends in the middle of the gzip member at compressed byte " + std::to_string(third)},
           Case{
               bgzf.substr(0, third + 100),
               "ends in the middle of the gzip member at compressed byte " + std::to_string(third)},
           Case{bgzf + "junk", "trailing garbage"},
           Case{bgzf + "j", "trailing garbage"},
           Case{bgzf + "\x1f", "ends in the middle of the gzip member at compressed byte " +
                                   std::to_string(bgzf.size())},
           Case{bad_magic, "at compressed byte " + std::to_string(third) + ": trailing garbage"},
           Case{small_bsize, "at compressed byte " + std::to_string(third) + ": BGZF block size 4"},
       }) {
    WriteFile(path, k.bytes);
    Result<std::vector<MemberStart>> members = Index(path, Compression::kGzip);
    ASSERT_FALSE(members.ok()) << k.want;
    EXPECT_EQ(members.status().code(), StatusCode::kBadInput);
    EXPECT_NE(members.status().message().find("'" + path + "'"), std::string::npos);
    EXPECT_NE(members.status().message().find(k.want), std::string::npos)
        << members.status().message();
  }

  // zstd: two frames, the second cut short or with a reserved block type.
  WriteFile(dir.Sub("a"), data);
  Sh("zstd -q -c '" + dir.Sub("a") + "' > '" + dir.Sub("a.zst") + "'");
  const std::string frame = ReadBytes(dir.Sub("a.zst"));
  // zstd -q on a 1 MiB file: magic, descriptor, window descriptor unless
  // single-segment, no dictionary, a 4-byte content size.
  const uint8_t fhd = static_cast<uint8_t>(frame[4]);
  ASSERT_EQ(fhd >> 6, 2);
  ASSERT_EQ(fhd & 3, 0);
  const size_t first_block = frame.size() + 4 + 1 + ((fhd & 0x20) ? 0 : 1) + 4;
  std::string reserved = frame + frame;
  reserved[first_block] = static_cast<char>(reserved[first_block] | 0x06);
  for (const Case& k : {
           Case{frame + frame.substr(0, frame.size() - 1),
                "ends in the middle of the zstd member at compressed byte " +
                    std::to_string(frame.size())},
           Case{frame + frame.substr(0, 7),
                "ends in the middle of the zstd member at compressed byte " +
                    std::to_string(frame.size())},
           Case{reserved, "corrupt zstd data in '" + path + "' at compressed byte " +
                              std::to_string(first_block) + ": reserved block type"},
           Case{frame + frame + "junk", "trailing garbage"},
           Case{frame + "x", "trailing garbage"},
           Case{frame + "\x5e\x2a", "ends in the middle of the zstd member at compressed byte " +
                                        std::to_string(frame.size())},
       }) {
    WriteFile(path, k.bytes);
    Result<std::vector<MemberStart>> members = Index(path, Compression::kZstd);
    ASSERT_FALSE(members.ok()) << k.want;
    EXPECT_EQ(members.status().code(), StatusCode::kBadInput);
    EXPECT_NE(members.status().message().find(k.want), std::string::npos)
        << members.status().message();
  }
}

// The walk runs on one rank for every input at plan time: it must read
// headers, not data. A 64 MiB BGZF file of ~1000 blocks; the bound is loose
// (a shared test machine) but ten times what reading the data would take.
TEST(CompressionTest, IndexingReadsHeadersOnly) {
  TempDir dir;
  const std::string path = dir.Sub("big.gz");
  Make(dir, Text(64 << 20, 8), "bgzip -l 1 -@ 2 -c \"$IN\" > \"$OUT\"", path);
  std::unique_ptr<ReadableFile> f = OpenRaw(path);
  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<MemberStart>> members = IndexMembers(*f, Compression::kGzip);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  EXPECT_EQ(members->back().uncompressed, uint64_t{64} << 20);
  EXPECT_LT(ms, 200) << members->size() << " members";
}

}  // namespace
}  // namespace sluice
