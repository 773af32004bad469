// Defends input expansion: what gets listed, in what order, and that every
// mistake in --input is reported before work starts.
#include "io/input_lister.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

class InputListerTest : public ::testing::Test {
 protected:
  // Paths relative to the temp dir, or the failed status's message.
  std::vector<std::string> Paths(const std::vector<std::string>& specs) {
    Result<std::vector<InputFile>> r = ListInputs(fs_, specs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const InputFile& f : *r) {
      out.push_back(f.path.rfind(dir_.path() + "/", 0) == 0 ? f.path.substr(dir_.path().size() + 1)
                                                            : f.path);
    }
    return out;
  }

  Status Error(const std::vector<std::string>& specs) {
    Result<std::vector<InputFile>> r = ListInputs(fs_, specs);
    EXPECT_FALSE(r.ok());
    return r.status();
  }

  FileSystem& fs_ = *FileSystem::Default();
  TempDir dir_;
};

using Strings = std::vector<std::string>;

TEST_F(InputListerTest, NoSpecsIsAUsageError) {
  Status s = Error({});
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  EXPECT_EQ(s.message(), "no input given");
}

TEST_F(InputListerTest, SingleFileWithSizeAndMtime) {
  WriteFile(dir_.Sub("a.txt"), "hello\n");
  Result<std::vector<InputFile>> r = ListInputs(fs_, {dir_.Sub("a.txt")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].path, dir_.Sub("a.txt"));
  EXPECT_EQ((*r)[0].size, 6u);
  Result<FileInfo> info = fs_.Stat(dir_.Sub("a.txt"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*r)[0].mtime_ns, info->mtime_ns);
}

TEST_F(InputListerTest, DirectoryIsWalkedRecursivelyAndSorted) {
  WriteFile(dir_.Sub("in/b.txt"), "b");
  WriteFile(dir_.Sub("in/a.txt"), "a");
  WriteFile(dir_.Sub("in/sub/c.txt"), "c");
  WriteFile(dir_.Sub("in/sub/deeper/d.txt"), "d");
  WriteFile(dir_.Sub("in/z/e.txt"), "e");
  EXPECT_EQ(Paths({dir_.Sub("in")}),
            (Strings{"in/a.txt", "in/b.txt", "in/sub/c.txt", "in/sub/deeper/d.txt", "in/z/e.txt"}));
  // A trailing slash does not double the separator.
  EXPECT_EQ(Paths({dir_.Sub("in/sub/")}), (Strings{"in/sub/c.txt", "in/sub/deeper/d.txt"}));
}

TEST_F(InputListerTest, HiddenAndUnderscoreEntriesAreSkipped) {
  WriteFile(dir_.Sub("in/part-00000"), "x");
  WriteFile(dir_.Sub("in/_SUCCESS"), "");
  WriteFile(dir_.Sub("in/.part-00000.crc"), "x");
  WriteFile(dir_.Sub("in/_temporary/part-00001.r0"), "x");
  WriteFile(dir_.Sub("in/.staging/part-00002"), "x");
  WriteFile(dir_.Sub("in/sub/_logs"), "x");
  WriteFile(dir_.Sub("in/sub/kept_file"), "x");
  EXPECT_EQ(Paths({dir_.Sub("in")}), (Strings{"in/part-00000", "in/sub/kept_file"}));
}

TEST_F(InputListerTest, ExplicitlyNamedHiddenFileIsTaken) {
  // The skip rule is for directory walks; a file the user names is wanted.
  WriteFile(dir_.Sub("_data"), "x");
  EXPECT_EQ(Paths({dir_.Sub("_data")}), (Strings{"_data"}));
}

TEST_F(InputListerTest, ZeroByteFilesAreKept) {
  WriteFile(dir_.Sub("in/empty"), "");
  WriteFile(dir_.Sub("in/full"), "x");
  EXPECT_EQ(Paths({dir_.Sub("in")}), (Strings{"in/empty", "in/full"}));
}

TEST_F(InputListerTest, GlobMatchesFilesAndDirectories) {
  WriteFile(dir_.Sub("logs/day2.log"), "x");
  WriteFile(dir_.Sub("logs/day1.log"), "x");
  WriteFile(dir_.Sub("logs/day1.txt"), "x");
  WriteFile(dir_.Sub("logs/dayX/inner.log"), "x");
  EXPECT_EQ(Paths({dir_.Sub("logs/*.log")}), (Strings{"logs/day1.log", "logs/day2.log"}));
  EXPECT_EQ(Paths({dir_.Sub("logs/day?.log")}), (Strings{"logs/day1.log", "logs/day2.log"}));
  EXPECT_EQ(Paths({dir_.Sub("logs/day[2]*")}), (Strings{"logs/day2.log"}));
  EXPECT_EQ(Paths({dir_.Sub("logs/dayX*")}), (Strings{"logs/dayX/inner.log"}));
}

