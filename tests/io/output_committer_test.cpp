// Defends all-or-nothing output: a reader sees no output or the whole output
// with _SUCCESS, never a half-written one, and old output is never lost to a
// run that was not allowed to replace it.
#include "io/output_committer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

class OutputCommitterTest : public ::testing::Test {
 protected:
  std::vector<std::string> List(const std::string& path) {
    Result<std::vector<std::string>> names = fs_.ListDir(path);
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    return names.ok() ? *names : std::vector<std::string>{};
  }

  std::string Read(const std::string& path) {
    Result<std::string> data = ReadFileToString(fs_, path);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    return data.ok() ? *data : "";
  }

  // Runs a whole job that writes `parts` parts through `c`.
  void RunJob(OutputCommitter& c, bool overwrite, int parts, const std::string& tag) {
    ASSERT_TRUE(c.Prepare(overwrite).ok());
    for (int p = 0; p < parts; ++p) {
      WriteFile(c.TaskTempPath(p, p % 2), tag + std::to_string(p));
      ASSERT_TRUE(c.CommitTask(p, p % 2).ok());
    }
    ASSERT_TRUE(c.CommitJob(tag).ok());
  }

  FileSystem& fs_ = *FileSystem::Default();
  TempDir dir_;
};

using Strings = std::vector<std::string>;

TEST_F(OutputCommitterTest, PartNames) {
  EXPECT_EQ(OutputCommitter::PartName(0), "part-00000");
  EXPECT_EQ(OutputCommitter::PartName(3), "part-00003");
  EXPECT_EQ(OutputCommitter::PartName(99999), "part-99999");
  EXPECT_EQ(OutputCommitter::PartName(123456), "part-123456");
}

TEST_F(OutputCommitterTest, StagingIsAHiddenSibling) {
  EXPECT_EQ(OutputCommitter(fs_, "/data/out").staging_container(), "/data/.out.sluice-staging");
  EXPECT_EQ(OutputCommitter(fs_, "/data/out//").staging_container(), "/data/.out.sluice-staging");
  EXPECT_EQ(OutputCommitter(fs_, "/data/out/").output_dir(), "/data/out");
  EXPECT_EQ(OutputCommitter(fs_, "out").staging_container(), "./.out.sluice-staging");
  EXPECT_EQ(OutputCommitter(fs_, "a/b").staging_container(), "a/.b.sluice-staging");
  EXPECT_EQ(OutputCommitter(fs_, "/out").staging_container(), "/.out.sluice-staging");
  EXPECT_EQ(OutputCommitter(fs_, "/data/out").lock_path(), "/data/.out.sluice-lock");
  OutputCommitter c(fs_, "/data/out");
  c.SetRunToken("0123456789abcdef");
  EXPECT_EQ(c.staging_dir(), "/data/.out.sluice-staging/0123456789abcdef");
}

TEST_F(OutputCommitterTest, TaskTempPathIsPrivateToPartitionAndRank) {
  OutputCommitter c(fs_, "/data/out");
  c.SetRunToken("t1");
  EXPECT_EQ(c.TaskTempPath(3, 1), "/data/.out.sluice-staging/t1/_temporary/part-00003.r1");
  EXPECT_NE(c.TaskTempPath(3, 1), c.TaskTempPath(3, 2));
}

TEST_F(OutputCommitterTest, HappyPath) {
  const std::string out = dir_.Sub("out");
  OutputCommitter c(fs_, out);
  ASSERT_TRUE(c.Prepare(false).ok());
  EXPECT_TRUE(fs_.Exists(c.staging_dir() + "/_temporary"));
  EXPECT_FALSE(fs_.Exists(out));

  for (int p = 0; p < 3; ++p) {
    WriteFile(c.TaskTempPath(p, 7), "data " + std::to_string(p) + "\n");
    ASSERT_TRUE(c.CommitTask(p, 7).ok());
  }
  EXPECT_FALSE(fs_.Exists(out)) << "output visible before the job committed";
  ASSERT_TRUE(c.CommitJob("{\"records\": 3}\n").ok());

  EXPECT_EQ(List(out), (Strings{"_SUCCESS", "part-00000", "part-00001", "part-00002"}));
  EXPECT_EQ(Read(out + "/_SUCCESS"), "{\"records\": 3}\n");
  EXPECT_EQ(Read(out + "/part-00001"), "data 1\n");
  EXPECT_FALSE(fs_.Exists(c.staging_dir()));
  EXPECT_EQ(List(dir_.path()), (Strings{"out"}));
}

