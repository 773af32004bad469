// Defends the POSIX FileSystem: what each call does on success, and that
// every failure surfaces as a Status naming the path.
#include "io/file_system.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "io/fault_injecting_file_system.h"
#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

class FileSystemTest : public ::testing::Test {
 protected:
  FileSystem& fs_ = *FileSystem::Default();
  TempDir dir_;
};

// One process-wide object, whichever thread asks: the fault injector that
// SLUICE_FAULT arms (DefaultFileSystemFaults), so an armed fault reaches
// every caller of Default(), not a private copy.
TEST_F(FileSystemTest, DefaultIsOneInstance) {
  std::vector<FileSystem*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (FileSystem*& slot : seen) threads.emplace_back([&slot] { slot = FileSystem::Default(); });
  for (std::thread& t : threads) t.join();
  for (FileSystem* fs : seen) EXPECT_EQ(fs, &DefaultFileSystemFaults());

  DefaultFileSystemFaults().FailNth(FsOp::kCreate, 1, EIO);
  Result<std::unique_ptr<WritableFile>> file = FileSystem::Default()->Create(dir_.Sub("f"));
  DefaultFileSystemFaults().FailNth(FsOp::kCreate, 0, 0);  // disarmed, whatever happened
  ASSERT_FALSE(file.ok()) << "a fault armed on the injector did not reach Default()";
  EXPECT_EQ(file.status().code(), StatusCode::kIOError) << file.status().ToString();
  EXPECT_FALSE(fs_.Exists(dir_.Sub("f")));
}

TEST_F(FileSystemTest, WriteThenReadBack) {
  const std::string path = dir_.Sub("f.txt");
  ASSERT_TRUE(WriteStringToFile(fs_, path, "hello\nworld\n").ok());
  Result<std::string> data = ReadFileToString(fs_, path);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello\nworld\n");
}

TEST_F(FileSystemTest, ReadFileToStringOfEmptyFile) {
  const std::string path = dir_.Sub("empty");
  WriteFile(path, "");
  Result<std::string> data = ReadFileToString(fs_, path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "");
}

TEST_F(FileSystemTest, LargeWriteAndReadRoundTrip) {
  std::string big(8 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 13));
  const std::string path = dir_.Sub("big");
  ASSERT_TRUE(WriteStringToFile(fs_, path, big).ok());
  Result<std::string> data = ReadFileToString(fs_, path);
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(*data == big);
}

TEST_F(FileSystemTest, ReadAtIsShortOnlyAtEndOfFile) {
  const std::string path = dir_.Sub("f");
  WriteFile(path, "0123456789");
  Result<std::unique_ptr<ReadableFile>> file = fs_.OpenForRead(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->size(), 10u);
  EXPECT_EQ((*file)->path(), path);

  char buf[16];
  size_t got = 99;
  ASSERT_TRUE((*file)->ReadAt(3, 4, buf, &got).ok());
  EXPECT_EQ(got, 4u);
  EXPECT_EQ(std::string(buf, got), "3456");

  ASSERT_TRUE((*file)->ReadAt(7, 16, buf, &got).ok());
  EXPECT_EQ(got, 3u);
  EXPECT_EQ(std::string(buf, got), "789");

  ASSERT_TRUE((*file)->ReadAt(10, 16, buf, &got).ok());
  EXPECT_EQ(got, 0u);
  ASSERT_TRUE((*file)->ReadAt(1000, 16, buf, &got).ok());
  EXPECT_EQ(got, 0u);
}

TEST_F(FileSystemTest, OpenMissingFileIsBadInputNamingThePath) {
  const std::string path = dir_.Sub("nope");
  Result<std::unique_ptr<ReadableFile>> file = fs_.OpenForRead(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kBadInput);
  EXPECT_NE(file.status().message().find(path), std::string::npos);
}

TEST_F(FileSystemTest, CreateTruncatesAndUsesMode0644) {
  const std::string path = dir_.Sub("f");
  WriteFile(path, "a long old content");
  mode_t old_mask = ::umask(022);
  WriteFile(path, "new");
  ::umask(old_mask);
  Result<std::string> data = ReadFileToString(fs_, path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "new");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(FileSystemTest, CreateInMissingDirectoryFails) {
  Result<std::unique_ptr<WritableFile>> file = fs_.Create(dir_.Sub("no/such/dir/f"));
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("no/such/dir/f"), std::string::npos);
}

