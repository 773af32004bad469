// Resume (DESIGN.md invariant 6): a job killed midway, run again, reuses
// the map tasks its first run completed and still writes the bytes of a run
// that was never killed; a finished job run again is a no-op; a change of
// input or configuration never reuses stale work; a damaged saved task is
// mapped again, not trusted.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kPartitions = 4;

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

// 8 files of ~160 KB; with --split-size 32K, about 40 map tasks.
void WriteCorpus(const std::string& dir) { WriteNumberedWords(dir, 8); }

CommandResult WordCount(int ranks, const std::string& in, const std::string& out,
                        const std::string& fault = "", const std::string& extra = "") {
  const std::string env = fault.empty() ? "" : "SLUICE_FAULT=" + fault + " ";
  return RunCommand(env + MpiLauncher(ranks) + BinPath("sluice") +
                    " run wordcount --split-size 32K --partitions " + std::to_string(kPartitions) +
                    " " + extra + " --input " + Quoted(in) + " --output " + Quoted(out));
}

// The map tasks a job took from a killed run's saved work (its report).
int ReusedTasks(const std::string& out) {
  return static_cast<int>(ReportNumber(out, "/resume/map_tasks_reused"));
}

std::string WorkRoot(const std::string& parent, const std::string& name) {
  return parent + "/." + name + ".sluice-work";
}

// Saved task files (map-NNNNNNNN) of every fingerprint under a work root.
int SavedTasks(const std::string& work_root) {
  return std::atoi(
      RunCommand("find " + Quoted(work_root) + " -name 'map-*' ! -name '*.tmp' | wc -l").output.c_str());
}

class ResumeE2E : public ::testing::TestWithParam<int> {};

TEST_P(ResumeE2E, KilledJobResumesAndMatchesAnUninterruptedRun) {
  const int ranks = GetParam();
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  CommandResult clean = WordCount(ranks, dir / "in", dir / "clean");
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_EQ(ReusedTasks(dir / "clean"), 0);
  EXPECT_FALSE(Exists(WorkRoot(dir.path(), "clean"))) << "saved tasks outlived a committed job";

  // Killed (SIGKILL, no cleanup) after rank 0's 3rd map task. The victim of
  // a mid-map fault is rank 0 throughout this file: rank 0 hands out the
  // splits, taking the next for itself after each task and answering each
  // waiting peer at most a couple of times in between, so it maps several
  // of the ~40 however the machine schedules the ranks. A peer that starts
  // late can find them gone (a loaded ctest run saw a job that a fault on
  // rank 1's 4th task never stopped).
  CommandResult killed = WordCount(ranks, dir / "in", dir / "out", "after_map_task@0:crash#3");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  ASSERT_FALSE(Exists(dir / "out"));
  const int saved = SavedTasks(WorkRoot(dir.path(), "out"));
  EXPECT_GE(saved, 3) << killed.output;

  CommandResult resumed = WordCount(ranks, dir / "in", dir / "out");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(ReusedTasks(dir / "out"), saved);
  EXPECT_EQ(ReadParts(dir / "out", kPartitions), ReadParts(dir / "clean", kPartitions));
  // Counters too: reused tasks count exactly as if they had run.
  EXPECT_EQ(ReadFile(dir / "out/_SUCCESS"), ReadFile(dir / "clean/_SUCCESS"));
  EXPECT_EQ(ReadFile(dir / "out/_manifest.json"), ReadFile(dir / "clean/_manifest.json"));
  EXPECT_FALSE(Exists(WorkRoot(dir.path(), "out")));
  std::printf("ranks %d: killed run saved %d map task(s); the re-run reused %d and matched byte for byte\n",
              ranks, saved, ReusedTasks(dir / "out"));
}

INSTANTIATE_TEST_SUITE_P(Ranks, ResumeE2E, ::testing::Values(1, 2, 4));

// Saved work names partitions, not ranks: killed at 4 ranks, resumed at 1.
TEST(ResumeE2EAcrossRanks, KilledAtFourRanksResumesAtOne) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  ASSERT_EQ(WordCount(1, dir / "in", dir / "clean").exit_code, 0);
  CommandResult killed = WordCount(4, dir / "in", dir / "out", "after_map_task@0:throw#3");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  CommandResult resumed = WordCount(1, dir / "in", dir / "out");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_GE(ReusedTasks(dir / "out"), 3);
  EXPECT_EQ(ReadParts(dir / "out", kPartitions), ReadParts(dir / "clean", kPartitions));
}

