// Defends LineReader's promise: every line of a file is read by exactly one
// range, whole, wherever the split boundaries and buffer edges fall.
#include "io/line_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "io/split_planner.h"
#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

struct RangeRead {
  std::string raw;  // the chunks, concatenated
  std::vector<std::string> lines;
  uint64_t bytes_read = 0;
  size_t chunks = 0;
};

// Reads [begin, end) of `file`, checking the chunk contract on the way.
RangeRead ReadRange(ReadableFile& file, uint64_t begin, uint64_t end, size_t buffer_bytes) {
  RangeRead out;
  LineReader reader(file, begin, end, buffer_bytes);
  bool saw_unterminated = false;
  while (true) {
    std::string_view chunk = "garbage";
    Result<bool> more = reader.NextChunk(&chunk);
    if (!more.ok()) {
      ADD_FAILURE() << more.status().ToString();
      break;
    }
    if (!*more) {
      EXPECT_TRUE(chunk.empty());
      break;
    }
    EXPECT_FALSE(chunk.empty());
    // Only the file's last line may lack '\n', so such a chunk is the last.
    EXPECT_FALSE(saw_unterminated) << "chunk after an unterminated line";
    if (chunk.back() != '\n') saw_unterminated = true;
    ++out.chunks;
    out.raw.append(chunk);
    ForEachLine(chunk, [&](std::string_view line) { out.lines.emplace_back(line); });
  }
  // Exhausted readers stay exhausted.
  std::string_view chunk;
  Result<bool> again = reader.NextChunk(&chunk);
  EXPECT_TRUE(again.ok() && !*again);
  out.bytes_read = reader.bytes_read();
  return out;
}

class LineReaderTest : public ::testing::Test {
 protected:
  // Writes `content` to a fresh file and opens it.
  ReadableFile& Open(std::string_view content) {
    const std::string path = dir_.Sub("f" + std::to_string(files_.size()));
    WriteFile(path, content);
    Result<std::unique_ptr<ReadableFile>> file = fs_.OpenForRead(path);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    files_.push_back(std::move(file).value());
    return *files_.back();
  }

  std::vector<std::string> Lines(ReadableFile& f, uint64_t begin, uint64_t end,
                                 size_t buffer_bytes = 4096) {
    return ReadRange(f, begin, end, buffer_bytes).lines;
  }

  FileSystem& fs_ = *FileSystem::Default();
  TempDir dir_;
  std::vector<std::unique_ptr<ReadableFile>> files_;
};

using Strings = std::vector<std::string>;

TEST_F(LineReaderTest, WholeFileInOneChunk) {
  ReadableFile& f = Open("one\ntwo\nthree\n");
  RangeRead r = ReadRange(f, 0, f.size(), 4096);
  EXPECT_EQ(r.lines, (Strings{"one", "two", "three"}));
  EXPECT_EQ(r.chunks, 1u);
  EXPECT_EQ(r.raw, "one\ntwo\nthree\n");
  EXPECT_EQ(r.bytes_read, f.size());
}

TEST_F(LineReaderTest, LineEndingExactlyAtSplitBoundary) {
  // "abc\n" is bytes [0,4): the boundary at 4 is right after its '\n', so
  // the line at 4 belongs to the second range and nothing is read twice.
  ReadableFile& f = Open("abc\ndef\nghi\n");
  EXPECT_EQ(Lines(f, 0, 4), (Strings{"abc"}));
  EXPECT_EQ(Lines(f, 4, 8), (Strings{"def"}));
  EXPECT_EQ(Lines(f, 8, 12), (Strings{"ghi"}));
  EXPECT_EQ(Lines(f, 0, 8), (Strings{"abc", "def"}));
  EXPECT_EQ(Lines(f, 4, 12), (Strings{"def", "ghi"}));
}