TEST_F(OutputCommitterTest, JobWithNoPartsStillGetsSuccess) {
  const std::string out = dir_.Sub("out");
  OutputCommitter c(fs_, out);
  ASSERT_TRUE(c.Prepare(false).ok());
  ASSERT_TRUE(c.CommitJob("").ok());
  EXPECT_EQ(List(out), (Strings{"_SUCCESS"}));
}

TEST_F(OutputCommitterTest, PrepareCreatesMissingParents) {
  const std::string out = dir_.Sub("deep/er/out");
  OutputCommitter c(fs_, out);
  RunJob(c, false, 1, "x");
  EXPECT_EQ(List(out), (Strings{"_SUCCESS", "part-00000"}));
}

TEST_F(OutputCommitterTest, ExistingOutputIsRefusedWithoutOverwrite) {
  const std::string out = dir_.Sub("out");
  WriteFile(out + "/precious", "keep me");
  OutputCommitter c(fs_, out);
  Status s = c.Prepare(false);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  EXPECT_EQ(s.message(),
            "output directory '" + out + "' already exists (pass --overwrite to replace it)");
  EXPECT_EQ(Read(out + "/precious"), "keep me");
  EXPECT_FALSE(fs_.Exists(c.staging_dir()));
}

TEST_F(OutputCommitterTest, OverwriteReplacesOldContent) {
  const std::string out = dir_.Sub("out");
  {
    OutputCommitter first(fs_, out);
    RunJob(first, false, 3, "old");
  }
  WriteFile(out + "/stray", "from the old run");
  OutputCommitter second(fs_, out);
  RunJob(second, true, 1, "new");
  EXPECT_EQ(List(out), (Strings{"_SUCCESS", "part-00000"}));
  EXPECT_EQ(Read(out + "/part-00000"), "new0");
  EXPECT_EQ(Read(out + "/_SUCCESS"), "new");
  EXPECT_EQ(List(dir_.path()), (Strings{"out"})) << "old output or staging left behind";
}

TEST_F(OutputCommitterTest, OverwriteReplacesAFileInTheWay) {
  const std::string out = dir_.Sub("out");
  WriteFile(out, "not a directory");
  OutputCommitter c(fs_, out);
  RunJob(c, true, 1, "new");
  EXPECT_EQ(List(out), (Strings{"_SUCCESS", "part-00000"}));
  EXPECT_EQ(List(dir_.path()), (Strings{"out"}));
}

TEST_F(OutputCommitterTest, OverwriteSurvivesLeftoverOldDirectory) {
  // A run killed between its two renames leaves ".out.sluice-old".
  const std::string out = dir_.Sub("out");
  WriteFile(dir_.Sub(".out.sluice-old/part-00000"), "stale");
  WriteFile(out + "/part-00000", "current");
  OutputCommitter c(fs_, out);
  RunJob(c, true, 1, "new");
  EXPECT_EQ(Read(out + "/part-00000"), "new0");
  EXPECT_EQ(List(dir_.path()), (Strings{"out"}));
}

