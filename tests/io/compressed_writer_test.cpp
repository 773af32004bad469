// Defends CompressedWritableFile (io/compressed_writer.h): what it writes is
// read back byte for byte by the standard tools (zstd, zcat, gzip, bgzip),
// has the member structure that lets Sluice split it (zstd frames stating
// their size; BGZF blocks with the BC field and the EOF block), is the same
// whatever the Append calls, and is what the manifest's size and xxh3 say.
#include "io/compressed_writer.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;

// Text that compresses like real output: words, numbers, tabs, newlines.
std::string SomeText(size_t bytes, uint32_t seed = 1) {
  static const char* kWords[] = {"alpha",  "beta", "gamma",  "delta",
                                 "sluice", "map",  "reduce", "the"};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < bytes) {
    s += kWords[rng() % 8];
    s += '\t';
    s += std::to_string(rng() % 100000);
    s += '\n';
  }
  s.resize(bytes);
  return s;
}

std::string RandomBytes(size_t bytes) {
  std::mt19937_64 rng(7);
  std::string s(bytes, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Writes `data` to `path` through a CompressedWritableFile, `chunk` bytes
// per Append; returns the writer's (file_bytes, file_xxh3).
std::pair<uint64_t, uint64_t> WriteCompressed(const std::string& path, const std::string& data,
                                              CompressedWriterOptions options,
                                              size_t chunk = 1 << 20) {
  auto base = FileSystem::Default()->Create(path);
  EXPECT_TRUE(base.ok()) << base.status().ToString();
  auto file = CompressedWritableFile::Wrap(std::move(base).value(), options);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  for (size_t at = 0; at < data.size(); at += chunk) {
    EXPECT_TRUE((*file)->Append(std::string_view(data).substr(at, chunk)).ok());
  }
  Status closed = (*file)->Close();
  EXPECT_TRUE(closed.ok()) << closed.ToString();
  EXPECT_EQ((*file)->raw_bytes(), data.size());
  return {(*file)->file_bytes(), (*file)->file_xxh3()};
}

std::string Read(const std::string& path) {
  std::string s;
  EXPECT_TRUE(iotest::TryRead(path, &s)) << path;
  return s;
}

// Runs a shell command; its exit status (127: the tool is missing).
int Shell(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The tools must be there (scripts/install-deps installs zstd and tabix):
// a test that skipped without them would prove nothing.
void ExpectTool(const char* tool) {
  ASSERT_EQ(Shell(std::string("command -v ") + tool + " >/dev/null"), 0)
      << tool << " is not installed (scripts/install-deps installs it)";
}

uint32_t Le16(const std::string& s, size_t at) {
  return static_cast<uint8_t>(s[at]) | static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 8;
}
uint32_t Le32(const std::string& s, size_t at) { return Le16(s, at) | Le16(s, at + 2) << 16; }

// A BGZF file cut into its blocks, each checked as the SAM specification
// (section 4.1) describes it; the ISIZE of each.
std::vector<uint32_t> BgzfBlockSizes(const std::string& file) {
  std::vector<uint32_t> isizes;
  size_t at = 0;
  while (at < file.size()) {
    EXPECT_GE(file.size() - at, 28u) << "truncated block at " << at;
    if (file.size() - at < 28) break;
    EXPECT_EQ(static_cast<uint8_t>(file[at]), 0x1f) << at;
    EXPECT_EQ(static_cast<uint8_t>(file[at + 1]), 0x8b) << at;
    EXPECT_EQ(file[at + 2], 8) << "CM (deflate) at " << at;
    EXPECT_EQ(file[at + 3], 4) << "FLG.FEXTRA at " << at;
    EXPECT_EQ(Le16(file, at + 10), 6u) << "XLEN at " << at;
    EXPECT_EQ(file.substr(at + 12, 2), "BC") << at;
    EXPECT_EQ(Le16(file, at + 14), 2u) << "SLEN at " << at;
    const size_t block = Le16(file, at + 16) + 1;
    EXPECT_LE(block, 65536u);
    EXPECT_LE(at + block, file.size()) << at;
    if (at + block > file.size()) break;
    isizes.push_back(Le32(file, at + block - 4));
    EXPECT_LE(isizes.back(), 0xff00u);
    at += block;
  }
  return isizes;
}

const std::string kBgzfEof(
    "\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00\x42\x43\x02\x00"
    "\x1b\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    28);

class CompressedWriterTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(CompressedWriterTest, ZstdRoundTripsThroughTheZstdCommand) {
  ExpectTool("zstd");
  const std::string data = SomeText(3'000'000);
  const std::string path = dir_.Sub("part-00000.zst");
  WriteCompressed(path, data, {OutputCompression::kZstd, 0, 256 << 10});
  ASSERT_EQ(Shell("zstd -q -t " + path), 0);
  ASSERT_EQ(Shell("zstd -q -d -c " + path + " > " + dir_.Sub("plain")), 0);
  EXPECT_EQ(Read(dir_.Sub("plain")), data);
}

// Every frame states its decoded size and holds frame_bytes of input (the
// last one the rest): what lets a reader cut the file between frames.
TEST_F(CompressedWriterTest, ZstdWritesOneFrameWithItsSizePerFrameOfInput) {
  const std::string data = SomeText(1'000'000);
  const std::string path = dir_.Sub("frames.zst");
  const size_t frame = 300'000;
  WriteCompressed(path, data, {OutputCompression::kZstd, 0, frame}, 77'777);
  const std::string file = Read(path);
  std::vector<unsigned long long> sizes;
  for (size_t at = 0; at < file.size();) {
    const size_t n = ZSTD_findFrameCompressedSize(file.data() + at, file.size() - at);
    ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
    sizes.push_back(ZSTD_getFrameContentSize(file.data() + at, n));
    at += n;
  }
  EXPECT_EQ(sizes, (std::vector<unsigned long long>{frame, frame, frame, 100'000}));
}

TEST_F(CompressedWriterTest, GzipIsBgzfThatEveryGzipToolReads) {
  ExpectTool("bgzip");
  ExpectTool("zcat");
  const std::string data = SomeText(1'500'000) + RandomBytes(200'000) + SomeText(10'000, 2);
  const std::string path = dir_.Sub("part-00000.gz");
  WriteCompressed(path, data, {OutputCompression::kGzip});
  EXPECT_EQ(Shell("gzip -t " + path), 0);
  ASSERT_EQ(Shell("zcat " + path + " > " + dir_.Sub("by-zcat")), 0);
  EXPECT_EQ(Read(dir_.Sub("by-zcat")), data);
  ASSERT_EQ(Shell("bgzip -d -c < " + path + " > " + dir_.Sub("by-bgzip")), 0);
  EXPECT_EQ(Read(dir_.Sub("by-bgzip")), data);
}

// Blocks of at most 64 KiB with the BC field, 0xff00 input bytes each (the
// incompressible stretch included: it falls back to stored blocks), then
// the EOF block, as bgzip itself writes.
TEST_F(CompressedWriterTest, GzipBlocksFollowTheBgzfLayout) {
  const std::string data = SomeText(300'000) + RandomBytes(200'000);
  const std::string path = dir_.Sub("blocks.gz");
  WriteCompressed(path, data, {OutputCompression::kGzip}, 1000);
  const std::string file = Read(path);
  const std::vector<uint32_t> isizes = BgzfBlockSizes(file);
  ASSERT_GE(isizes.size(), 2u);
  uint64_t total = 0;
  for (size_t i = 0; i + 2 < isizes.size(); ++i) EXPECT_EQ(isizes[i], 0xff00u) << i;
  for (uint32_t s : isizes) total += s;
  EXPECT_EQ(total, data.size());
  EXPECT_EQ(isizes.back(), 0u);
  ASSERT_GE(file.size(), kBgzfEof.size());
  EXPECT_EQ(file.substr(file.size() - kBgzfEof.size()), kBgzfEof);
}

// The same bytes, any Append pattern: the same file (so that a part's bytes
// do not depend on buffer sizes or rank counts).
TEST_F(CompressedWriterTest, MembersDependOnlyOnTheBytes) {
  const std::string data = SomeText(700'000);
  for (OutputCompression c : {OutputCompression::kZstd, OutputCompression::kGzip}) {
    WriteCompressed(dir_.Sub("a"), data, {c, 0, 100'000}, 1);
    WriteCompressed(dir_.Sub("b"), data, {c, 0, 100'000}, 4096);
    WriteCompressed(dir_.Sub("c"), data, {c, 0, 100'000}, data.size());
    EXPECT_EQ(Read(dir_.Sub("a")), Read(dir_.Sub("b"))) << OutputCompressionName(c);
    EXPECT_EQ(Read(dir_.Sub("a")), Read(dir_.Sub("c"))) << OutputCompressionName(c);
  }
}

TEST_F(CompressedWriterTest, SizeAndChecksumAreThoseOfTheFileOnDisk) {
  for (OutputCompression c : {OutputCompression::kZstd, OutputCompression::kGzip}) {
    const std::string path =
        dir_.Sub(std::string("sum") + std::string(OutputCompressionExtension(c)));
    const auto [bytes, xxh3] = WriteCompressed(path, SomeText(2'500'000), {c});
    const std::string file = Read(path);
    EXPECT_EQ(bytes, file.size());
    auto on_disk = Xxh3OfFile(*FileSystem::Default(), path);
    ASSERT_TRUE(on_disk.ok());
    EXPECT_EQ(xxh3, *on_disk) << OutputCompressionName(c);
  }
}

// A part with no records is still a valid compressed (empty) file.
TEST_F(CompressedWriterTest, EmptyOutputIsAValidCompressedFile) {
  ExpectTool("zstd");
  ExpectTool("bgzip");
  const std::string zst = dir_.Sub("empty.zst"), gz = dir_.Sub("empty.gz");
  WriteCompressed(zst, "", {OutputCompression::kZstd});
  WriteCompressed(gz, "", {OutputCompression::kGzip});
  EXPECT_EQ(Read(gz), kBgzfEof);
  EXPECT_EQ(Shell("zstd -q -t " + zst), 0);
  EXPECT_EQ(Shell("test -z \"$(zstd -q -d -c " + zst + ")\""), 0);
  EXPECT_EQ(Shell("gzip -t " + gz), 0);
  EXPECT_EQ(Shell("test -z \"$(zcat " + gz + ")\""), 0);
  EXPECT_EQ(Shell("test -z \"$(bgzip -d -c < " + gz + ")\""), 0);
}

// Sync ends the stream, so the file is valid as it stands; more appends
// continue it, still valid.
TEST_F(CompressedWriterTest, SyncLeavesAValidFileThatMayGrow) {
  ExpectTool("zstd");
  ExpectTool("bgzip");
  for (OutputCompression c : {OutputCompression::kZstd, OutputCompression::kGzip}) {
    const std::string path =
        dir_.Sub(std::string("synced") + std::string(OutputCompressionExtension(c)));
    auto file = CompressedWritableFile::Wrap(FileSystem::Default()->Create(path).value(), {c});
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("first\n").ok());
    ASSERT_TRUE((*file)->Sync().ok());
    const std::string decode = c == OutputCompression::kZstd ? "zstd -q -d -c " : "bgzip -d -c < ";
    EXPECT_EQ(Shell(decode + path + " > " + dir_.Sub("out")), 0);
    EXPECT_EQ(Read(dir_.Sub("out")), "first\n");
    ASSERT_TRUE((*file)->Append("second\n").ok());
    ASSERT_TRUE((*file)->Close().ok());
    EXPECT_EQ(Shell(decode + path + " > " + dir_.Sub("out")), 0);
    EXPECT_EQ(Read(dir_.Sub("out")), "first\nsecond\n") << OutputCompressionName(c);
  }
}

TEST(CompressedWriterOptionsTest, LevelsOutsideTheCodecsRangeAreRefused) {
  TempDir dir;
  for (auto [codec, level] :
       {std::pair{OutputCompression::kZstd, 23}, std::pair{OutputCompression::kGzip, 13},
        std::pair{OutputCompression::kGzip, -1}}) {
    auto file = CompressedWritableFile::Wrap(FileSystem::Default()->Create(dir.Sub("x")).value(),
                                             {codec, level});
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(file.status().code(), StatusCode::kUsage) << file.status().ToString();
  }
  EXPECT_EQ(ParseOutputCompression("zstd"), OutputCompression::kZstd);
  EXPECT_EQ(ParseOutputCompression("gzip"), OutputCompression::kGzip);
  EXPECT_EQ(ParseOutputCompression("none"), OutputCompression::kNone);
  EXPECT_EQ(ParseOutputCompression("gz"), std::nullopt);
  EXPECT_EQ(OutputCompressionExtension(OutputCompression::kZstd), ".zst");
  EXPECT_EQ(OutputCompressionExtension(OutputCompression::kGzip), ".gz");
  EXPECT_EQ(OutputCompressionExtension(OutputCompression::kNone), "");
}

// A file whose writes fail: the first error sticks and Close reports it.
class FailingFile final : public WritableFile {
 public:
  Status Append(std::string_view) override { return Status::IOError("disk full"); }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  const std::string& path() const override { return path_; }

 private:
  std::string path_ = "/full/part-00000.zst";
};

TEST(CompressedWriterErrorTest, AWriteErrorSticksAndCloseReturnsIt) {
  for (OutputCompression c : {OutputCompression::kZstd, OutputCompression::kGzip}) {
    auto file = CompressedWritableFile::Wrap(std::make_unique<FailingFile>(), {c, 0, 1000});
    ASSERT_TRUE(file.ok());
    (void)(*file)->Append(SomeText(3'000'000));
    Status closed = (*file)->Close();
    EXPECT_EQ(closed.code(), StatusCode::kIOError) << closed.ToString();
    EXPECT_EQ((*file)->Append("more").code(), StatusCode::kIOError);
  }
}

}  // namespace
}  // namespace sluice
