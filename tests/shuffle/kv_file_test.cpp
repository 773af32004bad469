// Defends the key-value file contract: what a writer puts in, a reader gets
// back under the same type names; byte-range splits give every block exactly
// one owner and add up to the file; and no damaged, truncated, forged or
// foreign file is ever read as data. Each fails at Open or at ReadBlock,
// naming the path and the offset.
#include "shuffle/kv_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "io/buffered_writer.h"
#include "io/fault_injecting_file_system.h"
#include "tests/io/test_util.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {
namespace {

using iotest::TempDir;

struct Reading {
  std::string sensor;
  std::vector<double> samples;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(sensor, samples);
  }
  bool operator==(const Reading&) const = default;
};

template <class K, class V>
using Records = std::vector<std::pair<K, V>>;

template <class K, class V>
void WriteKv(FileSystem& fs, const std::string& path, const Records<K, V>& records,
             size_t block_bytes = size_t{1} << 20) {
  auto file = fs.Create(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  BufferedWriter out(std::move(file).value());
  TypedKvFileWriter<K, V> writer(&out, 1, block_bytes);
  for (const auto& [key, value] : records) writer.Add(key, value);
  Status s = writer.Finish();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(writer.records(), records.size());
  s = out.Close();
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// Every record, read block by block as a map task would; or the first error.
template <class K, class V>
Result<Records<K, V>> ReadKv(FileSystem& fs, const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<KvFileReader> reader, KvFileReader::Open(fs, path));
  SLUICE_RETURN_IF_ERROR((CheckKvTypes<K, V>(*reader)));
  Records<K, V> records;
  std::string raw;
  for (size_t i = 0; i < reader->blocks().size(); ++i) {
    SLUICE_RETURN_IF_ERROR(reader->ReadBlock(i, &raw));
    SLUICE_RETURN_IF_ERROR((ForEachKvRecord<K, V>(
        *reader, i, raw, [&](const auto& k, const auto& v) { records.emplace_back(K(k), V(v)); })));
  }
  return records;
}

Status ReadAllBlocks(KvFileReader& reader) {
  std::string raw;
  for (size_t i = 0; i < reader.blocks().size(); ++i) {
    SLUICE_RETURN_IF_ERROR(reader.ReadBlock(i, &raw));
  }
  return Status::OK();
}

std::unique_ptr<KvFileReader> OpenOrDie(const std::string& path) {
  auto reader = KvFileReader::Open(*FileSystem::Default(), path);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  return reader.ok() ? std::move(reader).value() : nullptr;
}

// Replaces a file without fsync: the corruption tests rewrite it thousands
// of times.
void Overwrite(const std::string& path, std::string_view data) {
  auto file = FileSystem::Default()->Create(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(data).ok());
  ASSERT_TRUE((*file)->Close().ok());
}

std::string Slurp(const std::string& path) {
  auto data = ReadFileToString(*FileSystem::Default(), path);
  EXPECT_TRUE(data.ok()) << data.status().ToString();
  return data.ok() ? *data : std::string();
}

Records<std::string, uint64_t> Words(size_t n) {
  Records<std::string, uint64_t> records;
  for (uint64_t i = 0; i < n; ++i) records.emplace_back("word" + std::to_string(i * 7919), i * i);
  return records;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(KvFile, StringsAndCountsRoundTrip) {
  TempDir dir;
  FileSystem& fs = *FileSystem::Default();
  Records<std::string, uint64_t> in = Words(1000);
  in.emplace_back(std::string("nul\0inside", 10), 0);
  in.emplace_back("", UINT64_MAX);
  const std::string path = dir.Sub("part-00000.kv");
  WriteKv(fs, path, in);

  std::unique_ptr<KvFileReader> reader = OpenOrDie(path);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->key_type(), "string");
  EXPECT_EQ(reader->value_type(), "u64");
  EXPECT_EQ(reader->total_records(), in.size());
  ASSERT_EQ(reader->blocks().size(), 1u);
  EXPECT_EQ(reader->blocks()[0].records, in.size());
  EXPECT_EQ(reader->file_size(), Slurp(path).size());

  auto out = ReadKv<std::string, uint64_t>(fs, path);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, in);
}

