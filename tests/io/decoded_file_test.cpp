// Defends OpenDecoded's promises: the decoded bytes are exactly what the
// format's own tool compressed, whole files of several members included;
// truncated, corrupt and trailing-garbage files are kBadInput naming the
// file and the offset, never a short or silently wrong read; reads go
// forwards only.
#include "io/decoded_file.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/compression.h"
#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

// Lines of words from a small vocabulary: compresses like real text, with
// long back references across blocks.
std::string Text(size_t bytes, uint32_t seed = 1) {
  static const char* const kWords[] = {"map",   "reduce", "shuffle", "split", "sluice",
                                       "gzip",  "member", "frame",   "block", "record",
                                       "alpha", "omega",  "the",     "of",    "and"};
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(bytes + 64);
  for (uint64_t line = 0; s.size() < bytes; ++line) {
    s += std::to_string(line);
    for (int w = rng() % 12; w >= 0; --w) {
      s += ' ';
      s += kWords[rng() % std::size(kWords)];
    }
    s += '\n';
  }
  s.resize(bytes);
  return s;
}

// Incompressible bytes: zstd stores them in raw blocks and deflate in stored
// ones, so only a checksum can notice a changed byte.
std::string Noise(size_t bytes, uint32_t seed = 2) {
  std::mt19937 rng(seed);
  std::string s(bytes, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void Sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

std::string ReadBytes(const std::string& path) {
  std::string s;
  EXPECT_TRUE(iotest::TryRead(path, &s)) << path;
  return s;
}

std::unique_ptr<ReadableFile> Open(const std::string& path, Compression c, MemberStart from = {}) {
  Result<std::unique_ptr<ReadableFile>> f = FileSystem::Default()->OpenForRead(path);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return nullptr;
  return OpenDecoded(std::move(f).value(), c, from);
}

// All decoded bytes from `offset` on, read in pieces of `chunk` bytes; the
// first failure instead, if any.
Result<std::string> ReadAll(ReadableFile& file, uint64_t offset = 0, size_t chunk = 100'003) {
  std::string out;
  std::string buf(chunk, '\0');
  while (true) {
    size_t got = 0;
    SLUICE_RETURN_IF_ERROR(file.ReadAt(offset, chunk, buf.data(), &got));
    out.append(buf.data(), got);
    offset += got;
    if (got < chunk) return out;
  }
}

Result<std::string> DecodeFile(const std::string& path, Compression c, size_t chunk = 100'003) {
  std::unique_ptr<ReadableFile> f = Open(path, c);
  if (f == nullptr) return Status::Internal("open failed");
  return ReadAll(*f, 0, chunk);
}

struct Format {
  const char* name;
  Compression c;
  const char* compress;  // shell command: compresses $IN into $OUT
};

const Format kFormats[] = {
    {"gzip", Compression::kGzip, "gzip -6 -c \"$IN\" > \"$OUT\""},
    {"bgzip", Compression::kGzip, "bgzip -c \"$IN\" > \"$OUT\""},
    {"zstd", Compression::kZstd, "zstd -q -c \"$IN\" > \"$OUT\""},
    {"pzstd", Compression::kZstd, "pzstd -q -p 2 -c \"$IN\" > \"$OUT\""},
    {"zstd_stdin", Compression::kZstd, "zstd -q -c < \"$IN\" > \"$OUT\""},
    {"bzip2", Compression::kBzip2, "bzip2 -1 -c \"$IN\" > \"$OUT\""},
    {"xz", Compression::kXz, "xz -1 -c \"$IN\" > \"$OUT\""},
};

// Compresses `data` with the format's tool; returns the compressed path.
std::string Compress(const TempDir& dir, const Format& f, const std::string& name,
                     const std::string& data) {
  const std::string in = dir.Sub(name);
  const std::string out = in + "." + f.name;
  WriteFile(in, data);
  Sh(std::string("IN='") + in + "' OUT='" + out + "'; " + f.compress);
  return out;
}

class DecodedFileFormatTest : public ::testing::TestWithParam<Format> {};

TEST_P(DecodedFileFormatTest, RoundTripsEverySize) {
  TempDir dir;
  for (size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{3} << 20}) {
    const std::string data = Text(size, static_cast<uint32_t>(size));
    const std::string path = Compress(dir, GetParam(), "in" + std::to_string(size), data);
    Result<std::string> got = DecodeFile(path, GetParam().c);
    ASSERT_TRUE(got.ok()) << GetParam().name << " " << size << ": " << got.status().ToString();
    EXPECT_TRUE(*got == data) << GetParam().name << " size " << size << " decoded to "
                              << got->size() << " bytes";
  }
}

TEST_P(DecodedFileFormatTest, OddReadSizesSeeTheSameBytes) {
  TempDir dir;
  const std::string data = Text(700'000, 5);
  const std::string path = Compress(dir, GetParam(), "odd", data);
  for (size_t chunk : {size_t{1} << 0, size_t{7}, size_t{4096}, size_t{20} << 20}) {
    if (chunk == 1) {
      // One byte a read is slow: only the start.
      std::unique_ptr<ReadableFile> f = Open(path, GetParam().c);
      std::string first;
      for (uint64_t i = 0; i < 5000; ++i) {
        char b = 0;
        size_t got = 0;
        ASSERT_TRUE(f->ReadAt(i, 1, &b, &got).ok());
        ASSERT_EQ(got, 1u);
        first += b;
      }
      EXPECT_EQ(first, data.substr(0, 5000));
      continue;
    }
    Result<std::string> got = DecodeFile(path, GetParam().c, chunk);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == data) << GetParam().name << " in reads of " << chunk;
  }
}

// Cut inside the first header, in the middle, and inside the last trailer.
TEST_P(DecodedFileFormatTest, TruncatedFileIsBadInputSayingTruncated) {
  TempDir dir;
  const std::string data = Text(2 << 20, 9);
  const std::string whole = ReadBytes(Compress(dir, GetParam(), "t", data));
  ASSERT_GT(whole.size(), 100u);
  for (size_t cut : {size_t{1}, size_t{3}, size_t{9}, whole.size() / 2, whole.size() - 9,
                     whole.size() - 3, whole.size() - 1}) {
    // BGZF's last 28 bytes are an empty member: cutting it off leaves a
    // whole file, so cut before it.
    if (std::string(GetParam().name) == "bgzip" && cut > whole.size() - 28) cut -= 28;
    const std::string path = dir.Sub("cut" + std::to_string(cut));
    WriteFile(path, whole.substr(0, cut));
    Result<std::string> got = DecodeFile(path, GetParam().c);
    ASSERT_FALSE(got.ok()) << GetParam().name << " cut at " << cut << " of " << whole.size();
    EXPECT_EQ(got.status().code(), StatusCode::kBadInput);
    const std::string& m = got.status().message();
    EXPECT_NE(m.find("'" + path + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("truncated"), std::string::npos)
        << GetParam().name << " cut " << cut << ": " << m;
    EXPECT_NE(m.find(std::string(CompressionName(GetParam().c)) + " member"), std::string::npos)
        << m;
    EXPECT_NE(m.find("compressed byte " + std::to_string(cut)), std::string::npos) << m;
  }
}

TEST_P(DecodedFileFormatTest, FlippedByteIsBadInputSayingCorrupt) {
  TempDir dir;
  const std::string data = Text(2 << 20, 11);
  std::string bytes = ReadBytes(Compress(dir, GetParam(), "c", data));
  for (size_t at : {bytes.size() / 3, bytes.size() / 2}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    const std::string path = dir.Sub("flip" + std::to_string(at));
    WriteFile(path, bad);
    Result<std::string> got = DecodeFile(path, GetParam().c);
    ASSERT_FALSE(got.ok()) << GetParam().name << " flipped at " << at;
    EXPECT_EQ(got.status().code(), StatusCode::kBadInput);
    const std::string& m = got.status().message();
    EXPECT_EQ(m.rfind(std::string("corrupt ") + CompressionName(GetParam().c) + " data in '" +
                          path + "' at compressed byte ",
                      0),
              0u)
        << m;
    EXPECT_NE(m.find("(after uncompressed byte "), std::string::npos) << m;
  }
}

TEST_P(DecodedFileFormatTest, TrailingGarbageIsAnError) {
  TempDir dir;
  const std::string data = Text(100'000, 13);
  const std::string bytes = ReadBytes(Compress(dir, GetParam(), "g", data));
  // Zeros, but not a multiple of 4 of them: that would be xz stream padding.
  for (std::string garbage :
       {std::string("garbage after the end\n"), std::string(15, '\0'), std::string("x")}) {
    const std::string path = dir.Sub("garbage");
    WriteFile(path, bytes + garbage);
    Result<std::string> got = DecodeFile(path, GetParam().c);
    ASSERT_FALSE(got.ok()) << GetParam().name << " + " << garbage.size() << " bytes";
    EXPECT_EQ(got.status().code(), StatusCode::kBadInput);
    const std::string& m = got.status().message();
    EXPECT_NE(m.find("'" + path + "'"), std::string::npos) << m;
    if (GetParam().c == Compression::kXz) {
      // liblzma looks for stream padding or another stream and says which
      // it found: corrupt or truncated, never ignored.
      continue;
    }
    EXPECT_NE(m.find("trailing garbage"), std::string::npos) << GetParam().name << ": " << m;
    EXPECT_NE(m.find("compressed byte " + std::to_string(bytes.size())), std::string::npos) << m;
  }
}

INSTANTIATE_TEST_SUITE_P(DecodedByTool, DecodedFileFormatTest, ::testing::ValuesIn(kFormats),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DecodedFileTest, ConcatenatedMembersDecodeAsOneStream) {
  TempDir dir;
  const std::string a = Text(300'000, 21), b = Text(1, 22), c = Text(500'000, 23);
  struct Case {
    const char* tool;
    Compression comp;
  };
  for (const Case& k : {Case{"gzip -c", Compression::kGzip}, Case{"zstd -q -c", Compression::kZstd},
                        Case{"bzip2 -c", Compression::kBzip2}, Case{"xz -c", Compression::kXz}}) {
    std::string cat;
    for (const std::string* part : {&a, &b, &c}) {
      const std::string in = dir.Sub("part");
      WriteFile(in, *part);
      Sh(std::string(k.tool) + " '" + in + "' > '" + in + ".z'");
      cat += ReadBytes(in + ".z");
    }
    const std::string path = dir.Sub("cat");
    WriteFile(path, cat);
    Result<std::string> got = DecodeFile(path, k.comp);
    ASSERT_TRUE(got.ok()) << k.tool << ": " << got.status().ToString();
    EXPECT_TRUE(*got == a + b + c) << k.tool;
  }
}

// bzip2 -c of several files writes one stream after another, as pbzip2 does.
TEST(DecodedFileTest, MultiStreamBzip2FromTheTool) {
  TempDir dir;
  const std::string a = Text(200'000, 31), b = Text(200'000, 32);
  WriteFile(dir.Sub("a"), a);
  WriteFile(dir.Sub("b"), b);
  Sh("bzip2 -c '" + dir.Sub("a") + "' '" + dir.Sub("b") + "' > '" + dir.Sub("ab.bz2") + "'");
  Result<std::string> got = DecodeFile(dir.Sub("ab.bz2"), Compression::kBzip2);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == a + b);
}

// xz allows zero padding (a multiple of 4 bytes) between and after streams.
TEST(DecodedFileTest, XzStreamPaddingIsAllowed) {
  TempDir dir;
  const std::string a = Text(50'000, 33);
  WriteFile(dir.Sub("a"), a);
  Sh("xz -c '" + dir.Sub("a") + "' > '" + dir.Sub("a.xz") + "'");
  const std::string one = ReadBytes(dir.Sub("a.xz"));
  WriteFile(dir.Sub("padded.xz"), one + std::string(8, '\0') + one + std::string(4, '\0'));
  Result<std::string> got = DecodeFile(dir.Sub("padded.xz"), Compression::kXz);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == a + a);
}

// A gzip header with every optional field (zlib writes them; gzip rarely
// does), and a header CRC: ISA-L must parse past all of them.
TEST(DecodedFileTest, GzipHeaderWithEveryOptionalField) {
  TempDir dir;
  const std::string data = Text(80'000, 41);
  std::string gz(compressBound(data.size()) + 1024, '\0');
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  char extra[] =
      "XY\x03\x00"
      "abc";
  char name[] = "name.txt";
  char comment[] = "a comment";
  gz_header h{};
  h.extra = reinterpret_cast<Bytef*>(extra);
  h.extra_len = 7;
  h.name = reinterpret_cast<Bytef*>(name);
  h.comment = reinterpret_cast<Bytef*>(comment);
  h.hcrc = 1;
  ASSERT_EQ(deflateSetHeader(&z, &h), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = data.size();
  z.next_out = reinterpret_cast<Bytef*>(gz.data());
  z.avail_out = gz.size();
  ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  gz.resize(z.total_out);
  deflateEnd(&z);
  WriteFile(dir.Sub("h.gz"), gz + gz);
  Result<std::string> got = DecodeFile(dir.Sub("h.gz"), Compression::kGzip);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data + data);
}

// Stored deflate blocks decode whatever their bytes: only the CRC-32 (and,
// for the last bytes, ISIZE) can tell that one changed.
// BGZF blocks go through another decoder (libdeflate) when whole: the same
// checks, the same message.
TEST(DecodedFileTest, GzipCrcAndLengthAreChecked) {
  TempDir dir;
  const std::string data = Noise(200'000);
  WriteFile(dir.Sub("n"), data);
  struct Case {
    const char* tool;
    size_t tail;  // bytes after the last data member: BGZF's empty block
  };
  for (const Case& k : {Case{"gzip -1 -c", 0}, Case{"bgzip -c", 28}}) {
    Sh(std::string(k.tool) + " '" + dir.Sub("n") + "' > '" + dir.Sub("n.gz") + "'");
    const std::string gz = ReadBytes(dir.Sub("n.gz"));
    ASSERT_GT(gz.size(), data.size()) << "stored, not compressed";
    const size_t end = gz.size() - k.tail;
    for (size_t at : {gz.size() / 2, end - 6, end - 2}) {  // payload, CRC-32, ISIZE
      std::string bad = gz;
      bad[at] = static_cast<char>(bad[at] ^ 1);
      WriteFile(dir.Sub("bad.gz"), bad);
      for (size_t chunk : {size_t{1000}, size_t{1} << 20}) {  // member > read, and <
        Result<std::string> got = DecodeFile(dir.Sub("bad.gz"), Compression::kGzip, chunk);
        ASSERT_FALSE(got.ok()) << k.tool << " flip at " << at;
        EXPECT_EQ(got.status().code(), StatusCode::kBadInput);
        EXPECT_NE(got.status().message().find("CRC-32 or length check failed"), std::string::npos)
            << k.tool << ": " << got.status().message();
      }
    }
  }
}

TEST(DecodedFileTest, ZstdChecksumIsChecked) {
  TempDir dir;
  const std::string data = Noise(300'000, 5);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ASSERT_NE(cctx, nullptr);
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
  std::string z(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress2(cctx, z.data(), z.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  ASSERT_FALSE(ZSTD_isError(n));
  z.resize(n);
  z[n / 2] = static_cast<char>(z[n / 2] ^ 1);  // inside a raw block
  WriteFile(dir.Sub("bad.zst"), z);
  Result<std::string> got = DecodeFile(dir.Sub("bad.zst"), Compression::kZstd);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kBadInput);
  EXPECT_NE(got.status().message().find("checksum"), std::string::npos) << got.status().message();
}

TEST(DecodedFileTest, ReadsSkipAheadAndSeeTheRightBytes) {
  TempDir dir;
  const std::string data = Text(3 << 20, 51);
  for (const Format& f : kFormats) {
    const std::string path = Compress(dir, f, "skip", data);
    std::unique_ptr<ReadableFile> file = Open(path, f.c);
    EXPECT_EQ(file->size(), UINT64_MAX);
    EXPECT_EQ(file->path(), path);
    std::string buf(5000, '\0');
    // Each read starts after the previous one ended: near, far, at once.
    for (uint64_t offset : {uint64_t{0}, uint64_t{5000}, uint64_t{10'001}, uint64_t{123'456},
                            uint64_t{2'000'000}, uint64_t{(3 << 20) - 100}}) {
      size_t got = 0;
      Status s = file->ReadAt(offset, buf.size(), buf.data(), &got);
      ASSERT_TRUE(s.ok()) << f.name << " at " << offset << ": " << s.ToString();
      const size_t want = std::min<uint64_t>(buf.size(), data.size() - offset);
      ASSERT_EQ(got, want) << f.name << " at " << offset;
      EXPECT_EQ(buf.substr(0, got), data.substr(offset, got)) << f.name << " at " << offset;
    }
    size_t got = 7;
    ASSERT_TRUE(file->ReadAt(data.size() + 1000, 10, buf.data(), &got).ok());
    EXPECT_EQ(got, 0u) << "past the end";
    ASSERT_TRUE(file->ReadAt(data.size() + 1000, 10, buf.data(), &got).ok());
    EXPECT_EQ(got, 0u) << "past the end, again";
  }
}

TEST(DecodedFileTest, ReadBehindTheDecoderIsInternal) {
  TempDir dir;
  const std::string path = Compress(dir, kFormats[0], "behind", Text(100'000));
  std::unique_ptr<ReadableFile> file = Open(path, Compression::kGzip);
  std::string buf(1000, '\0');
  size_t got = 0;
  ASSERT_TRUE(file->ReadAt(500, 1000, buf.data(), &got).ok());
  ASSERT_TRUE(file->ReadAt(1500, 0, buf.data(), &got).ok());
  EXPECT_EQ(file->ReadAt(1499, 10, buf.data(), &got).code(), StatusCode::kInternal);
  EXPECT_EQ(file->ReadAt(0, 10, buf.data(), &got).code(), StatusCode::kInternal);
  // A caller's mistake does not break the stream.
  ASSERT_TRUE(file->ReadAt(1500, 10, buf.data(), &got).ok());
  EXPECT_EQ(got, 10u);
}

TEST(DecodedFileTest, ReadBeforeTheMemberStartIsInternal) {
  TempDir dir;
  const std::string data = Text(1 << 20, 61);
  const std::string path = Compress(dir, kFormats[1], "m", data);  // bgzip
  std::unique_ptr<ReadableFile> raw = FileSystem::Default()->OpenForRead(path).value();
  Result<std::vector<MemberStart>> members = IndexMembers(*raw, Compression::kGzip);
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  ASSERT_GE(members->size(), 3u);
  const MemberStart from = (*members)[1];
  std::unique_ptr<ReadableFile> file = Open(path, Compression::kGzip, from);
  std::string buf(10, '\0');
  size_t got = 0;
  EXPECT_EQ(file->ReadAt(from.uncompressed - 1, 10, buf.data(), &got).code(),
            StatusCode::kInternal);
  ASSERT_TRUE(file->ReadAt(from.uncompressed, 10, buf.data(), &got).ok());
  EXPECT_EQ(buf.substr(0, got), data.substr(from.uncompressed, 10));

  // The final entry is where the file ends: an empty stream.
  std::unique_ptr<ReadableFile> end = Open(path, Compression::kGzip, members->back());
  ASSERT_TRUE(end->ReadAt(data.size(), 10, buf.data(), &got).ok());
  EXPECT_EQ(got, 0u);
}

TEST(DecodedFileTest, ErrorsStayAndNamePositions) {
  TempDir dir;
  const std::string data = Text(1 << 20, 71);
  std::string gz = ReadBytes(Compress(dir, kFormats[0], "e", data));
  gz.resize(gz.size() / 2);
  WriteFile(dir.Sub("half.gz"), gz);
  std::unique_ptr<ReadableFile> file = Open(dir.Sub("half.gz"), Compression::kGzip);
  Result<std::string> first = ReadAll(*file);
  ASSERT_FALSE(first.ok());
  const std::string expect_prefix = "'" + dir.Sub("half.gz") +
                                    "' ends in the middle of a gzip member at compressed byte " +
                                    std::to_string(gz.size()) + " (after uncompressed byte ";
  EXPECT_EQ(first.status().message().rfind(expect_prefix, 0), 0u) << first.status().message();
  EXPECT_NE(first.status().message().find("): the file is truncated"), std::string::npos);
  // Later reads, even ahead, fail the same way.
  char b = 0;
  size_t got = 0;
  Status again = file->ReadAt(UINT64_MAX / 2, 1, &b, &got);
  EXPECT_EQ(again.code(), StatusCode::kBadInput);
  EXPECT_EQ(again.message(), first.status().message());
}

TEST(DecodedFileTest, EmptyFileIsTruncated) {
  TempDir dir;
  WriteFile(dir.Sub("empty"), "");
  for (Compression c :
       {Compression::kGzip, Compression::kZstd, Compression::kBzip2, Compression::kXz}) {
    Result<std::string> got = DecodeFile(dir.Sub("empty"), c);
    ASSERT_FALSE(got.ok()) << CompressionName(c);
    EXPECT_NE(got.status().message().find("truncated"), std::string::npos)
        << got.status().message();
  }
}

TEST(DecodedFileTest, NoneIsInternal) {
  TempDir dir;
  WriteFile(dir.Sub("plain"), "text\n");
  Result<std::string> got = DecodeFile(dir.Sub("plain"), Compression::kNone);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
}

// A read failure of the compressed file reaches the caller as it was.
class FailingFile final : public ReadableFile {
 public:
  FailingFile(std::unique_ptr<ReadableFile> inner, uint64_t fail_at)
      : inner_(std::move(inner)), fail_at_(fail_at) {}
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    if (offset + n > fail_at_) return Status::IOError("read '" + path() + "': EIO");
    return inner_->ReadAt(offset, n, dst, got);
  }
  uint64_t size() const override { return inner_->size(); }
  const std::string& path() const override { return inner_->path(); }

 private:
  std::unique_ptr<ReadableFile> inner_;
  uint64_t fail_at_;
};

TEST(DecodedFileTest, ReadErrorsPassThrough) {
  TempDir dir;
  // Incompressible, so that the compressed file is several input buffers.
  const std::string path = Compress(dir, kFormats[2], "io", Noise(4 << 20, 81));  // zstd
  std::unique_ptr<ReadableFile> file = OpenDecoded(
      std::make_unique<FailingFile>(FileSystem::Default()->OpenForRead(path).value(), 1 << 20),
      Compression::kZstd, {});
  Result<std::string> got = ReadAll(*file);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kIOError);
  EXPECT_NE(got.status().message().find("EIO"), std::string::npos);
}

}  // namespace
}  // namespace sluice