// Saved blocks name reduce tasks; partitions cut into pieces are cut the
// same at any rank count, so a run killed in reduce at 4 ranks with cut
// partitions resumes at 2 from every saved task, and joins the same parts.
TEST(ResumeE2EAcrossRanks, CutPartitionsResumeAtAnotherRankCount) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  ASSERT_EQ(WordCount(1, dir / "in", dir / "clean", "", "--reduce-task-size 0").exit_code, 0);
  CommandResult killed = WordCount(4, dir / "in", dir / "out", "during_reduce@1:crash", "--reduce-task-size 8K");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  ASSERT_NE(killed.output.find("reduce tasks: partitions over --reduce-task-size cut by key"), std::string::npos)
      << killed.output;
  CommandResult resumed = WordCount(2, dir / "in", dir / "out", "", "--reduce-task-size 8K");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(resumed.output.find("mapping split"), std::string::npos) << resumed.output;
  EXPECT_EQ(ReusedTasks(dir / "out"), static_cast<int>(ReportNumber(dir / "out", "/input/splits")));
  EXPECT_EQ(ReadParts(dir / "out", kPartitions), ReadParts(dir / "clean", kPartitions));
}

TEST(ResumeE2EFinished, ReRunOfAFinishedJobIsANoOpUnlessForced) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  ASSERT_EQ(WordCount(2, dir / "in", dir / "out").exit_code, 0);
  const std::string report = ReadFile(dir / "out/_report.json");  // holds timings: any re-run changes it
  const auto parts = ReadParts(dir / "out", kPartitions);

  CommandResult again = WordCount(2, dir / "in", dir / "out");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to do"), std::string::npos) << again.output;
  EXPECT_EQ(ReadFile(dir / "out/_report.json"), report) << "the no-op re-run rewrote the output";

  CommandResult forced = WordCount(2, dir / "in", dir / "out", "", "--force");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(forced.output.find("nothing to do"), std::string::npos) << forced.output;
  EXPECT_NE(ReadFile(dir / "out/_report.json"), report);
  EXPECT_EQ(ReadParts(dir / "out", kPartitions), parts);

  // A different configuration is a different job: not a no-op, and the
  // existing output is refused as for any other job.
  CommandResult other = RunCommand(BinPath("sluice") + " run wordcount --split-size 64K --partitions 8 --input " +
                                   Quoted(dir / "in") + " --output " + Quoted(dir / "out"));
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_NE(other.output.find("already exists"), std::string::npos) << other.output;
}

TEST(ResumeE2EStale, ChangedInputOrConfigNeverReusesSavedWork) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  CommandResult killed = WordCount(2, dir / "in", dir / "out", "after_map_task@0:crash#4");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  ASSERT_GE(SavedTasks(WorkRoot(dir.path(), "out")), 4) << killed.output;

  // Another setting that shapes map output: nothing may be reused.
  CommandResult config_changed =
      WordCount(2, dir / "in", dir / "out", "after_map_task@0:crash#4", "--block-size 64K");
  ASSERT_NE(config_changed.exit_code, 0);
  // The first fingerprint's work was removed when the second began (beside
  // it stays only the record of where each rank keeps its scratch).
  EXPECT_EQ(RunCommand("ls " + Quoted(WorkRoot(dir.path(), "out")) + " | grep -vx scratch | wc -l").output,
            "1\n");

  // An input changes (one more line): its fingerprint differs, so the
  // re-run maps every split again and counts the new line.
  WriteFile(dir / "in/f3.txt", ReadFile(dir / "in/f3.txt") + "brandnewword y\n");
  CommandResult rerun = WordCount(2, dir / "in", dir / "out");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_EQ(ReusedTasks(dir / "out"), 0);
  ASSERT_EQ(WordCount(1, dir / "in", dir / "fresh").exit_code, 0);
  EXPECT_EQ(ReadParts(dir / "out", kPartitions), ReadParts(dir / "fresh", kPartitions));
  std::string all;
  for (const std::string& part : ReadParts(dir / "out", kPartitions)) all += part;
  EXPECT_NE(all.find("brandnewword\t1\n"), std::string::npos);
}

TEST(ResumeE2EDamaged, CorruptOrTornSavedTaskIsMappedAgain) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  ASSERT_EQ(WordCount(2, dir / "in", dir / "clean").exit_code, 0);
  CommandResult killed = WordCount(2, dir / "in", dir / "out", "after_map_task@0:crash#4");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  const std::string work = WorkRoot(dir.path(), "out");
  const int saved = SavedTasks(work);
  ASSERT_GE(saved, 4) << killed.output;
  // One saved task gets a flipped byte in its middle, another loses its tail.
  const std::vector<std::string> files = {
      RunCommand("find " + Quoted(work) + " -name 'map-*' | sort | sed -n 1p").output,
      RunCommand("find " + Quoted(work) + " -name 'map-*' | sort | sed -n 2p").output};
  for (const std::string& f : files) ASSERT_FALSE(f.empty());
  const std::string flip = files[0].substr(0, files[0].size() - 1);
  const std::string tear = files[1].substr(0, files[1].size() - 1);
  ASSERT_EQ(RunCommand("size=$(stat -c %s " + Quoted(flip) + "); off=$((size / 2)); "
                       "b=$(od -An -tu1 -j $off -N1 " + Quoted(flip) + " | tr -d ' '); "
                       "printf \"\\\\$(printf %o $(( (b + 1) % 256 )))\" | "
                       "dd of=" + Quoted(flip) + " bs=1 seek=$off conv=notrunc status=none")
                .exit_code,
            0);
  ASSERT_EQ(RunCommand("truncate -s -9 " + Quoted(tear)).exit_code, 0);

  CommandResult resumed = WordCount(2, dir / "in", dir / "out");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("fails its checksum"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("has no trailer"), std::string::npos) << resumed.output;
  EXPECT_EQ(ReusedTasks(dir / "out"), saved - 2);
  EXPECT_EQ(ReadParts(dir / "out", kPartitions), ReadParts(dir / "clean", kPartitions));
}

