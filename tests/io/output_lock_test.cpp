// Defends "one job at a time owns an output": the lock excludes a second
// holder, names the first, is taken over when its holder is gone, and
// cannot be planted by another user or through a symlink.
#include "io/output_lock.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

TEST(OutputLockTest, SecondHolderIsRefusedNamingTheFirst) {
  TempDir dir;
  const std::string path = dir.Sub(".out.sluice-lock");
  auto first = OutputLock::Acquire(path, "out", "pid 1 on host a", "tok1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // A second open file description conflicts even within one process.
  auto second = OutputLock::Acquire(path, "out", "pid 2 on host b", "tok2");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUsage);
  EXPECT_NE(second.status().message().find("in use by another Sluice job"), std::string::npos);
  EXPECT_NE(second.status().message().find("pid 1 on host a"), std::string::npos)
      << second.status().message();
  EXPECT_TRUE(OutputLock::CheckHeldBy(path, "out", "tok1").ok());
  EXPECT_FALSE(OutputLock::CheckHeldBy(path, "out", "tok2").ok());
  first->Release();
  std::string gone;
  EXPECT_FALSE(iotest::TryRead(path, &gone)) << "Release removes the lock file";
  auto third = OutputLock::Acquire(path, "out", "pid 3", "tok3");
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST(OutputLockTest, LockFileOfADeadHolderIsTakenOver) {
  TempDir dir;
  const std::string path = dir.Sub(".out.sluice-lock");
  WriteFile(path, "pid 99999 on host gone\ntoken old\n");
  ::chmod(path.c_str(), 0600);
  auto lock = OutputLock::Acquire(path, "out", "pid 5", "new");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_TRUE(OutputLock::CheckHeldBy(path, "out", "new").ok());
  EXPECT_FALSE(OutputLock::CheckHeldBy(path, "out", "old").ok());
}

TEST(OutputLockTest, ClosingTheHolderReleasesTheLock) {
  TempDir dir;
  const std::string path = dir.Sub(".out.sluice-lock");
  {
    auto lock = OutputLock::Acquire(path, "out", "pid 1", "a");
    ASSERT_TRUE(lock.ok());
  }  // as a killed process: the file stays, the lock is gone
  std::string left;
  EXPECT_TRUE(iotest::TryRead(path, &left));
  EXPECT_TRUE(OutputLock::Acquire(path, "out", "pid 2", "b").ok());
}

TEST(OutputLockTest, SymlinkInPlaceOfTheLockIsRefused) {
  TempDir dir;
  WriteFile(dir.Sub("victim"), "precious");
  const std::string path = dir.Sub(".out.sluice-lock");
  ASSERT_EQ(::symlink(dir.Sub("victim").c_str(), path.c_str()), 0);
  auto lock = OutputLock::Acquire(path, "out", "pid 1", "a");
  ASSERT_FALSE(lock.ok());
  EXPECT_NE(lock.status().message().find("is a symlink"), std::string::npos);
  std::string victim;
  ASSERT_TRUE(iotest::TryRead(dir.Sub("victim"), &victim));
  EXPECT_EQ(victim, "precious");
}

TEST(OutputLockTest, LockFileOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  TempDir dir;
  const std::string path = dir.Sub(".out.sluice-lock");
  WriteFile(path, "pid 1 on host theirs\n");
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto lock = OutputLock::Acquire(path, "out", "pid 1", "a");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), StatusCode::kUsage);
  EXPECT_NE(lock.status().message().find("owned by uid 65534"), std::string::npos)
      << lock.status().message();
}

}  // namespace
}  // namespace sluice