TEST_F(LineReaderTest, BoundaryOnTheNewlineItself) {
  // Byte 3 is the '\n' of "abc": a range starting there owns no part of it.
  ReadableFile& f = Open("abc\ndef\nghi\n");
  EXPECT_EQ(Lines(f, 0, 3), (Strings{"abc"}));
  EXPECT_EQ(Lines(f, 3, 12), (Strings{"def", "ghi"}));
  EXPECT_EQ(Lines(f, 3, 4), Strings{});
  EXPECT_EQ(Lines(f, 3, 5), (Strings{"def"}));
}

TEST_F(LineReaderTest, BoundaryInsideALine) {
  ReadableFile& f = Open("abc\ndef\nghi\n");
  EXPECT_EQ(Lines(f, 0, 5), (Strings{"abc", "def"}));
  EXPECT_EQ(Lines(f, 5, 12), (Strings{"ghi"}));
  EXPECT_EQ(Lines(f, 1, 2), Strings{});
  EXPECT_EQ(Lines(f, 5, 8), Strings{});
  EXPECT_EQ(Lines(f, 5, 9), (Strings{"ghi"}));
}

TEST_F(LineReaderTest, CrlfLinesLoseTheCarriageReturn) {
  ReadableFile& f = Open("a\r\nbb\r\n\r\nc\r");
  RangeRead r = ReadRange(f, 0, f.size(), 4096);
  EXPECT_EQ(r.lines, (Strings{"a", "bb", "", "c"}));
  EXPECT_EQ(r.raw, "a\r\nbb\r\n\r\nc\r");  // chunks are the file's bytes
  // A boundary between '\r' and '\n' still gives each line to one range.
  EXPECT_EQ(Lines(f, 0, 2), (Strings{"a"}));
  EXPECT_EQ(Lines(f, 2, f.size()), (Strings{"bb", "", "c"}));
}

TEST_F(LineReaderTest, NoTrailingNewline) {
  ReadableFile& f = Open("a\nbb\nccc");
  RangeRead r = ReadRange(f, 0, f.size(), 4096);
  EXPECT_EQ(r.lines, (Strings{"a", "bb", "ccc"}));
  EXPECT_EQ(r.bytes_read, f.size());
  EXPECT_EQ(Lines(f, 0, 5), (Strings{"a", "bb"}));
  EXPECT_EQ(Lines(f, 5, f.size()), (Strings{"ccc"}));
  EXPECT_EQ(Lines(f, 6, f.size()), Strings{});
  // A tiny buffer makes the unterminated line arrive in its own Fill.
  EXPECT_EQ(ReadRange(f, 0, f.size(), 2).lines, (Strings{"a", "bb", "ccc"}));
}

TEST_F(LineReaderTest, SingleUnterminatedLine) {
  ReadableFile& f = Open("x");
  EXPECT_EQ(Lines(f, 0, 1), (Strings{"x"}));
  EXPECT_EQ(Lines(f, 0, 1, 1), (Strings{"x"}));
}

TEST_F(LineReaderTest, EmptyFileHasNoLines) {
  ReadableFile& f = Open("");
  RangeRead r = ReadRange(f, 0, 0, 16);
  EXPECT_TRUE(r.lines.empty());
  EXPECT_EQ(r.chunks, 0u);
  EXPECT_EQ(r.bytes_read, 0u);
  EXPECT_TRUE(Lines(f, 0, 100).empty());
}

TEST_F(LineReaderTest, RangeAtOrPastEndOfFileHasNoLines) {
  ReadableFile& f = Open("abc\n");
  EXPECT_TRUE(Lines(f, 4, 10).empty());
  EXPECT_TRUE(Lines(f, 100, 200).empty());
  EXPECT_TRUE(Lines(f, 2, 2).empty());
}

TEST_F(LineReaderTest, EmptyLines) {
  ReadableFile& f = Open("\n\n\n");
  EXPECT_EQ(Lines(f, 0, 3), (Strings{"", "", ""}));
  EXPECT_EQ(Lines(f, 0, 1), (Strings{""}));
  EXPECT_EQ(Lines(f, 1, 2), (Strings{""}));
  EXPECT_EQ(Lines(f, 2, 3), (Strings{""}));
}

