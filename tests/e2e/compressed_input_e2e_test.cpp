// Compressed input end to end: the same text given plain, gzipped (one member
// or several, BGZF), zstd'd (one frame or several), bzip2'd and xz'd must give
// byte-identical WordCount output at 1, 2 and 4 ranks, and equal an
// independent count of the plain text. The splittable ones (BGZF, multi-frame
// zstd) must really be cut into several map tasks; the others must be one
// task each. Broken compressed files must fail with exit 3 naming the file
// and where, publishing nothing.
//
// A table of what ran is printed at the end (the issue's "format x
// compression" table quotes it).
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kPartitions = 4;
constexpr int kBadInput = 3;

struct Row {
  std::string format;
  std::string splits;
  std::string result;
};

std::vector<Row>& Rows() {
  static std::vector<Row> rows;
  return rows;
}

class TablePrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    if (Rows().empty()) return;
    std::cout << "\n| input | map tasks (--split-size 256K) | 1 / 2 / 4 ranks |\n|---|---|---|\n";
    for (const Row& r : Rows()) std::cout << "| " << r.format << " | " << r.splits << " | " << r.result << " |\n";
    std::cout << std::flush;
  }
};

[[maybe_unused]] ::testing::Environment* const kTablePrinter =
    ::testing::AddGlobalTestEnvironment(new TablePrinter);

CommandResult Sh(const std::string& command) {
  CommandResult r = RunCommand(command);
  EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.output;
  return r;
}

// The text every case compresses: about 2 MB of generated words in lines,
// one file.
class CompressedInputE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    Sh(BinPath("sluice-textgen") + " --output " + (*dir_ / "gen") + " --bytes 2M --files 1 --seed 7");
    Sh("mv " + (*dir_ / "gen/text-00000.txt") + " " + Plain());
    plain_parts_ = new std::vector<std::string>;
    const std::string out = *dir_ / "plain-out";
    CommandResult r = RunSluice(1, "run wordcount --quiet --partitions " + std::to_string(kPartitions) +
                                       " --input " + Plain() + " --output " + out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    *plain_parts_ = ReadParts(out, kPartitions);
    // The independent reference: the plain text's counts.
    std::map<std::string, uint64_t> got;
    for (const std::string& part : *plain_parts_) {
      size_t pos = 0;
      while (pos < part.size()) {
        const size_t nl = part.find('\n', pos);
        const std::string line = part.substr(pos, nl - pos);
        const size_t tab = line.find('\t');
        got[line.substr(0, tab)] = std::stoull(line.substr(tab + 1));
        pos = nl + 1;
      }
    }
    ASSERT_EQ(got, ReferenceWordCount({Plain()}));
  }
  static void TearDownTestSuite() {
    delete plain_parts_;
    delete dir_;
  }

  static std::string Plain() { return *dir_ / "words.txt"; }

  // Runs wordcount over `input` at 1, 2 and 4 ranks; each run's parts must
  // equal the plain run's. Returns the planned split count.
  static uint64_t ExpectSameAsPlain(const std::string& name, const std::string& input) {
    uint64_t splits = 0;
    std::string result;
    std::string slug;  // the case's name as a file name
    for (const char c : name) slug.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    for (int ranks : {1, 2, 4}) {
      const std::string out = *dir_ / (slug + "-out-" + std::to_string(ranks));
      CommandResult r = RunSluice(ranks, "run wordcount --quiet --split-size 256K --partitions " +
                                             std::to_string(kPartitions) + " --input " + input +
                                             " --output " + out);
      EXPECT_EQ(r.exit_code, 0) << name << " at " << ranks << " ranks\n" << r.output;
      if (r.exit_code != 0) {
        result += (result.empty() ? "" : " / ") + std::string("exit ") + std::to_string(r.exit_code);
        continue;
      }
      const bool same = ReadParts(out, kPartitions) == *plain_parts_;
      EXPECT_TRUE(same) << name << " at " << ranks << " ranks differs from the plain text's output";
      result += (result.empty() ? "" : " / ") + std::string(same ? "identical" : "DIFFERENT");
      const uint64_t s = ReportNumber(out, "/input/splits");
      if (splits != 0) {
        EXPECT_EQ(s, splits) << "the plan must not depend on the rank count";
      }
      splits = s;
    }
    Rows().push_back({name, std::to_string(splits), result});
    return splits;
  }

  static TempDir* dir_;
  static std::vector<std::string>* plain_parts_;
};

TempDir* CompressedInputE2E::dir_ = nullptr;
std::vector<std::string>* CompressedInputE2E::plain_parts_ = nullptr;

TEST_F(CompressedInputE2E, PlainTextIsCutBySize) {
  EXPECT_GT(ExpectSameAsPlain("plain", Plain()), 4u);
}

TEST_F(CompressedInputE2E, GzipIsDecodedAsOneTask) {
  const std::string gz = *dir_ / "words.txt.gz";
  Sh("gzip -6 -c " + Plain() + " > " + gz);
  EXPECT_EQ(ExpectSameAsPlain("gzip", gz), 1u);
}