TEST_F(InputListerTest, GlobMatchingNothingIsAnError) {
  ASSERT_TRUE(fs_.CreateDirs(dir_.Sub("logs")).ok());
  const std::string spec = dir_.Sub("logs/*.gz");
  Status s = Error({spec});
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_EQ(s.message(), "input glob '" + spec + "' matched no files");
}

// A spec naming an existing path is that path, glob characters and all.
TEST_F(InputListerTest, ExistingPathWithBracketsIsTakenLiterally) {
  WriteFile(dir_.Sub("in/a[1].txt"), "literal");
  WriteFile(dir_.Sub("in/a1.txt"), "what the glob would match");
  Result<std::vector<InputFile>> r = ListInputs(fs_, {dir_.Sub("in/a[1].txt")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].path, dir_.Sub("in/a[1].txt"));
  EXPECT_EQ((*r)[0].size, 7u);
}

TEST_F(InputListerTest, FileLiterallyNamedStarIsTakenAlone) {
  WriteFile(dir_.Sub("in/*.txt"), "x");
  WriteFile(dir_.Sub("in/b.txt"), "y");
  WriteFile(dir_.Sub("in/c?.txt"), "z");
  WriteFile(dir_.Sub("in/cd.txt"), "w");
  EXPECT_EQ(Paths({dir_.Sub("in/*.txt")}), (Strings{"in/*.txt"}));
  EXPECT_EQ(Paths({dir_.Sub("in/c?.txt")}), (Strings{"in/c?.txt"}));
}

TEST_F(InputListerTest, DirectoryWithGlobCharactersIsWalkedLiterally) {
  WriteFile(dir_.Sub("d[x]/inner.txt"), "x");
  WriteFile(dir_.Sub("dx/other.txt"), "y");
  EXPECT_EQ(Paths({dir_.Sub("d[x]")}), (Strings{"d[x]/inner.txt"}));
}

TEST_F(InputListerTest, GlobStillExpandsWhenNoSuchLiteralPathExists) {
  WriteFile(dir_.Sub("in/a1.txt"), "x");
  WriteFile(dir_.Sub("in/a2.txt"), "y");
  WriteFile(dir_.Sub("in/b.txt"), "z");
  // No file is literally named "a[12].txt" or "*.txt": both are globs.
  EXPECT_EQ(Paths({dir_.Sub("in/a[12].txt")}), (Strings{"in/a1.txt", "in/a2.txt"}));
  EXPECT_EQ(Paths({dir_.Sub("in/*.txt")}), (Strings{"in/a1.txt", "in/a2.txt", "in/b.txt"}));
  const std::string spec = dir_.Sub("in/a[3].txt");
  Status s = Error({spec});
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_EQ(s.message(), "input glob '" + spec + "' matched no files");
}

TEST_F(InputListerTest, DanglingSymlinkWithGlobCharactersIsReportedAsItself) {
  WriteFile(dir_.Sub("in/a1.txt"), "x");
  ASSERT_EQ(::symlink(dir_.Sub("gone").c_str(), dir_.Sub("in/a[1].txt").c_str()), 0);
  const std::string spec = dir_.Sub("in/a[1].txt");
  Status s = Error({spec});
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_EQ(s.message(), "input '" + spec + "' does not exist");
}

TEST_F(InputListerTest, MissingPathIsAnError) {
  const std::string spec = dir_.Sub("nope.txt");
  Status s = Error({spec});
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_EQ(s.message(), "input '" + spec + "' does not exist");
  // Even after a valid spec: no partial listing is returned.
  WriteFile(dir_.Sub("ok.txt"), "x");
  EXPECT_EQ(Error({dir_.Sub("ok.txt"), spec}).code(), StatusCode::kBadInput);
}

TEST_F(InputListerTest, DanglingSymlinkInADirectoryIsAnError) {
  ASSERT_TRUE(fs_.CreateDirs(dir_.Sub("in")).ok());
  ASSERT_EQ(::symlink(dir_.Sub("gone").c_str(), dir_.Sub("in/link").c_str()), 0);
  Status s = Error({dir_.Sub("in")});
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_NE(s.message().find(dir_.Sub("in/link")), std::string::npos) << s.message();
}