TEST_F(LineReaderTest, LineLongerThanSplitAndBuffer) {
  const std::string longline(1000, 'y');
  const std::string content = "x\n" + longline + "\nz\n";
  ReadableFile& f = Open(content);
  // The long line starts at 2, inside [0, 64): that range reads all of it,
  // with a 16-byte buffer that must grow, and the ranges it covers are empty.
  RangeRead first = ReadRange(f, 0, 64, 16);
  EXPECT_EQ(first.lines, (Strings{"x", longline}));
  for (uint64_t b = 64; b + 64 < 1003; b += 64) {
    EXPECT_TRUE(Lines(f, b, b + 64, 16).empty()) << b;
  }
  EXPECT_EQ(Lines(f, 960, 1024, 16), (Strings{"z"}));
  // Through the planner, at several buffer sizes.
  for (size_t buffer : {1, 2, 16, 17, 1 << 20}) {
    std::vector<Split> plan = PlanSplits({InputFile{f.path(), f.size(), 0}}, 64);
    Strings all;
    std::string raw;
    for (const Split& s : plan) {
      for (const FileRange& fr : s.ranges) {
        RangeRead r = ReadRange(f, fr.begin, fr.end, buffer);
        all.insert(all.end(), r.lines.begin(), r.lines.end());
        raw += r.raw;
      }
    }
    EXPECT_EQ(all, (Strings{"x", longline, "z"})) << buffer;
    EXPECT_EQ(raw, content) << buffer;
  }
}

TEST_F(LineReaderTest, LongFirstLineOfARangeStartingMidLine) {
  // The range begins in the middle of a line longer than the buffer: the
  // skipped prefix spans many buffer fills.
  const std::string content = std::string(500, 'a') + "\nb\n";
  ReadableFile& f = Open(content);
  EXPECT_EQ(Lines(f, 10, f.size(), 16), (Strings{"b"}));
  EXPECT_TRUE(Lines(f, 10, 500, 16).empty());
  EXPECT_TRUE(Lines(f, 10, 501, 16).empty());
  EXPECT_EQ(Lines(f, 10, 502, 16), (Strings{"b"}));
}

TEST_F(LineReaderTest, ChunksHoldManyLinesAndNeverCutOne) {
  std::string content;
  Strings expected;
  for (int i = 0; i < 5000; ++i) {
    expected.push_back("line " + std::to_string(i * 7919));
    content += expected.back() + "\n";
  }
  ReadableFile& f = Open(content);
  RangeRead r = ReadRange(f, 0, f.size(), 1000);
  EXPECT_EQ(r.lines, expected);
  EXPECT_LT(r.chunks, content.size() / 500);  // whole buffers, not lines
  EXPECT_EQ(r.bytes_read, content.size());
}

// Counts the bytes the reader asks for.
class CountingFile : public ReadableFile {
 public:
  explicit CountingFile(ReadableFile& base) : base_(base) {}
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    requested += n;
    return base_.ReadAt(offset, n, dst, got);
  }
  uint64_t size() const override { return base_.size(); }
  const std::string& path() const override { return base_.path(); }
  uint64_t requested = 0;

 private:
  ReadableFile& base_;
};

TEST_F(LineReaderTest, DoesNotReadAWholeBufferPastTheRangeEnd) {
  std::string content;
  while (content.size() < (8u << 20)) content += "a short line of text\n";
  ReadableFile& f = Open(content);
  CountingFile counting(f);
  const uint64_t end = 1 << 20;
  RangeRead r = ReadRange(counting, 0, end, size_t{4} << 20);
  EXPECT_GE(r.raw.size(), end);
  EXPECT_LT(counting.requested, end + (256u << 10));
}