TEST_F(CompressedInputE2E, GzipIsRecognisedByItsBytesNotItsName) {
  // A gzip file named .txt is decoded; a text file named .gz is read as text.
  const std::string disguised = *dir_ / "really-gzip.txt";
  Sh("gzip -1 -c " + Plain() + " > " + disguised);
  EXPECT_EQ(ExpectSameAsPlain("gzip named .txt", disguised), 1u);
  const std::string text_gz = *dir_ / "really-text.gz";
  Sh("cp " + Plain() + " " + text_gz);
  EXPECT_GT(ExpectSameAsPlain("text named .gz", text_gz), 4u);
}

TEST_F(CompressedInputE2E, ConcatenatedGzipMembersAreReadWhole) {
  // Cut at arbitrary bytes (mid-line): zcat joins the members into the text.
  const std::string gz = *dir_ / "members.gz";
  Sh("cd " + dir_->path() + " && split -b 700000 " + Plain() + " piece- && for p in piece-*; do gzip -c $p; "
     "done > " + gz + " && rm piece-*");
  EXPECT_EQ(ExpectSameAsPlain("gzip, 3 members (cat a.gz b.gz c.gz)", gz), 1u);
}

TEST_F(CompressedInputE2E, BgzfIsSplitAtBlocks) {
  const std::string gz = *dir_ / "words.bgz.gz";
  Sh("bgzip -c " + Plain() + " > " + gz);
  EXPECT_GT(ExpectSameAsPlain("BGZF (bgzip)", gz), 1u);
}

TEST_F(CompressedInputE2E, ZstdOneFrameIsOneTask) {
  const std::string zst = *dir_ / "words.txt.zst";
  Sh("zstd -q -3 -c " + Plain() + " > " + zst);
  EXPECT_EQ(ExpectSameAsPlain("zstd, one frame", zst), 1u);
}

TEST_F(CompressedInputE2E, ZstdFramesAreSplitAtFrames) {
  // Frames cut mid-line, each stating its size (as zstd does for a file).
  const std::string zst = *dir_ / "frames.zst";
  Sh("cd " + dir_->path() + " && split -b 300001 " + Plain() + " piece- && for p in piece-*; do zstd -q -c $p; "
     "done > " + zst + " && rm piece-*");
  EXPECT_GT(ExpectSameAsPlain("zstd, 7 frames", zst), 1u);
}

TEST_F(CompressedInputE2E, PzstdOutputIsRead) {
  const std::string zst = *dir_ / "words.pzstd.zst";
  Sh("pzstd -q -p 2 -c " + Plain() + " > " + zst);
  ExpectSameAsPlain("pzstd -p 2", zst);
}

TEST_F(CompressedInputE2E, ZstdWithoutSizesIsOneTask) {
  const std::string zst = *dir_ / "stream.zst";
  Sh("cat " + Plain() + " | zstd -q -c > " + zst);  // from a pipe: no content size
  EXPECT_EQ(ExpectSameAsPlain("zstd from a pipe (no sizes)", zst), 1u);
}

TEST_F(CompressedInputE2E, Bzip2AndXzAreOneTaskEach) {
  const std::string bz = *dir_ / "words.txt.bz2";
  Sh("bzip2 -c " + Plain() + " > " + bz);
  EXPECT_EQ(ExpectSameAsPlain("bzip2", bz), 1u);
  const std::string xz = *dir_ / "words.txt.xz";
  Sh("xz -T1 -c " + Plain() + " > " + xz);
  EXPECT_EQ(ExpectSameAsPlain("xz", xz), 1u);
}

