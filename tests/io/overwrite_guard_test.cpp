// Defends "--overwrite replaces only a Sluice output and never an input".
#include "io/overwrite_guard.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

class OverwriteGuardTest : public ::testing::Test {
 protected:
  void MakeSluiceOutput(const std::string& dir) {
    WriteFile(dir + "/part-00000", "a\t1\n");
    WriteFile(dir + "/_SUCCESS", "job\twordcount\nfingerprint\t0123456789abcdef\n");
  }
  Status Check(const std::string& out, std::vector<std::string> inputs = {}) {
    return CheckReplaceable(fs_, out, inputs);
  }
  FileSystem& fs_ = *FileSystem::Default();
  TempDir dir_;
};

TEST_F(OverwriteGuardTest, ASluiceOutputMayBeReplaced) {
  MakeSluiceOutput(dir_.Sub("out"));
  EXPECT_TRUE(Check(dir_.Sub("out"), {dir_.Sub("in")}).ok());
}

TEST_F(OverwriteGuardTest, AManifestAloneMarksASluiceOutput) {
  WriteFile(dir_.Sub("out/_manifest.json"), "{\n  \"format\": \"sluice-manifest/1\",\n}\n");
  EXPECT_TRUE(Check(dir_.Sub("out")).ok());
}

TEST_F(OverwriteGuardTest, AnyOtherDirectoryIsRefused) {
  WriteFile(dir_.Sub("photos/cat.jpg"), "meow");
  WriteFile(dir_.Sub("fake/_SUCCESS"), "");  // a Hadoop-style marker is not ours
  for (const char* name : {"photos", "fake"}) {
    Status s = Check(dir_.Sub(name));
    EXPECT_EQ(s.code(), StatusCode::kUsage);
    EXPECT_NE(s.message().find("is not a Sluice output"), std::string::npos) << s.message();
  }
}

TEST_F(OverwriteGuardTest, AnOutputHoldingOrBeingAnInputIsRefused) {
  MakeSluiceOutput(dir_.Sub("proj"));
  WriteFile(dir_.Sub("proj/in/a.txt"), "data");
  Status s = Check(dir_.Sub("proj"), {dir_.Sub("proj/in")});
  EXPECT_NE(s.message().find("contains the input"), std::string::npos) << s.message();
  s = Check(dir_.Sub("proj"), {dir_.Sub("proj/part-00000")});
  EXPECT_NE(s.message().find("contains the input"), std::string::npos) << s.message();
  s = Check(dir_.Sub("proj"), {dir_.Sub("proj")});
  EXPECT_NE(s.message().find("is the input"), std::string::npos) << s.message();
  // Through another name: a symlink to the input inside the output.
  ASSERT_EQ(::symlink(dir_.Sub("proj/in").c_str(), dir_.Sub("alias").c_str()), 0);
  s = Check(dir_.Sub("proj"), {dir_.Sub("alias/a.txt")});
  EXPECT_NE(s.message().find("contains the input"), std::string::npos) << s.message();
}

TEST_F(OverwriteGuardTest, RootHomeAndTheCurrentDirectoryAreRefused) {
  EXPECT_NE(Check("/").message().find("root directory"), std::string::npos);
  MakeSluiceOutput(dir_.Sub("home"));
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home ? old_home : "";
  ::setenv("HOME", dir_.Sub("home").c_str(), 1);
  EXPECT_NE(Check(dir_.Sub("home")).message().find("$HOME"), std::string::npos);
  EXPECT_NE(Check(dir_.path() + "/home/..").message().find("$HOME"), std::string::npos);
  ::setenv("HOME", saved.c_str(), 1);
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  MakeSluiceOutput(dir_.Sub("work"));
  ASSERT_EQ(::chdir(dir_.Sub("work").c_str()), 0);
  EXPECT_NE(Check(".").message().find("current directory"), std::string::npos);
  ASSERT_EQ(::chdir(cwd), 0);
}

TEST_F(OverwriteGuardTest, ASymlinkedOutputIsRefused) {
  MakeSluiceOutput(dir_.Sub("real"));
  ASSERT_EQ(::symlink(dir_.Sub("real").c_str(), dir_.Sub("link").c_str()), 0);
  EXPECT_NE(Check(dir_.Sub("link")).message().find("is a symlink"), std::string::npos);
}

}  // namespace
}  // namespace sluice
