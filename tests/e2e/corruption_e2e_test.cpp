// Corrupt bytes are caught by a checksum and fail the job naming the file
// and offset (exit 5); they never become output. Spill runs are corrupted
// as a failing disk would do it (SLUICE_FAULT=during_spill@R:corrupt: the
// next write lands with a flipped byte and reports success); a key-value
// file between two jobs by flipping a byte in it.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

// The one error line a failed job prints.
std::string ErrorLine(const std::string& output) {
  const size_t at = output.find("[error]");
  if (at == std::string::npos) return "(no error line)";
  return output.substr(at, output.find('\n', at) - at);
}

TEST(CorruptionE2E, FlippedByteInASpillRunFailsTheJobNamingRunAndOffset) {
  TempDir dir;
  ASSERT_EQ(RunCommand(BinPath("sluice") + " run teragen 100000 " + Quoted(dir / "in") +
                       " --quiet --split-size 1M")
                .exit_code,
            0);
  const std::string scratch = dir / "scratch";
  ASSERT_EQ(RunCommand("mkdir " + Quoted(scratch)).exit_code, 0);
  auto terasort = [&](const std::string& out, const std::string& fault) {
    const std::string env = fault.empty() ? "" : "SLUICE_FAULT=" + fault + " ";
    return RunCommand(env + MpiLauncher(2) + BinPath("sluice") +
                      " run terasort --quiet --memory 4M --split-size 1M --partitions 4 --scratch " +
                      Quoted(scratch) + " " + Quoted(dir / "in") + " " + Quoted(out));
  };
  ASSERT_EQ(terasort(dir / "clean", "").exit_code, 0);
  for (int victim : {0, 1}) {
    const std::string fault = "during_spill@" + std::to_string(victim) + ":corrupt";
    CommandResult r = terasort(dir / "out", fault);
    EXPECT_EQ(r.exit_code, 5) << fault << "\n" << r.output;
    const std::string error = ErrorLine(r.output);
    EXPECT_NE(error.find("spill run '" + scratch), std::string::npos) << error;
    EXPECT_NE(error.find("at offset"), std::string::npos) << error;
    EXPECT_FALSE(Exists(dir / "out"));
    std::printf("| %s | exit %d | %s |\n", fault.c_str(), r.exit_code, error.c_str());
    CommandResult again = terasort(dir / "out", "");
    ASSERT_EQ(again.exit_code, 0) << again.output;
    EXPECT_EQ(ReadParts(dir / "out", 4), ReadParts(dir / "clean", 4));
    ASSERT_EQ(RunCommand("rm -rf " + Quoted(dir / "out")).exit_code, 0);
  }
}

TEST(CorruptionE2E, FlippedByteInAKeyValueInputFailsTheNextJob) {
  TempDir dir;
  ASSERT_EQ(RunCommand(BinPath("sluice-datagen2") + " clf --output " + Quoted(dir / "logs") +
                       " --files 2 --lines 4000 --clients 100 --seed 3")
                .exit_code,
            0);
  const std::string kSessionize = " run sessionize --quiet --partitions 2 --max-bad-records 1000 ";
  ASSERT_EQ(RunSluice(1, kSessionize + Quoted(dir / "logs") + " " + Quoted(dir / "sessions")).exit_code, 0);
  const std::string part = dir / "sessions/part-00001";
  const std::string flip =
      "size=$(stat -c %s " + Quoted(part) + "); off=$((size / 2)); "
      "b=$(od -An -tu1 -j $off -N1 " + Quoted(part) + " | tr -d ' '); "
      "printf \"\\\\$(printf %o $(( b ^ 4 )))\" | dd of=" + Quoted(part) +
      " bs=1 seek=$off conv=notrunc status=none";
  ASSERT_EQ(RunCommand(flip).exit_code, 0);
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("daily" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run dailystats --quiet " + Quoted(dir / "sessions") + " " + Quoted(out));
    EXPECT_EQ(r.exit_code, 5) << r.output;
    const std::string error = ErrorLine(r.output);
    EXPECT_NE(error.find(part), std::string::npos) << error;
    EXPECT_NE(error.find("offset"), std::string::npos) << error;
    EXPECT_FALSE(Exists(out));
    std::printf("| flipped byte in a key-value input, %d rank(s) | exit %d | %s |\n", ranks,
                r.exit_code, error.c_str());
  }
}

}  // namespace
}  // namespace sluice::e2e
