// I/O failures injected through the FileSystem seam surface as a Status that
// names the file, and never leave a published output behind.
#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "io/buffered_writer.h"
#include "io/fault_injecting_file_system.h"
#include "io/line_reader.h"
#include "io/output_committer.h"
#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

TEST(FaultInjection, EnospcOnWriteIsAnIoErrorNamingTheFile) {
  TempDir dir;
  FaultInjectingFileSystem fs(FileSystem::Default());
  auto file = fs.Create(dir.Sub("part"));
  ASSERT_TRUE(file.ok());
  BufferedWriter writer(std::move(file).value(), 16);
  fs.FailNth(FsOp::kAppend, 2, ENOSPC);
  Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) s = writer.Append("0123456789");
  Status closed = writer.Close();
  EXPECT_TRUE(fs.fired());
  EXPECT_FALSE(closed.ok()) << "the first error must stick until Close";
  EXPECT_EQ(closed.code(), StatusCode::kIOError);
  EXPECT_NE(closed.message().find(dir.Sub("part")), std::string::npos) << closed.message();
  EXPECT_NE(closed.message().find("No space left"), std::string::npos) << closed.message();
}

TEST(FaultInjection, FailedSyncFailsClose) {
  TempDir dir;
  FaultInjectingFileSystem fs(FileSystem::Default());
  BufferedWriter writer(fs.Create(dir.Sub("f")).value());
  ASSERT_TRUE(writer.Append("data").ok());
  fs.FailNth(FsOp::kSync, 1, EIO);
  Status s = writer.Close();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("fsync"), std::string::npos) << s.message();
}

TEST(FaultInjection, EioOnReadFailsTheReaderNamingTheFile) {
  TempDir dir;
  WriteFile(dir.Sub("in.txt"), "a\nb\nc\n");
  FaultInjectingFileSystem fs(FileSystem::Default());
  auto file = fs.OpenForRead(dir.Sub("in.txt"));
  ASSERT_TRUE(file.ok());
  fs.FailNth(FsOp::kRead, 1, EIO);
  LineReader reader(**file, 0, 6, 4096);
  std::string_view chunk;
  auto r = reader.NextChunk(&chunk);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_NE(r.status().message().find("in.txt"), std::string::npos);
}

TEST(FaultInjection, ShortReadsAreNotEndOfFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "line " + std::to_string(i) + "\n";
  WriteFile(dir.Sub("in.txt"), text);
  FaultInjectingFileSystem fs(FileSystem::Default());
  fs.LimitReads(7);  // every read returns at most 7 bytes
  auto file = fs.OpenForRead(dir.Sub("in.txt"));
  ASSERT_TRUE(file.ok());
  LineReader reader(**file, 0, text.size(), 64);
  std::string seen;
  std::string_view chunk;
  for (;;) {
    auto more = reader.NextChunk(&chunk);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!more.value()) break;
    seen.append(chunk);
  }
  EXPECT_EQ(seen, text);
}

// A failure anywhere in the job commit leaves no published output.
TEST(FaultInjection, FailedCommitPublishesNothing) {
  struct Case {
    FsOp op;
    int nth;
  } cases[] = {{FsOp::kCreate, 1}, {FsOp::kAppend, 1}, {FsOp::kSync, 1}, {FsOp::kSyncDir, 1},
               {FsOp::kRename, 1}};
  for (const Case& c : cases) {
    TempDir dir;
    FaultInjectingFileSystem fs(FileSystem::Default());
    OutputCommitter committer(fs, dir.Sub("out"));
    ASSERT_TRUE(committer.Prepare(false).ok());
    WriteFile(committer.TaskTempPath(0, 0), "k\t1\n");
    ASSERT_TRUE(committer.CommitTask(0, 0).ok());
    fs.FailNth(c.op, c.nth, c.op == FsOp::kAppend ? ENOSPC : EIO);
    Status s = committer.CommitJob("counters");
    EXPECT_TRUE(fs.fired()) << static_cast<int>(c.op);
    EXPECT_FALSE(s.ok()) << static_cast<int>(c.op);
    EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
    EXPECT_FALSE(fs.Exists(dir.Sub("out"))) << "output published despite " << s.ToString();
    committer.Abort();
    EXPECT_FALSE(fs.Exists(committer.staging_dir()));
  }
}

}  // namespace
}  // namespace sluice
