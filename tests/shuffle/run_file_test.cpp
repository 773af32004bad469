// Spill runs: what a run writer wrote reads back whole, and any damage to
// the file (every single-byte flip, every truncation) is reported as
// corruption naming the run and the offset, never as records.
#include "shuffle/run_file.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/file_system.h"
#include "shuffle/serde.h"
#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Writes `words` (one string record each) as a run of small blocks.
RunInfo WriteRun(const std::string& path, const std::vector<std::string>& words) {
  auto writer = RunWriter::Create(*FileSystem::Default(), path, 1, 48);
  EXPECT_TRUE(writer.ok());
  for (const std::string& w : words) {
    Encode((*writer)->buffer(), w);
    EXPECT_TRUE((*writer)->RecordAdded().ok());
  }
  auto info = (*writer)->Finish();
  EXPECT_TRUE(info.ok());
  return *info;
}

// Reads every record of the run; the first error, or OK with *words filled.
Status ReadRun(const RunInfo& info, std::vector<std::string>* words) {
  SLUICE_ASSIGN_OR_RETURN(auto reader, RunReader::Open(*FileSystem::Default(), info));
  std::string raw;
  uint32_t records = 0;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->NextBlock(&raw, &records));
    if (!more) return Status::OK();
    ByteReader r{raw.data(), raw.data() + raw.size()};
    for (uint32_t i = 0; i < records; ++i) {
      std::string w;
      if (!Decode(r, &w)) return Status::Corruption("undecodable record");
      words->push_back(w);
    }
  }
}

std::vector<std::string> Words(int n) {
  std::vector<std::string> words;
  for (int i = 0; i < n; ++i) words.push_back("word" + std::to_string(i * 7919 % 1000));
  return words;
}

TEST(RunFile, RoundTripsInBlocks) {
  TempDir dir;
  const RunInfo info = WriteRun(dir.Sub("r.run"), Words(60));
  EXPECT_EQ(info.records, 60u);
  EXPECT_GE(info.blocks, 4u);
  std::vector<std::string> back;
  ASSERT_TRUE(ReadRun(info, &back).ok());
  EXPECT_EQ(back, Words(60));
}

TEST(RunFile, EverySingleByteFlipIsCorruptionNamingTheRunAndOffset) {
  TempDir dir;
  const RunInfo good = WriteRun(dir.Sub("good.run"), Words(30));
  const std::string bytes = ReadFileToString(*FileSystem::Default(), good.path).value();
  RunInfo bad = good;
  bad.path = dir.Sub("bad.run");
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (const int mask : {0x01, 0x80}) {
      std::string data = bytes;
      data[at] = static_cast<char>(data[at] ^ mask);
      ASSERT_TRUE(WriteStringToFile(*FileSystem::Default(), bad.path, data).ok());
      std::vector<std::string> words;
      Status s = ReadRun(bad, &words);
      ASSERT_FALSE(s.ok()) << "flip " << mask << " at offset " << at << " went unnoticed";
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
      EXPECT_TRUE(Contains(s.message(), "spill run '" + bad.path + "' at offset")) << s.message();
    }
  }
}

TEST(RunFile, EveryTruncationIsCorruption) {
  TempDir dir;
  const RunInfo good = WriteRun(dir.Sub("good.run"), Words(30));
  const std::string bytes = ReadFileToString(*FileSystem::Default(), good.path).value();
  RunInfo bad = good;
  bad.path = dir.Sub("bad.run");
  for (size_t n = 0; n < bytes.size(); ++n) {
    ASSERT_TRUE(WriteStringToFile(*FileSystem::Default(), bad.path, bytes.substr(0, n)).ok());
    std::vector<std::string> words;
    Status s = ReadRun(bad, &words);
    ASSERT_FALSE(s.ok()) << "truncation to " << n << " bytes went unnoticed";
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_TRUE(Contains(s.message(), bad.path)) << s.message();
  }
}

}  // namespace
}  // namespace sluice