TEST_F(FileSystemTest, CloseIsIdempotentAndAppendAfterCloseFails) {
  Result<std::unique_ptr<WritableFile>> file = fs_.Create(dir_.Sub("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_TRUE((*file)->Close().ok());
  EXPECT_FALSE((*file)->Append("more").ok());
  EXPECT_FALSE((*file)->Sync().ok());
}

TEST_F(FileSystemTest, DestroyingAnUnclosedFileKeepsItsData) {
  const std::string path = dir_.Sub("f");
  {
    Result<std::unique_ptr<WritableFile>> file = fs_.Create(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("kept").ok());
  }
  Result<std::string> data = ReadFileToString(fs_, path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "kept");
}

TEST_F(FileSystemTest, StatFillsTypeSizeTimeAndIdentity) {
  const std::string path = dir_.Sub("f");
  WriteFile(path, "12345");
  Result<FileInfo> info = fs_.Stat(path);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, FileType::kRegular);
  EXPECT_EQ(info->size, 5u);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(info->mtime_ns, int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec);
  EXPECT_GT(info->mtime_ns, 0);
  EXPECT_EQ(info->device, static_cast<uint64_t>(st.st_dev));
  EXPECT_EQ(info->inode, static_cast<uint64_t>(st.st_ino));

  Result<FileInfo> d = fs_.Stat(dir_.path());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->type, FileType::kDirectory);
}

TEST_F(FileSystemTest, StatFollowsSymlinks) {
  const std::string target = dir_.Sub("target");
  const std::string link = dir_.Sub("link");
  WriteFile(target, "abc");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  Result<FileInfo> t = fs_.Stat(target);
  Result<FileInfo> l = fs_.Stat(link);
  ASSERT_TRUE(t.ok() && l.ok());
  EXPECT_EQ(l->type, FileType::kRegular);
  EXPECT_EQ(l->size, 3u);
  EXPECT_EQ(l->inode, t->inode);
  EXPECT_EQ(l->device, t->device);
}

TEST_F(FileSystemTest, StatOfFifoIsOther) {
  const std::string path = dir_.Sub("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  Result<FileInfo> info = fs_.Stat(path);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, FileType::kOther);
}

TEST_F(FileSystemTest, StatOfMissingPathIsBadInputNamingThePath) {
  const std::string path = dir_.Sub("missing");
  Result<FileInfo> info = fs_.Stat(path);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kBadInput);
  EXPECT_NE(info.status().message().find(path), std::string::npos);
}

TEST_F(FileSystemTest, ListDirIsSortedWithoutDotEntries) {
  WriteFile(dir_.Sub("b"), "");
  WriteFile(dir_.Sub("a"), "");
  WriteFile(dir_.Sub(".hidden"), "");
  WriteFile(dir_.Sub("c/inner"), "");
  Result<std::vector<std::string>> names = fs_.ListDir(dir_.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{".hidden", "a", "b", "c"}));
}

TEST_F(FileSystemTest, ListDirOfMissingOrFileFails) {
  EXPECT_FALSE(fs_.ListDir(dir_.Sub("missing")).ok());
  WriteFile(dir_.Sub("f"), "x");
  EXPECT_FALSE(fs_.ListDir(dir_.Sub("f")).ok());
}

TEST_F(FileSystemTest, CreateDirsMakesParentsAndAcceptsExisting) {
  const std::string deep = dir_.Sub("a/b/c/d");
  ASSERT_TRUE(fs_.CreateDirs(deep).ok());
  Result<FileInfo> info = fs_.Stat(deep);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, FileType::kDirectory);
  EXPECT_TRUE(fs_.CreateDirs(deep).ok());
  EXPECT_TRUE(fs_.CreateDirs(dir_.Sub("a/b/")).ok());
  EXPECT_TRUE(fs_.CreateDirs(dir_.Sub("a//b/e/")).ok());
  EXPECT_TRUE(fs_.Exists(dir_.Sub("a/b/e")));
}

TEST_F(FileSystemTest, CreateDirsWorksWithRelativePaths) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
  Status s = fs_.CreateDirs("rel/x");
  bool exists = fs_.Exists("rel/x");
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(exists);
}

TEST_F(FileSystemTest, CreateDirsFailsWhenAFileIsInTheWay) {
  WriteFile(dir_.Sub("file"), "x");
  EXPECT_FALSE(fs_.CreateDirs(dir_.Sub("file")).ok());
  EXPECT_FALSE(fs_.CreateDirs(dir_.Sub("file/sub")).ok());
}

TEST_F(FileSystemTest, RenameReplacesAnExistingFile) {
  WriteFile(dir_.Sub("from"), "new");
  WriteFile(dir_.Sub("to"), "old");
  ASSERT_TRUE(fs_.Rename(dir_.Sub("from"), dir_.Sub("to")).ok());
  EXPECT_FALSE(fs_.Exists(dir_.Sub("from")));
  Result<std::string> data = ReadFileToString(fs_, dir_.Sub("to"));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "new");
}