TEST(KvFile, PairsAndTuplesRoundTrip) {
  using Key = std::pair<std::string, uint64_t>;
  using Value = std::tuple<std::string, int64_t, double>;
  TempDir dir;
  FileSystem& fs = *FileSystem::Default();
  Records<Key, Value> in;
  for (int64_t i = 0; i < 300; ++i) {
    in.emplace_back(Key("k" + std::to_string(i), i * 3),
                    Value("v", -i, static_cast<double>(i) / 4));
  }
  const std::string path = dir.Sub("pairs.kv");
  WriteKv(fs, path, in, 512);

  std::unique_ptr<KvFileReader> reader = OpenOrDie(path);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->key_type(), "pair<string,u64>");
  EXPECT_EQ(reader->value_type(), "tuple<string,i64,f64>");
  auto out = ReadKv<Key, Value>(fs, path);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, in);
}

TEST(KvFile, CerealValuesRoundTrip) {
  TempDir dir;
  FileSystem& fs = *FileSystem::Default();
  Records<std::string, Reading> in;
  for (int i = 0; i < 200; ++i) {
    in.emplace_back("station" + std::to_string(i % 7),
                    Reading{"s" + std::to_string(i), std::vector<double>(i % 5, i * 0.5)});
  }
  const std::string path = dir.Sub("readings.kv");
  WriteKv(fs, path, in, 1024);
  auto out = ReadKv<std::string, Reading>(fs, path);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, in);
}

TEST(KvFile, EmptyFileHasNoBlocks) {
  TempDir dir;
  FileSystem& fs = *FileSystem::Default();
  const std::string path = dir.Sub("empty.kv");
  WriteKv<std::string, uint64_t>(fs, path, {});

  std::unique_ptr<KvFileReader> reader = OpenOrDie(path);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->blocks().empty());
  EXPECT_EQ(reader->total_records(), 0u);
  // header 16 + "string" + "u64" + 8, footer 28, trailer 16
  EXPECT_EQ(reader->file_size(), 16u + 6 + 3 + 8 + 28 + 16);
  EXPECT_EQ(reader->BytesOwnedBy(0, reader->file_size()), reader->file_size());
  auto out = ReadKv<std::string, uint64_t>(fs, path);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->empty());
}

TEST(KvFile, SmallBlocksTileTheFile) {
  TempDir dir;
  FileSystem& fs = *FileSystem::Default();
  const Records<std::string, uint64_t> in = Words(5000);
  const std::string path = dir.Sub("many.kv");
  WriteKv(fs, path, in, 256);

  std::unique_ptr<KvFileReader> reader = OpenOrDie(path);
  ASSERT_NE(reader, nullptr);
  const std::vector<KvBlockRef>& blocks = reader->blocks();
  ASSERT_GT(blocks.size(), 100u);
  uint64_t records = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    records += blocks[i].records;
    EXPECT_GE(blocks[i].frame_bytes, kBlockHeaderBytes);
    if (i + 1 < blocks.size()) {
      EXPECT_EQ(blocks[i].offset + blocks[i].frame_bytes, blocks[i + 1].offset);
    }
  }
  EXPECT_EQ(records, in.size());
  EXPECT_EQ(reader->total_records(), in.size());
  auto out = ReadKv<std::string, uint64_t>(fs, path);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, in);
}

TEST(KvFile, ShortReadsAreNotEndOfFile) {
  TempDir dir;
  const Records<std::string, uint64_t> in = Words(500);
  const std::string path = dir.Sub("short.kv");
  WriteKv(*FileSystem::Default(), path, in, 512);
  FaultInjectingFileSystem fs(FileSystem::Default());
  fs.LimitReads(7);
  auto out = ReadKv<std::string, uint64_t>(fs, path);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, in);
}

TEST(KvFile, WriteErrorSticksUntilFinish) {
  TempDir dir;
  const std::string path = dir.Sub("full.kv");
  FaultInjectingFileSystem fs(FileSystem::Default());
  auto file = fs.Create(path);
  ASSERT_TRUE(file.ok());
  BufferedWriter out(std::move(file).value(), 64);
  fs.FailNth(FsOp::kAppend, 3, ENOSPC);
  TypedKvFileWriter<std::string, uint64_t> writer(&out, 1, 128);
  for (const auto& [key, value] : Words(1000)) writer.Add(key, value);
  EXPECT_TRUE(fs.fired());
  EXPECT_EQ(writer.status().code(), StatusCode::kIOError);
  Status s = writer.Finish();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_TRUE(Contains(s.message(), path)) << s.message();
  EXPECT_FALSE(out.Close().ok());
}