TEST_F(InputListerTest, UnreadableFileIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read a mode-000 file";
  WriteFile(dir_.Sub("in/secret"), "x");
  ASSERT_EQ(::chmod(dir_.Sub("in/secret").c_str(), 0), 0);
  Status s = Error({dir_.Sub("in")});
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_EQ(s.message(), "input file '" + dir_.Sub("in/secret") + "' is not readable");
}

TEST_F(InputListerTest, FifoIsAnError) {
  ASSERT_TRUE(fs_.CreateDirs(dir_.Sub("in")).ok());
  ASSERT_EQ(::mkfifo(dir_.Sub("in/pipe").c_str(), 0644), 0);
  Status s = Error({dir_.Sub("in")});
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_NE(s.message().find(dir_.Sub("in/pipe")), std::string::npos) << s.message();
  EXPECT_EQ(Error({dir_.Sub("in/pipe")}).code(), StatusCode::kBadInput);
}

TEST_F(InputListerTest, SymlinkLoopIsDetected) {
  WriteFile(dir_.Sub("in/a/file"), "x");
  ASSERT_EQ(::symlink("..", dir_.Sub("in/a/up").c_str()), 0);
  Status s = Error({dir_.Sub("in")});
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_NE(s.message().find(dir_.Sub("in/a/up")), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("loop"), std::string::npos) << s.message();
}

TEST_F(InputListerTest, SelfLinkLoopIsDetected) {
  ASSERT_TRUE(fs_.CreateDirs(dir_.Sub("in")).ok());
  ASSERT_EQ(::symlink(".", dir_.Sub("in/self").c_str()), 0);
  EXPECT_EQ(Error({dir_.Sub("in")}).code(), StatusCode::kBadInput);
}

TEST_F(InputListerTest, SymlinkToASiblingDirectoryIsFollowedButItsFilesListedOnce) {
  // Two paths to one directory are not a loop, but its files are one input
  // each: listed once, under the first name the sorted walk meets.
  WriteFile(dir_.Sub("in/real/f"), "x");
  WriteFile(dir_.Sub("in/real/g"), "y");
  ASSERT_EQ(::symlink("real", dir_.Sub("in/alias").c_str()), 0);
  EXPECT_EQ(Paths({dir_.Sub("in")}), (Strings{"in/alias/f", "in/alias/g"}));
}

TEST_F(InputListerTest, HardLinkedFileIsListedOnce) {
  WriteFile(dir_.Sub("in/a"), "x");
  ASSERT_EQ(::link(dir_.Sub("in/a").c_str(), dir_.Sub("in/b").c_str()), 0);
  EXPECT_EQ(Paths({dir_.Sub("in")}), (Strings{"in/a"}));
}

TEST_F(InputListerTest, FileNamedTwiceIsListedOnceAtItsFirstOccurrence) {
  WriteFile(dir_.Sub("in/a"), "x");
  WriteFile(dir_.Sub("in/b"), "x");
  WriteFile(dir_.Sub("z"), "x");
  EXPECT_EQ(
      Paths({dir_.Sub("z"), dir_.Sub("in/b"), dir_.Sub("in"), dir_.Sub("z"), dir_.Sub("in/*")}),
      (Strings{"z", "in/b", "in/a"}));
}

TEST_F(InputListerTest, SpecsKeepTheUsersOrder) {
  WriteFile(dir_.Sub("b/1"), "x");
  WriteFile(dir_.Sub("a/1"), "x");
  WriteFile(dir_.Sub("c"), "x");
  EXPECT_EQ(Paths({dir_.Sub("c"), dir_.Sub("b"), dir_.Sub("a")}), (Strings{"c", "b/1", "a/1"}));
}

TEST_F(InputListerTest, RelativePathsStayRelative) {
  WriteFile(dir_.Sub("in/x"), "x");
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
  Result<std::vector<InputFile>> r = ListInputs(fs_, {"in", "in/*"});
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].path, "in/x");
}

TEST_F(InputListerTest, EmptyDirectoryListsNothing) {
  ASSERT_TRUE(fs_.CreateDirs(dir_.Sub("in")).ok());
  EXPECT_EQ(Paths({dir_.Sub("in")}), Strings{});
}

}  // namespace
}  // namespace sluice