TEST_F(FileSystemTest, RenameOfMissingFileNamesBothPaths) {
  Status s = fs_.Rename(dir_.Sub("from"), dir_.Sub("to"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir_.Sub("from")), std::string::npos);
  EXPECT_NE(s.message().find(dir_.Sub("to")), std::string::npos);
}

TEST_F(FileSystemTest, RemoveFile) {
  WriteFile(dir_.Sub("f"), "x");
  ASSERT_TRUE(fs_.RemoveFile(dir_.Sub("f")).ok());
  EXPECT_FALSE(fs_.Exists(dir_.Sub("f")));
  EXPECT_FALSE(fs_.RemoveFile(dir_.Sub("f")).ok());
}

TEST_F(FileSystemTest, RemoveAllRemovesATreeAndAcceptsMissing) {
  WriteFile(dir_.Sub("t/a/b/c.txt"), "x");
  WriteFile(dir_.Sub("t/a/.hidden"), "x");
  WriteFile(dir_.Sub("t/top"), "x");
  ASSERT_TRUE(fs_.CreateDirs(dir_.Sub("t/empty/dir")).ok());
  ASSERT_TRUE(fs_.RemoveAll(dir_.Sub("t")).ok());
  EXPECT_FALSE(fs_.Exists(dir_.Sub("t")));
  EXPECT_TRUE(fs_.RemoveAll(dir_.Sub("t")).ok());
  EXPECT_TRUE(fs_.RemoveAll(dir_.Sub("never/existed")).ok());
}

TEST_F(FileSystemTest, RemoveAllOfAFile) {
  WriteFile(dir_.Sub("f"), "x");
  ASSERT_TRUE(fs_.RemoveAll(dir_.Sub("f")).ok());
  EXPECT_FALSE(fs_.Exists(dir_.Sub("f")));
}

TEST_F(FileSystemTest, RemoveAllDoesNotFollowSymlinksIntoDirectories) {
  WriteFile(dir_.Sub("keep/precious.txt"), "x");
  WriteFile(dir_.Sub("doomed/file"), "x");
  ASSERT_EQ(::symlink(dir_.Sub("keep").c_str(), dir_.Sub("doomed/link").c_str()), 0);
  ASSERT_TRUE(fs_.RemoveAll(dir_.Sub("doomed")).ok());
  EXPECT_FALSE(fs_.Exists(dir_.Sub("doomed")));
  EXPECT_TRUE(fs_.Exists(dir_.Sub("keep/precious.txt")));
}

TEST_F(FileSystemTest, RemoveAllOfASymlinkRemovesOnlyTheLink) {
  WriteFile(dir_.Sub("keep/precious.txt"), "x");
  ASSERT_EQ(::symlink(dir_.Sub("keep").c_str(), dir_.Sub("link").c_str()), 0);
  ASSERT_TRUE(fs_.RemoveAll(dir_.Sub("link")).ok());
  struct stat st;
  EXPECT_NE(::lstat(dir_.Sub("link").c_str(), &st), 0);
  EXPECT_TRUE(fs_.Exists(dir_.Sub("keep/precious.txt")));
}

TEST_F(FileSystemTest, ExistsAndIsReadable) {
  WriteFile(dir_.Sub("f"), "x");
  EXPECT_TRUE(fs_.Exists(dir_.Sub("f")));
  EXPECT_TRUE(fs_.IsReadable(dir_.Sub("f")));
  EXPECT_TRUE(fs_.Exists(dir_.path()));
  EXPECT_FALSE(fs_.Exists(dir_.Sub("missing")));
  EXPECT_FALSE(fs_.IsReadable(dir_.Sub("missing")));
}

TEST_F(FileSystemTest, IsReadableFalseForModeZeroWhenNotRoot) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  WriteFile(dir_.Sub("f"), "x");
  ASSERT_EQ(::chmod(dir_.Sub("f").c_str(), 0), 0);
  EXPECT_FALSE(fs_.IsReadable(dir_.Sub("f")));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(FileSystemSyncDir, SyncsADirectoryAndNamesAMissingOne) {
  FileSystem& fs = *FileSystem::Default();
  char tmpl[] = "/tmp/sluice-syncdir-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  EXPECT_TRUE(fs.SyncDir(dir).ok());
  Status missing = fs.SyncDir(dir + "/nope");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find(dir + "/nope"), std::string::npos);
  ASSERT_TRUE(fs.RemoveAll(dir).ok());
}

}  // namespace
}  // namespace sluice