TEST(KvFile, OutputMustStartAtByteZero) {
  TempDir dir;
  auto file = FileSystem::Default()->Create(dir.Sub("late.kv"));
  ASSERT_TRUE(file.ok());
  BufferedWriter out(std::move(file).value());
  ASSERT_TRUE(out.Append("preamble").ok());
  TypedKvFileWriter<std::string, uint64_t> writer(&out);
  writer.Add("k", 1);
  EXPECT_EQ(writer.Finish().code(), StatusCode::kInternal);
  EXPECT_TRUE(out.Close().ok());
}

TEST(KvFileTypes, NamesSayWhatTheBytesAre) {
  EXPECT_EQ(KvTypeName<std::string>(), "string");
  EXPECT_EQ(KvTypeName<std::string_view>(), "string");
  EXPECT_EQ(KvTypeName<uint64_t>(), "u64");
  EXPECT_EQ(KvTypeName<uint8_t>(), "u8");
  EXPECT_EQ(KvTypeName<int32_t>(), "i32");
  EXPECT_EQ(KvTypeName<long long>(), "i64");
  EXPECT_EQ(KvTypeName<double>(), "f64");
  EXPECT_EQ(KvTypeName<float>(), "f32");
  EXPECT_EQ(KvTypeName<bool>(), "bool");
  EXPECT_EQ(KvTypeName<char>(), "char");
  EXPECT_EQ((KvTypeName<std::pair<std::string, uint64_t>>()), "pair<string,u64>");
  EXPECT_EQ((KvTypeName<std::tuple<std::string, int64_t, double>>()), "tuple<string,i64,f64>");
  EXPECT_EQ((KvTypeName<std::tuple<>>()), "tuple<>");
  const std::string reading = KvTypeName<Reading>();
  EXPECT_EQ(reading.rfind("cereal:", 0), 0u) << reading;
  EXPECT_NE(reading, KvTypeName<std::vector<double>>());
}

TEST(KvFileTypes, MismatchNamesTheFileAndBothTypes) {
  TempDir dir;
  const std::string path = dir.Sub("counts.kv");
  WriteKv(*FileSystem::Default(), path, Words(3));
  std::unique_ptr<KvFileReader> reader = OpenOrDie(path);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE((CheckKvTypes<std::string_view, unsigned long>(*reader)).ok());
  Status s = CheckKvTypes<std::string, std::string>(*reader);
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_TRUE(Contains(s.message(), "'" + path + "'")) << s.message();
  EXPECT_TRUE(
      Contains(s.message(), "holds (string, u64) records but the job reads (string, string)"))
      << s.message();
}

TEST(KvFileTypes, RecordsOfOtherTypesAreCorruptionNamingTheBlock) {
  TempDir dir;
  const std::string path = dir.Sub("strings.kv");
  WriteKv<std::string, std::string>(*FileSystem::Default(), path, {{"a", "b"}, {"c", "d"}});
  std::unique_ptr<KvFileReader> reader = OpenOrDie(path);
  ASSERT_NE(reader, nullptr);
  std::string raw;
  ASSERT_TRUE(reader->ReadBlock(0, &raw).ok());
  // The block is 8 bytes, 01 'a' 01 'b' 01 'c' 01 'd', for 2 records.
  Status s = ForEachKvRecord<uint64_t, uint64_t>(*reader, 0, raw, [](uint64_t, uint64_t) {});
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s.message(), path + "' block 0 at offset ")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "record 0 does not decode as (u64, u64)")) << s.message();
  s = ForEachKvRecord<uint8_t, uint8_t>(*reader, 0, raw, [](uint8_t, uint8_t) {});
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s.message(), "4 bytes left after its 2 records")) << s.message();
  // Same size, same count: only the type names can tell, hence CheckKvTypes.
  s = ForEachKvRecord<uint16_t, uint16_t>(*reader, 0, raw, [](uint16_t, uint16_t) {});
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(KvFileSplit, EveryBlockHasExactlyOneOwnerAndBytesAddUp) {
  TempDir dir;
  const std::string path = dir.Sub("split.kv");
  WriteKv(*FileSystem::Default(), path, Words(3000), 300);
  std::unique_ptr<KvFileReader> reader = OpenOrDie(path);
  ASSERT_NE(reader, nullptr);
  const std::vector<KvBlockRef>& blocks = reader->blocks();
  const uint64_t size = reader->file_size();
  ASSERT_GT(blocks.size(), 20u);

  std::mt19937_64 rng(20240611);
  for (int trial = 0; trial < 300; ++trial) {
    // Cuts anywhere, plus cuts on and beside frame starts, where an
    // off-by-one in the rule would show; repeats make empty ranges.
    std::vector<uint64_t> cuts = {0, size};
    const int n = static_cast<int>(rng() % 12);
    for (int c = 0; c < n; ++c) {
      const uint64_t start = blocks[rng() % blocks.size()].offset;
      const uint64_t choices[] = {rng() % (size + 1), start, start - 1, start + 1};
      cuts.push_back(choices[rng() % 4]);
    }
    std::sort(cuts.begin(), cuts.end());

    std::vector<int> owners(blocks.size(), 0);
    uint64_t bytes = 0;
    size_t next_block = 0;
    for (size_t r = 0; r + 1 < cuts.size(); ++r) {
      const uint64_t begin = cuts[r], end = cuts[r + 1];
      const auto [first, last] = reader->BlocksStartingIn(begin, end);
      ASSERT_EQ(first, next_block) << "ranges in order own blocks in order";
      for (size_t b = first; b < last; ++b) {
        ++owners[b];
        EXPECT_GE(blocks[b].offset, begin);
        EXPECT_LT(blocks[b].offset, end);
      }
      next_block = last;
      bytes += reader->BytesOwnedBy(begin, end);
    }
    EXPECT_EQ(next_block, blocks.size());
    EXPECT_TRUE(std::all_of(owners.begin(), owners.end(), [](int o) { return o == 1; }));
    EXPECT_EQ(bytes, size) << "trial " << trial;
  }
  EXPECT_EQ(reader->BlocksStartingIn(0, size), std::make_pair(size_t{0}, blocks.size()));
  EXPECT_EQ(reader->BytesOwnedBy(0, size), size);
  EXPECT_EQ(reader->BytesOwnedBy(17, 17), 0u);
  const uint64_t mid = blocks[5].offset;
  EXPECT_EQ(reader->BlocksStartingIn(mid - 1, mid), std::make_pair(size_t{5}, size_t{5}));
  EXPECT_EQ(reader->BlocksStartingIn(mid, mid + 1), std::make_pair(size_t{5}, size_t{6}));
}

