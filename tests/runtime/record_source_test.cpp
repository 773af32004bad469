// The map side's record sources (sluice/detail/*_source.h), one per input
// kind: which records each hands out for a range, at which offsets, and
// which bytes it counts. And the promise that a key-value input is decoded
// by the reader the fuzzer exercises (shuffle/kv_file.h), so a file with
// bytes after a block's last record, or garbage after its last block, is
// refused as corrupt, naming the file, never mapped as if it were whole.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/buffered_writer.h"
#include "io/file_system.h"
#include "io/status.h"
#include <sluice/detail/fixed_record_source.h>
#include <sluice/detail/kv_record_source.h>
#include <sluice/detail/line_source.h>
#include <sluice/detail/record_source.h>
#include <sluice/detail/row_source.h>
#include <sluice/job.h>
#include "shuffle/kv_file.h"
#include "tests/io/test_util.h"
#include "tests/runtime/in_process_cluster.h"

namespace sluice {
namespace {

using iotest::TempDir;

static_assert(RecordSource<LineSource>);
static_assert(RecordSource<FixedRecordSource<4>>);
static_assert(RecordSource<RowSource<10>>);
static_assert(RecordSource<KvRecordSource<std::string, uint64_t>>);

// One record as a source handed it out: its offset and its fields, printed.
struct Seen {
  uint64_t offset;
  std::string fields;
  bool operator==(const Seen&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{" << s.offset << ", \"" << s.fields << "\"}";
}

std::string Print(std::string_view s) { return std::string(s); }
std::string Print(uint64_t n) { return std::to_string(n); }

// Everything a source hands out, as the map loop drives it; the first error
// ends the drain (and is returned with what was seen before it).
template <class Source>
Status Drain(Source& source, std::vector<Seen>* seen, uint64_t* bytes) {
  SLUICE_RETURN_IF_ERROR(source.Start());
  *bytes += source.TakeBytesRead();
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(const bool more, source.NextChunk());
    if (!more) return Status::OK();
    *bytes += source.TakeBytesRead();
    SLUICE_RETURN_IF_ERROR(source.ForEachRecord([&](uint64_t offset, const auto&... fields) {
      std::string printed;
      ((printed += (printed.empty() ? "" : "|") + Print(fields)), ...);
      seen->push_back({offset, printed});
    }));
  }
}

std::unique_ptr<ReadableFile> OpenOrDie(const std::string& path) {
  auto file = FileSystem::Default()->OpenForRead(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return file.ok() ? std::move(file).value() : nullptr;
}

TEST(LineSource, EachLineStartingInTheRangeAtItsFirstByte) {
  TempDir dir;
  const std::string path = dir.Sub("in.txt");
  const std::string text = "ab\r\ncd\nef";
  iotest::WriteFile(path, text);
  std::unique_ptr<ReadableFile> file = OpenOrDie(path);
  std::string buffer;
  uint64_t bytes = 0;

  std::vector<Seen> first;
  LineSource head(*file, 0, 5, 4096, &buffer);  // "cd" starts at 4: ours
  ASSERT_TRUE(Drain(head, &first, &bytes).ok());
  EXPECT_EQ(first, (std::vector<Seen>{{0, "ab"}, {4, "cd"}}));

  std::vector<Seen> rest;
  LineSource tail(*file, 5, text.size(), 4096, &buffer);  // skips the rest of "cd"
  ASSERT_TRUE(Drain(tail, &rest, &bytes).ok());
  EXPECT_EQ(rest, (std::vector<Seen>{{7, "ef"}}));
  EXPECT_EQ(bytes, text.size());  // every byte counted once, by one range
  EXPECT_EQ(tail.Where(7), "the line at byte 7 of '" + path + "'");
}

TEST(FixedRecordSource, RecordsWhoseFirstByteIsInTheRange) {
  TempDir dir;
  const std::string path = dir.Sub("in.bin");
  iotest::WriteFile(path, "aaaabbbbcccc");
  std::unique_ptr<ReadableFile> file = OpenOrDie(path);
  std::string buffer;
  std::vector<Seen> seen;
  uint64_t bytes = 0;
  FixedRecordSource<4> source(*file, FileRange{0, 2, 9}, 4, &buffer);  // one record per chunk
  ASSERT_TRUE(Drain(source, &seen, &bytes).ok());
  EXPECT_EQ(seen, (std::vector<Seen>{{4, "bbbb"}, {8, "cccc"}}));
  EXPECT_EQ(bytes, 8u);
  EXPECT_EQ(source.Where(8), "the record at byte 8 of '" + path + "'");
}

TEST(FixedRecordSource, AFileOfPartRecordsIsRefusedBeforeAnyRecord) {
  TempDir dir;
  const std::string path = dir.Sub("in.bin");
  iotest::WriteFile(path, "aaaabb");
  std::unique_ptr<ReadableFile> file = OpenOrDie(path);
  std::string buffer;
  std::vector<Seen> seen;
  uint64_t bytes = 0;
  FixedRecordSource<4> source(*file, FileRange{0, 0, 6}, 4096, &buffer);
  Status s = Drain(source, &seen, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kBadInput) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_TRUE(seen.empty());
}

TEST(RowSource, RowsStartingInTheRangeInChunksOfAFewThousand) {
  const InputFile input{"rows", 100000, 0, 0};  // 10,000 rows of 10 bytes
  std::vector<Seen> seen;
  uint64_t bytes = 0;
  RowSource<10> source(input, FileRange{0, 15, 50000});  // rows 2 .. 4999
  ASSERT_TRUE(source.Start().ok());
  std::vector<size_t> chunk_rows;
  for (;;) {
    Result<bool> more = source.NextChunk();
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    bytes += source.TakeBytesRead();
    const size_t before = seen.size();
    Status s = source.ForEachRecord([&](uint64_t offset, uint64_t row) {
      seen.push_back({offset, std::to_string(row)});
    });
    ASSERT_TRUE(s.ok());
    chunk_rows.push_back(seen.size() - before);
  }
  EXPECT_EQ(chunk_rows, (std::vector<size_t>{4096, 4998 - 4096}));
  ASSERT_EQ(seen.size(), 4998u);
  EXPECT_EQ(seen.front(), (Seen{20, "2"}));
  EXPECT_EQ(seen.back(), (Seen{49990, "4999"}));
  EXPECT_EQ(bytes, 4998u * 10);
  EXPECT_EQ(source.Where(49990), "row 4999");
  EXPECT_FALSE(RowSource<10>::kInFile);  // no file: record_offset() is not set
}

// A key-value file of (word, count) records, `per_block` records a block.
// `after_last_record` is written into the last block after its last record,
// inside the frame, so every checksum holds.
std::string KvFile(const TempDir& dir, int records, int per_block,
                   std::string_view after_last_record = {}) {
  const std::string path = dir.Sub("kv-scratch");
  auto file = FileSystem::Default()->Create(path);
  EXPECT_TRUE(file.ok());
  BufferedWriter out(std::move(file).value());
  // A block closes once its raw bytes reach block_bytes. A record is 14
  // bytes: a 1-byte varint length, "wordN", a raw u64.
  KvFileWriter writer(&out, KvTypeName<std::string>(), KvTypeName<uint64_t>(), 1,
                      static_cast<size_t>(per_block) * 14);
  for (int i = 0; i < records; ++i) {
    const std::string key = "word" + std::to_string(i % 10);
    Encode(writer.record_buffer(), std::string_view(key));
    Encode(writer.record_buffer(), static_cast<uint64_t>(i));
    if (i + 1 == records) writer.record_buffer()->append(after_last_record);
    writer.RecordAdded();
  }
  EXPECT_TRUE(writer.Finish().ok());
  EXPECT_TRUE(out.Close().ok());
  std::string bytes;
  EXPECT_TRUE(iotest::TryRead(path, &bytes));
  return bytes;
}

TEST(KvRecordSource, EveryRecordOfTheBlocksStartingInTheRangeAtItsBlocksOffset) {
  TempDir dir;
  const std::string path = dir.Sub("in.kv");
  const std::string bytes = KvFile(dir, 25, 10);
  iotest::WriteFile(path, bytes);
  auto reader = KvFileReader::Open(*FileSystem::Default(), path);
  ASSERT_TRUE(reader.ok());
  const std::vector<KvBlockRef> blocks = (*reader)->blocks();
  ASSERT_EQ(blocks.size(), 3u);

  std::vector<Seen> seen;
  uint64_t counted = 0;
  const uint64_t cut = blocks[1].offset + 1;  // the second block starts in the first range
  KvRecordSource<std::string, uint64_t> head(OpenOrDie(path), FileRange{0, 0, cut});
  ASSERT_TRUE(Drain(head, &seen, &counted).ok());
  ASSERT_EQ(seen.size(), 20u);
  EXPECT_EQ(seen[0], (Seen{blocks[0].offset, "word0|0"}));
  EXPECT_EQ(seen[19], (Seen{blocks[1].offset, "word9|19"}));
  KvRecordSource<std::string, uint64_t> tail(OpenOrDie(path), FileRange{0, cut, bytes.size()});
  ASSERT_TRUE(Drain(tail, &seen, &counted).ok());
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen[24], (Seen{blocks[2].offset, "word4|24"}));
  EXPECT_EQ(counted, bytes.size());  // header, frames, footer: each by one range
}

TEST(KvRecordSource, BytesAfterABlocksLastRecordAreCorruptionNamingTheFile) {
  TempDir dir;
  const std::string path = dir.Sub("in.kv");
  iotest::WriteFile(path, KvFile(dir, 25, 10, "\x07\x07\x07"));
  std::vector<Seen> seen;
  uint64_t bytes = 0;
  KvRecordSource<std::string, uint64_t> source(OpenOrDie(path), FileRange{0, 0, 1 << 20});
  Status s = Drain(source, &seen, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("key-value file '" + path + "' block 2"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("3 bytes left after its 5 records"), std::string::npos) << s.message();
  EXPECT_EQ(seen.size(), 25u);  // the records before it were handed out
}

// ---- the same refusals through the engine: a job whose input is damaged
// fails its map task with kCorruption (exit 5) naming the file.

class CountsByWord : public Job<CountsByWord, std::string, uint64_t> {
 public:
  using Input = KeyValueInput<std::string, uint64_t>;
  void Map(std::string_view word, uint64_t count, Emitter& emit) { emit(word, count); }
  void Reduce(std::string_view word, Values& counts, Output& out) {
    uint64_t sum = 0;
    for (uint64_t c : counts) sum += c;
    out(word, sum);
  }
};

class KvInputRefusal : public ::testing::Test {
 protected:
  // Runs CountsByWord over one input file holding `bytes`.
  Result<ClusterRun> Run(const std::string& bytes) {
    InProcessCluster cluster(1, dir_.path());
    JobSettings settings;
    settings.partitions = 2;
    return cluster.Run<CountsByWord>({bytes}, settings, 64);  // several splits
  }
  void ExpectCorruptionNamingTheInput(const Result<ClusterRun>& run, std::string_view what) {
    ASSERT_FALSE(run.ok());
    const Status& s = run.status();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_EQ(ExitCodeFor(s.code()), 5);
    EXPECT_NE(s.message().find("key-value file '"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("/input0'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  }
  TempDir dir_;
};

TEST_F(KvInputRefusal, AWholeFileIsRead) {
  Result<ClusterRun> run = Run(KvFile(dir_, 25, 10));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->counters.input_records, 25u);
  EXPECT_EQ(run->counters.output_records, 10u);
}

TEST_F(KvInputRefusal, BytesInsideTheLastBlockAfterItsLastRecord) {
  ExpectCorruptionNamingTheInput(Run(KvFile(dir_, 25, 10, "\x07\x07\x07")),
                                 "3 bytes left after its 5 records");
}

TEST_F(KvInputRefusal, GarbageBetweenTheLastBlockAndTheFooter) {
  // The trailer (u64 footer offset, u32 footer size, "SLKE") is not
  // checksummed: moving the footer offset past the garbage keeps every
  // checksum valid, so only the block layout can tell.
  std::string bytes = KvFile(dir_, 25, 10);
  uint64_t footer_offset = 0;
  std::memcpy(&footer_offset, bytes.data() + bytes.size() - 16, 8);  // little-endian host
  bytes.insert(footer_offset, "garbage!");
  footer_offset += 8;
  std::memcpy(bytes.data() + bytes.size() - 16, &footer_offset, 8);
  ExpectCorruptionNamingTheInput(Run(bytes), "block 2");
}

}  // namespace
}  // namespace sluice