// A saved task that is whole but belongs to another split (copied or
// renamed by hand) passes its own checksum; the split recorded in its
// trailer tells, and the split is mapped again instead of counting the
// other split twice (which used to fail every re-run with exit 5).
TEST(ResumeE2EDamaged, TaskCopiedFromAnotherSplitIsMappedAgain) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  ASSERT_EQ(WordCount(2, dir / "in", dir / "clean").exit_code, 0);
  CommandResult killed = WordCount(2, dir / "in", dir / "out", "after_map_task@0:crash#4");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  const std::string work = WorkRoot(dir.path(), "out");
  const int saved = SavedTasks(work);
  ASSERT_GE(saved, 4) << killed.output;
  const std::string list = "find " + Quoted(work) + " -name 'map-*' ! -name '*.tmp' | sort | sed -n ";
  std::string first = RunCommand(list + "1p").output, second = RunCommand(list + "2p").output;
  ASSERT_FALSE(first.empty() || second.empty());
  first.pop_back();
  second.pop_back();
  ASSERT_EQ(RunCommand("cp " + Quoted(second) + " " + Quoted(first)).exit_code, 0);

  CommandResult resumed = WordCount(2, dir / "in", dir / "out");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("belongs to split"), std::string::npos) << resumed.output;
  EXPECT_EQ(ReusedTasks(dir / "out"), saved - 1);
  EXPECT_EQ(ReadParts(dir / "out", kPartitions), ReadParts(dir / "clean", kPartitions));
}

// teragen (a map-only job) at 2 ranks, optionally with a fault armed.
CommandResult Teragen(const std::string& out, const std::string& fault) {
  const std::string env = fault.empty() ? "" : "SLUICE_FAULT=" + fault + " ";
  return RunCommand(env + MpiLauncher(2) + BinPath("sluice") + " run teragen 60000 " + Quoted(out) +
                    " --split-size 512K");
}

// `out` holds the same files, part bytes and manifest as `clean`.
void ExpectSameMapOnlyOutput(const std::string& out, const std::string& clean) {
  EXPECT_EQ(ListDir(out), ListDir(clean));
  for (const std::string& name : ListDir(clean)) {
    if (name.rfind("part-", 0) == 0) {
      EXPECT_EQ(ReadFile(out + "/" + name), ReadFile(clean + "/" + name)) << name;
    }
  }
  EXPECT_EQ(ReadFile(out + "/_manifest.json"), ReadFile(clean + "/_manifest.json"));
}

// A map-only job (teragen) keeps its committed part files for resume.
TEST(ResumeE2EMapOnly, KilledGeneratorResumesWithTheSameParts) {
  TempDir dir;
  ASSERT_EQ(Teragen(dir / "clean", "").exit_code, 0);
  CommandResult killed = Teragen(dir / "out", "after_map_task@0:crash#3");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  CommandResult resumed = Teragen(dir / "out", "");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_GE(ReusedTasks(dir / "out"), 3);
  ExpectSameMapOnlyOutput(dir / "out", dir / "clean");
}

// A map-only task's saved part file is checked against the size and xxh3
// saved with the task before it is published again: a truncated one used to
// be published with _SUCCESS and a manifest claiming the full count.
TEST(ResumeE2EMapOnly, TruncatedSavedPartIsMappedAgain) {
  TempDir dir;
  ASSERT_EQ(Teragen(dir / "clean", "").exit_code, 0);
  CommandResult killed = Teragen(dir / "out", "after_map_task@0:crash#3");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  const std::string work = WorkRoot(dir.path(), "out");
  std::string part =
      RunCommand("find " + Quoted(work) + " -name 'map-*.part' | sort | sed -n 1p").output;
  ASSERT_FALSE(part.empty()) << killed.output;
  part.pop_back();
  const int saved = SavedTasks(work) / 2;  // each task: map-N and map-N.part
  ASSERT_EQ(RunCommand("truncate -s -100 " + Quoted(part)).exit_code, 0);

  CommandResult resumed = Teragen(dir / "out", "");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("has a part file of"), std::string::npos) << resumed.output;
  EXPECT_EQ(ReusedTasks(dir / "out"), saved - 1);
  ExpectSameMapOnlyOutput(dir / "out", dir / "clean");
}

}  // namespace
}  // namespace sluice::e2e