// A file of a few small blocks: small enough to visit every byte.
class KvFileCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    good_path_ = dir_.Sub("good.kv");
    bad_path_ = dir_.Sub("bad.kv");
    WriteKv(*FileSystem::Default(), good_path_, Words(40), 64);
    good_ = Slurp(good_path_);
    std::unique_ptr<KvFileReader> reader = OpenOrDie(good_path_);
    ASSERT_NE(reader, nullptr);
    blocks_ = reader->blocks();
    ASSERT_GE(blocks_.size(), 4u);
  }

  // Opens bad_path_ and reads every block; the first error, or OK.
  Status ReadBad(bool* opened) {
    auto reader = KvFileReader::Open(*FileSystem::Default(), bad_path_);
    *opened = reader.ok();
    return reader.ok() ? ReadAllBlocks(**reader) : reader.status();
  }

  // good_ with its footer edited by `edit` and its checksum resealed: what a
  // buggy writer, not a bit flip, would produce.
  std::string ResealedFooter(const std::function<void(char* footer)>& edit) const {
    std::string data = good_;
    uint64_t footer_offset;
    uint32_t footer_size;
    std::memcpy(&footer_offset, data.data() + data.size() - 16, 8);
    std::memcpy(&footer_size, data.data() + data.size() - 8, 4);
    char* footer = data.data() + footer_offset;
    edit(footer);
    const uint64_t hash = XXH3_64bits(footer, footer_size - 8);
    std::memcpy(footer + footer_size - 8, &hash, 8);
    return data;
  }

  TempDir dir_;
  std::string good_path_;
  std::string bad_path_;
  std::string good_;
  std::vector<KvBlockRef> blocks_;
};

// Footer entry i: u64 offset at 12 + 12 i, u32 records after it.
char* Entry(char* footer, size_t i) { return footer + 12 + 12 * i; }