TEST_F(OutputCommitterTest, AbortRemovesStaging) {
  const std::string out = dir_.Sub("out");
  OutputCommitter c(fs_, out);
  ASSERT_TRUE(c.Prepare(false).ok());
  WriteFile(c.TaskTempPath(0, 0), "half");
  WriteFile(c.TaskTempPath(1, 0), "done");
  ASSERT_TRUE(c.CommitTask(1, 0).ok());
  c.Abort();
  EXPECT_FALSE(fs_.Exists(c.staging_dir()));
  EXPECT_FALSE(fs_.Exists(out));
  c.Abort();  // twice, and with nothing to remove: still quiet
}

TEST_F(OutputCommitterTest, AbortLeavesExistingOutputAlone) {
  const std::string out = dir_.Sub("out");
  WriteFile(out + "/part-00000", "old");
  OutputCommitter c(fs_, out);
  ASSERT_TRUE(c.Prepare(true).ok());
  c.Abort();
  EXPECT_EQ(Read(out + "/part-00000"), "old");
}

TEST_F(OutputCommitterTest, PrepareRemovesStaleStaging) {
  const std::string out = dir_.Sub("out");
  OutputCommitter c(fs_, out);
  WriteFile(c.staging_dir() + "/part-00042", "from a killed run");
  WriteFile(c.staging_dir() + "/_temporary/part-00001.r3", "half written");
  ASSERT_TRUE(c.Prepare(false).ok());
  EXPECT_EQ(List(c.staging_dir()), (Strings{"_temporary"}));
  EXPECT_EQ(List(c.staging_dir() + "/_temporary"), Strings{});
  RunJob(c, false, 1, "x");
  EXPECT_EQ(List(out), (Strings{"_SUCCESS", "part-00000"}));
}

TEST_F(OutputCommitterTest, CommitOfAMissingTaskFails) {
  OutputCommitter c(fs_, dir_.Sub("out"));
  ASSERT_TRUE(c.Prepare(false).ok());
  Status s = c.CommitTask(5, 0);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(c.TaskTempPath(5, 0)), std::string::npos) << s.message();
}

TEST_F(OutputCommitterTest, RelativeOutputDirectory) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
  {
    OutputCommitter c(fs_, "out/");
    RunJob(c, false, 2, "rel");
  }
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_EQ(List(dir_.Sub("out")), (Strings{"_SUCCESS", "part-00000", "part-00001"}));
  EXPECT_EQ(List(dir_.path()), (Strings{"out"}));
}

TEST_F(OutputCommitterTest, PrepareRestoresAnOldOutputHiddenByACrash) {
  // The fallback commit (no RENAME_EXCHANGE) killed between its renames:
  // the old output is hidden and no output exists. It must come back.
  const std::string out = dir_.Sub("out");
  WriteFile(dir_.Sub(".out.sluice-old/part-00000"), "yesterday");
  WriteFile(dir_.Sub(".out.sluice-old/_SUCCESS"), "old");
  OutputCommitter c(fs_, out);
  ASSERT_TRUE(c.Prepare(true).ok());
  EXPECT_EQ(Read(out + "/part-00000"), "yesterday");
  EXPECT_FALSE(fs_.Exists(dir_.Sub(".out.sluice-old")));
  c.Abort();
  EXPECT_EQ(List(dir_.path()), (Strings{"out"}));
}

TEST_F(OutputCommitterTest, ReplacingShowsAReaderOneWholeVersionAtEveryInstant) {
  // A reader polling the output while it is replaced 40 times must always
  // find a whole version: _SUCCESS and both parts, all from the same run.
  const std::string out = dir_.Sub("out");
  {
    OutputCommitter first(fs_, out);
    first.SetRunToken("run0");
    RunJob(first, false, 2, "v0-");
  }
  std::atomic<bool> done{false};
  std::atomic<int> looks{0}, broken{0};
  std::thread reader([&] {
    while (!done.load()) {
      std::string success, p0, p1;
      const bool ok = iotest::TryRead(out + "/_SUCCESS", &success) &&
                      iotest::TryRead(out + "/part-00000", &p0) &&
                      iotest::TryRead(out + "/part-00001", &p1);
      // Files of one directory are read one after another: a version may be
      // replaced in between, but then a read fails or shows the new run in
      // every later file; never a missing output, never an older part after
      // a newer one.
      auto version = [](const std::string& part) { return std::atoi(part.c_str() + 1); };
      if (!ok || version(p0) > version(p1)) ++broken;
      ++looks;
    }
  });
  for (int run = 1; run <= 40; ++run) {
    OutputCommitter c(fs_, out);
    c.SetRunToken("run" + std::to_string(run));
    RunJob(c, true, 2, "v" + std::to_string(run) + "-");
  }
  done = true;
  reader.join();
  EXPECT_GT(looks.load(), 0);
  EXPECT_EQ(broken.load(), 0) << "of " << looks.load() << " looks";
  EXPECT_EQ(Read(out + "/part-00001"), "v40-1");
  EXPECT_EQ(List(dir_.path()), (Strings{"out"}));
}