TEST_F(CompressedInputE2E, MixedDirectoryOfPlainAndCompressedFiles) {
  // One big gzip beside small files: the largest-first order starts the
  // gzip first; the output equals the plain text's whatever the order.
  const std::string mixed = *dir_ / "mixed";
  // Cut at line ends (-l): a word cut in two across files would count as two.
  Sh("mkdir -p " + mixed + " && cd " + mixed + " && split -l 8000 -d " + Plain() +
     " part- && gzip part-00 && zstd -q --rm part-02 && bzip2 part-03");
  const std::string out = *dir_ / "mixed-out";
  for (int ranks : {1, 2}) {
    CommandResult r = RunSluice(ranks, "run wordcount --quiet --overwrite --split-size 256K --partitions " +
                                           std::to_string(kPartitions) + " --input " + mixed +
                                           " --output " + out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // Not EXPECT_EQ: gtest's diff of two megabyte strings is quadratic.
    EXPECT_TRUE(ReadParts(out, kPartitions) == *plain_parts_) << ranks << " ranks";
  }
  Rows().push_back({"directory: .gz + .zst + .bz2 + plain pieces", "-", "identical / identical / -"});
}

// ---- broken compressed files ------------------------------------------------

// Runs wordcount on a broken file: exit 3, a message naming the file and a
// position, nothing published.
void ExpectRefused(const std::string& case_name, const std::string& input, const std::string& word,
                   int ranks, const TempDir& dir) {
  const std::string out = dir / ("refused-" + std::to_string(ranks));
  CommandResult r = RunSluice(ranks, "run wordcount --split-size 256K --input " + input + " --output " + out);
  EXPECT_EQ(r.exit_code, kBadInput) << case_name << "\n" << r.output;
  EXPECT_NE(r.output.find(input), std::string::npos) << "the message must name the file:\n" << r.output;
  EXPECT_NE(r.output.find(word), std::string::npos) << "expected '" << word << "' in:\n" << r.output;
  EXPECT_NE(r.output.find("byte"), std::string::npos) << "the message must say where:\n" << r.output;
  EXPECT_FALSE(Exists(out)) << "nothing may be published";
  EXPECT_FALSE(Exists(dir / ("refused-" + std::to_string(ranks)) + ".sluice-staging"));
  Rows().push_back({case_name + " (" + std::to_string(ranks) + " rank" + (ranks > 1 ? "s" : "") + ")",
                    "-", "exit " + std::to_string(r.exit_code)});
}

TEST_F(CompressedInputE2E, CorruptGzipExitsThreeNamingFileAndPosition) {
  const std::string gz = *dir_ / "corrupt.gz";
  Sh("gzip -c " + Plain() + " > " + gz +
     " && printf '\\x55\\xaa\\x55' | dd of=" + gz + " bs=1 seek=400000 conv=notrunc status=none");
  for (int ranks : {1, 2}) ExpectRefused("corrupt gzip", gz, "corrupt", ranks, *dir_);
}

TEST_F(CompressedInputE2E, TruncatedZstdExitsThreeNamingFileAndPosition) {
  const std::string zst = *dir_ / "truncated.zst";
  Sh("zstd -q -c " + Plain() + " | head -c 500000 > " + zst);
  for (int ranks : {1, 2}) ExpectRefused("truncated zstd", zst, "truncated", ranks, *dir_);
}

TEST_F(CompressedInputE2E, TruncatedSplittableFileExitsThree) {
  // A BGZF file cut in its middle: the block walk at plan time or the
  // decoder of the last split notices; either way exit 3.
  const std::string gz = *dir_ / "truncated.bgz";
  Sh("bgzip -c " + Plain() + " | head -c 300000 > " + gz);
  for (int ranks : {1, 2}) ExpectRefused("truncated BGZF", gz, "truncated", ranks, *dir_);
}

TEST_F(CompressedInputE2E, BgzfCutAtABlockBoundaryExitsThree) {
  // Every block before the cut passes its own CRC; only the missing
  // end-of-file block shows the loss (zcat says nothing, bgzip warns).
  const std::string gz = *dir_ / "cut-at-block.bgz";
  Sh("bgzip -c " + Plain() + " > " + gz + ".whole && python3 -c \"import struct,sys\n"
     "d=open(sys.argv[1],'rb').read(); i=0; starts=[]\n"
     "while i < len(d): starts.append(i); i += struct.unpack('<H', d[i+16:i+18])[0] + 1\n"
     "open(sys.argv[2],'wb').write(d[:starts[len(starts)//2]])\" " + gz + ".whole " + gz);
  for (int ranks : {1, 2}) ExpectRefused("BGZF cut at a block boundary", gz, "end-of-file block", ranks, *dir_);
}

TEST_F(CompressedInputE2E, TruncatedBzip2AndXzExitThree) {
  const std::string bz = *dir_ / "truncated.bz2";
  Sh("bzip2 -c " + Plain() + " | head -c 200000 > " + bz);
  ExpectRefused("truncated bzip2", bz, "truncated", 1, *dir_);
  const std::string xz = *dir_ / "truncated.xz";
  Sh("xz -c " + Plain() + " | head -c 200000 > " + xz);
  ExpectRefused("truncated xz", xz, "truncated", 1, *dir_);
}

TEST_F(CompressedInputE2E, CompressedFixedRecordsAreRefusedNamingTheCodec) {
  // Binary records are never decoded: teragen's compressed parts given to
  // terasort fail at once with the codec named, not with "not a whole
  // number of records" (or garbage records when the size happens to fit).
  const std::string gen = *dir_ / "teragen-gz";
  CommandResult r = RunSluice(1, "run teragen --quiet --output-compression gzip --partitions 2 --input 2000 "
                                 "--output " + gen);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string sorted = *dir_ / "terasort-of-gz";
  r = RunSluice(2, "run terasort --input " + gen + " --output " + sorted);
  EXPECT_EQ(r.exit_code, kBadInput) << r.output;
  EXPECT_NE(r.output.find("is gzip-compressed, and this job reads fixed-size records"), std::string::npos)
      << r.output;
  EXPECT_FALSE(Exists(sorted));
  Rows().push_back({"teragen --output-compression gzip, then terasort", "-", "exit 3, codec named"});
}

}  // namespace
}  // namespace sluice::e2e