TEST_F(KvFileCorruption, EverySingleByteFlipIsDetected) {
  const uint64_t blocks_begin = blocks_.front().offset;
  const uint64_t blocks_end = blocks_.back().offset + blocks_.back().frame_bytes;
  for (size_t at = 0; at < good_.size(); ++at) {
    for (const int mask : {0x01, 0x80, 0xff}) {
      std::string data = good_;
      data[at] = static_cast<char>(data[at] ^ mask);
      Overwrite(bad_path_, data);
      bool opened = false;
      Status s = ReadBad(&opened);
      ASSERT_FALSE(s.ok()) << "flip " << mask << " at offset " << at << " went unnoticed";
      EXPECT_TRUE(Contains(s.message(), bad_path_)) << s.message();
      EXPECT_TRUE(Contains(s.message(), "offset")) << s.message();
      const bool version = at >= 4 && at < 8;
      EXPECT_EQ(s.code(), version ? StatusCode::kBadInput : StatusCode::kCorruption)
          << at << ": " << s.ToString();
      if (at >= blocks_begin && at < blocks_end) {
        // Open reads no block, so the damage shows at the block that holds it.
        EXPECT_TRUE(opened) << at << ": " << s.ToString();
        size_t b = 0;
        while (blocks_[b].offset + blocks_[b].frame_bytes <= at) ++b;
        const std::string named =
            "block " + std::to_string(b) + " at offset " + std::to_string(blocks_[b].offset);
        EXPECT_TRUE(Contains(s.message(), named)) << at << ": " << s.message();
      } else {
        EXPECT_FALSE(opened) << "a flip in the header, footer or trailer fails Open: " << at;
      }
    }
  }
}

TEST_F(KvFileCorruption, EveryTruncationIsDetected) {
  for (size_t n = 0; n < good_.size(); ++n) {
    Overwrite(bad_path_, std::string_view(good_).substr(0, n));
    bool opened = false;
    Status s = ReadBad(&opened);
    ASSERT_FALSE(s.ok()) << "a file cut to " << n << " bytes was read";
    EXPECT_FALSE(opened) << n;
    // Under 4 bytes not even the magic is left to say what the file was.
    EXPECT_EQ(s.code(), n < 4 ? StatusCode::kBadInput : StatusCode::kCorruption)
        << n << ": " << s.ToString();
    EXPECT_TRUE(Contains(s.message(), bad_path_)) << s.message();
  }
}

TEST_F(KvFileCorruption, OtherFilesAreBadInput) {
  for (const std::string& data :
       {std::string(), std::string("hello world\n"), std::string(4096, 'x'),
        good_.substr(blocks_[0].offset, blocks_[0].frame_bytes)}) {
    Overwrite(bad_path_, data);
    auto reader = KvFileReader::Open(*FileSystem::Default(), bad_path_);
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.status().code(), StatusCode::kBadInput) << reader.status().ToString();
    EXPECT_TRUE(Contains(reader.status().message(), "'" + bad_path_ + "' is not a Sluice"))
        << reader.status().message();
  }
}

TEST_F(KvFileCorruption, ResealedFooterWithABadIndexFailsOpen) {
  const size_t total_at = 12 + 12 * blocks_.size();
  const std::vector<std::pair<std::string, std::function<void(char*)>>> edits = {
      {"overlapping", [](char* f) { std::swap_ranges(Entry(f, 1), Entry(f, 1) + 8, Entry(f, 2)); }},
      {"header ends", [](char* f) { ++*Entry(f, 0); }},
      {"room for", [](char* f) { f[4 + 7] = 0x10; }},  // a block count of 2^60
      {"no records", [](char* f) { std::memset(Entry(f, 1) + 8, 0, 4); }},
      {"footer's total", [total_at](char* f) { ++f[total_at]; }},
  };
  for (const auto& [expected, edit] : edits) {
    Overwrite(bad_path_, ResealedFooter(edit));
    bool opened = false;
    Status s = ReadBad(&opened);
    EXPECT_FALSE(opened) << expected;
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_TRUE(Contains(s.message(), "'" + bad_path_ + "' at offset ")) << s.message();
    EXPECT_TRUE(Contains(s.message(), expected)) << s.message();
  }
}

TEST_F(KvFileCorruption, FooterCountsThatDisagreeWithTheFrameFailReadBlock) {
  // Moves a record from block 0 to block 1 in the index: the total still
  // adds up, so only the frames can tell.
  Overwrite(bad_path_, ResealedFooter([](char* f) {
              uint32_t r0, r1;
              std::memcpy(&r0, Entry(f, 0) + 8, 4);
              std::memcpy(&r1, Entry(f, 1) + 8, 4);
              --r0;
              ++r1;
              std::memcpy(Entry(f, 0) + 8, &r0, 4);
              std::memcpy(Entry(f, 1) + 8, &r1, 4);
            }));
  bool opened = false;
  Status s = ReadBad(&opened);
  EXPECT_TRUE(opened);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s.message(), "block 0 at offset " + std::to_string(blocks_[0].offset)))
      << s.message();
  EXPECT_TRUE(Contains(s.message(), "the footer expects")) << s.message();
}

}  // namespace
}  // namespace sluice