TEST_F(OutputCommitterTest, AbortWithoutPrepareTouchesNothing) {
  // A job refused by the output lock never prepared; its Abort must leave
  // the running job's staging alone.
  const std::string out = dir_.Sub("out");
  OutputCommitter running(fs_, out);
  running.SetRunToken("a");
  ASSERT_TRUE(running.Prepare(false).ok());
  WriteFile(running.TaskTempPath(0, 0), "working");
  OutputCommitter refused(fs_, out);
  refused.SetRunToken("b");
  refused.Abort();
  EXPECT_EQ(Read(running.TaskTempPath(0, 0)), "working");
}

TEST_F(OutputCommitterTest, StagingOfAnotherUserIsRefusedAndLeftAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  const std::string out = dir_.Sub("out");
  OutputCommitter c(fs_, out);
  WriteFile(c.staging_container() + "/theirs", "planted");
  ASSERT_EQ(::chown(c.staging_container().c_str(), 65534, 65534), 0);
  Status s = c.Prepare(false);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  EXPECT_NE(s.message().find("owned by uid 65534"), std::string::npos) << s.message();
  EXPECT_EQ(Read(c.staging_container() + "/theirs"), "planted");
  c.Abort();
  EXPECT_EQ(Read(c.staging_container() + "/theirs"), "planted");
}

TEST_F(OutputCommitterTest, StagingSymlinkIsRefusedNotFollowed) {
  const std::string out = dir_.Sub("out");
  WriteFile(dir_.Sub("victim/keep"), "precious");
  OutputCommitter c(fs_, out);
  ASSERT_EQ(::symlink(dir_.Sub("victim").c_str(), c.staging_container().c_str()), 0);
  Status s = c.Prepare(false);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  EXPECT_NE(s.message().find("is a symlink"), std::string::npos) << s.message();
  EXPECT_EQ(Read(dir_.Sub("victim/keep")), "precious");
}

TEST_F(OutputCommitterTest, StagingIsPrivateToTheUser) {
  const std::string out = dir_.Sub("out");
  OutputCommitter c(fs_, out);
  c.SetRunToken("t");
  ASSERT_TRUE(c.Prepare(false).ok());
  Result<FileInfo> container = fs_.LinkStat(c.staging_container());
  Result<FileInfo> staging = fs_.LinkStat(c.staging_dir());
  ASSERT_TRUE(container.ok() && staging.ok());
  EXPECT_EQ(container->mode, 0700u);
  EXPECT_EQ(staging->mode, 0700u);
  ASSERT_TRUE(c.CommitJob("x").ok());
  // Published with the mode a new directory of the user gets, not 0700.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(fs_.LinkStat(out)->mode, 0777u & ~mask);
}

TEST_F(OutputCommitterTest, OutputWithoutANameIsRefused) {
  EXPECT_EQ(OutputCommitter(fs_, "/").Prepare(true).code(), StatusCode::kUsage);
  EXPECT_EQ(OutputCommitter(fs_, dir_.Sub("..")).Prepare(true).code(), StatusCode::kUsage);
}

}  // namespace
}  // namespace sluice