class FailingFile : public ReadableFile {
 public:
  Status ReadAt(uint64_t, size_t, char*, size_t* got) override {
    *got = 0;
    return Status::IOError("read 'failing': Input/output error");
  }
  uint64_t size() const override { return 100; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_ = "failing";
};

TEST_F(LineReaderTest, ReadErrorsAreReturned) {
  FailingFile f;
  for (uint64_t begin : {0, 10}) {
    LineReader reader(f, begin, 50);
    std::string_view chunk;
    Result<bool> r = reader.NextChunk(&chunk);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  }
}

// Splits `content` the way a line reader should: on '\n', with no empty
// line after a final '\n'.
Strings ReferenceLines(const std::string& content) {
  Strings lines;
  size_t p = 0;
  while (p < content.size()) {
    size_t nl = content.find('\n', p);
    if (nl == std::string::npos) nl = content.size();
    lines.push_back(content.substr(p, nl - p));
    p = nl + 1;
  }
  return lines;
}

std::string RandomContent(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> nlines_dist(0, 40);
  std::uniform_int_distribution<int> pct(0, 99);
  std::uniform_int_distribution<int> ch('0', 'z');
  const int nlines = nlines_dist(rng);
  std::string content;
  for (int i = 0; i < nlines; ++i) {
    const int kind = pct(rng);
    size_t len = 0;
    if (kind < 25) {
      len = 0;
    } else if (kind < 75) {
      len = std::uniform_int_distribution<size_t>(1, 20)(rng);
    } else if (kind < 95) {
      len = std::uniform_int_distribution<size_t>(21, 120)(rng);
    } else {
      len = std::uniform_int_distribution<size_t>(121, 600)(rng);
    }
    for (size_t j = 0; j < len; ++j) content.push_back(static_cast<char>(ch(rng)));
    const bool last = i + 1 == nlines;
    if (!last || pct(rng) < 50) content.push_back('\n');
  }
  return content;
}

TEST_F(LineReaderTest, PropertyEveryLineIsReadExactlyOnceInOrder) {
  const uint64_t seed = 20240611;
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 400; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter) + " of seed " + std::to_string(seed));
    const int nfiles = std::uniform_int_distribution<int>(1, 3)(rng);
    std::vector<std::string> contents;
    std::vector<InputFile> inputs;
    for (int i = 0; i < nfiles; ++i) {
      contents.push_back(RandomContent(rng));
      ReadableFile& f = Open(contents.back());
      inputs.push_back(InputFile{f.path(), f.size(), 0});
    }
    const uint64_t split_size = std::uniform_int_distribution<uint64_t>(1, 200)(rng);
    const size_t buffer = std::uniform_int_distribution<int>(0, 9)(rng) == 0
                              ? 4096
                              : std::uniform_int_distribution<size_t>(1, 64)(rng);
    SCOPED_TRACE("split_size " + std::to_string(split_size) + " buffer " + std::to_string(buffer));

    std::vector<std::string> raw(nfiles);
    std::vector<Strings> lines(nfiles);
    std::vector<uint64_t> bytes_read(nfiles);
    for (const Split& s : PlanSplits(inputs, split_size)) {
      for (const FileRange& fr : s.ranges) {
        ReadableFile& f = *files_[files_.size() - nfiles + fr.file_index];
        RangeRead r = ReadRange(f, fr.begin, fr.end, buffer);
        EXPECT_GE(r.bytes_read, r.raw.size());
        raw[fr.file_index] += r.raw;
        lines[fr.file_index].insert(lines[fr.file_index].end(), r.lines.begin(), r.lines.end());
      }
    }
    for (int i = 0; i < nfiles; ++i) {
      ASSERT_EQ(raw[i], contents[i]) << "file " << i;
      ASSERT_EQ(lines[i], ReferenceLines(contents[i])) << "file " << i;
    }
    files_.clear();
  }
}

TEST_F(LineReaderTest, PropertyEveryCutPointOfOneFile) {
  // Exhaustive over one small file: any single cut point gives each line to
  // exactly one side.
  const std::string content = "ab\n\ncde\r\nf\n\n\nghij";
  ReadableFile& f = Open(content);
  for (uint64_t cut = 0; cut <= content.size(); ++cut) {
    for (size_t buffer : {1, 3, 64}) {
      RangeRead a = ReadRange(f, 0, cut, buffer);
      RangeRead b = ReadRange(f, cut, content.size(), buffer);
      EXPECT_EQ(a.raw + b.raw, content) << "cut " << cut << " buffer " << buffer;
    }
  }
}

}  // namespace
}  // namespace sluice
