// LoadPlugin (runtime/cli/plugin_loader.h): loads the word count plugin the
// build makes, and refuses, each with its own message, a plugin of another
// ABI or layout, a library that is not a plugin, a file or folder others
// could write, a symlink leading into such a folder, and a missing file.
#include "runtime/cli/plugin_loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/file_system.h"
#include <sluice/detail/job_runner.h>

#ifndef SLUICE_TEST_LIB_DIR
#error "tests/runtime/CMakeLists.txt passes SLUICE_TEST_LIB_DIR (where the test plugins are)"
#endif
#ifndef SLUICE_LIB_DIR
#error "tests/runtime/CMakeLists.txt passes SLUICE_LIB_DIR (where libwordcount.so is)"
#endif

namespace sluice {
namespace {

const std::string kWordCount = std::string(SLUICE_LIB_DIR) + "/libwordcount.so";
const std::string kTestLibs = SLUICE_TEST_LIB_DIR;

class PluginLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // mkdtemp: 0700 and ours, inside sticky /tmp: a folder the loader accepts.
    char tmpl[] = "/tmp/sluice-plugin-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  // A copy of the word count plugin at `path` with `mode`.
  void CopyWordCount(const std::string& path, mode_t mode) {
    std::ifstream in(kWordCount, std::ios::binary);
    ASSERT_TRUE(in) << kWordCount << " was not built";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
    out.close();
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }
  void MakeDir(const std::string& path, mode_t mode) {
    ASSERT_EQ(::mkdir(path.c_str(), 0700), 0) << path;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);  // not masked by the umask
  }

  // As ExpectRefused (below), but in a fresh process: gtest's "threadsafe" death-test style
  // re-executes this binary for this one test, so no plugin is loaded there
  // yet. The refusals that dlopen decides need it, because of the bug
  // ASecondPluginIsTheOneLoadedNotTheFirstAgain is about: once this
  // process has loaded a plugin, a later LoadPlugin once got that one back.
  void ExpectRefusedInFreshProcess(const std::string& path,
                                   std::initializer_list<std::string> parts) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::vector<std::string> wanted(parts);
    EXPECT_EXIT(
        {
          Result<LoadedPlugin> got = LoadPlugin(path);
          bool refused = !got.ok() && got.status().code() == StatusCode::kUsage;
          for (const std::string& part : wanted) {
            refused = refused && got.status().message().find(part) != std::string::npos;
          }
          std::fprintf(stderr, "%s\n", got.ok() ? "loaded" : got.status().ToString().c_str());
          (void)std::system(("rm -rf " + dir_).c_str());  // the child's own SetUp made it
          std::_Exit(refused ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
  }

  std::string dir_;
};

// Refused with kUsage, the message holding each of `parts`.
void ExpectRefused(const std::string& path, std::initializer_list<std::string> parts) {
  Result<LoadedPlugin> got = LoadPlugin(path);
  ASSERT_FALSE(got.ok()) << path << " was loaded";
  EXPECT_EQ(got.status().code(), StatusCode::kUsage) << got.status().ToString();
  for (const std::string& part : parts) {
    EXPECT_NE(got.status().message().find(part), std::string::npos)
        << "'" << part << "' not in: " << got.status().message();
  }
}

TEST_F(PluginLoaderTest, LoadsTheWordCountPluginAndHashesTheBytesItLoaded) {
  Result<LoadedPlugin> got = LoadPlugin(kWordCount);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->entry.name, "wordcount");
  EXPECT_EQ(got->path, kWordCount);
  EXPECT_NE(got->handle, nullptr);
  auto digest = Xxh3OfFile(*FileSystem::Default(), kWordCount);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(got->xxh3, *digest);
  ASSERT_NE(got->entry.create, nullptr);
  std::unique_ptr<JobRunner> runner(got->entry.create());
  ASSERT_NE(runner, nullptr);
  EXPECT_FALSE(runner->traits().map_only);
}

TEST_F(PluginLoaderTest, APrivateCopyInATempFolderLoads) {
  // The control for the refusals below: the same bytes, mode 0755, in a
  // folder only we can write, under sticky /tmp.
  const std::string copy = dir_ + "/libwc.so";
  CopyWordCount(copy, 0755);
  Result<LoadedPlugin> got = LoadPlugin(copy);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->entry.name, "wordcount");
}

TEST_F(PluginLoaderTest, RefusesAPluginBuiltForAnotherAbi) {
  ExpectRefusedInFreshProcess(kTestLibs + "/libwrong_abi.so",
                {"libwrong_abi.so", "was built for Sluice plugin ABI", "rebuild the plugin"});
}

TEST_F(PluginLoaderTest, RefusesAPluginBuiltAgainstOtherHeaders) {
  ExpectRefusedInFreshProcess(kTestLibs + "/libstale_layout.so",
                {"libstale_layout.so", "was built against other Sluice headers", "rebuild"});
}

TEST_F(PluginLoaderTest, RefusesALibraryWithoutTheEntryPoint) {
  ExpectRefusedInFreshProcess(kTestLibs + "/libno_entry.so",
                {"libno_entry.so", "is not a Sluice job plugin", "sluice_plugin_descriptor"});
}

TEST_F(PluginLoaderTest, RefusesAFileThatIsNotASharedObject) {
  const std::string text = dir_ + "/libtext.so";
  std::ofstream(text) << "not an ELF file\n";
  ASSERT_EQ(::chmod(text.c_str(), 0644), 0);
  ExpectRefusedInFreshProcess(text, {"libtext.so", "cannot be loaded"});
}

TEST_F(PluginLoaderTest, RefusesAMissingFileAndABareName) {
  ExpectRefused(dir_ + "/libabsent.so", {"libabsent.so", "does not exist"});
  ExpectRefused(dir_ + "/no/such/dir/libabsent.so", {"does not exist"});
  // A bare name would go through the library search path: never.
  ExpectRefused("libwordcount.so", {"give a path containing '/'", "./libwordcount.so"});
}

TEST_F(PluginLoaderTest, RefusesAFolderOrAFifo) {
  ExpectRefused(dir_, {"is not a regular file"});
  const std::string fifo = dir_ + "/libfifo.so";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ExpectRefused(fifo, {"is not a regular file"});  // and does not block opening it
}

TEST_F(PluginLoaderTest, RefusesAWorldOrGroupWritableFile) {
  const std::string world = dir_ + "/libworld.so";
  CopyWordCount(world, 0666);
  ExpectRefused(world, {"libworld.so", "mode 0666", "is writable by group or others", "chmod go-w"});
  const std::string group = dir_ + "/libgroup.so";
  CopyWordCount(group, 0775);
  ExpectRefused(group, {"mode 0775", "is writable by group or others"});
}

TEST_F(PluginLoaderTest, RefusesASymlinkIntoAWorldWritableFolder) {
  const std::string open_dir = dir_ + "/open";
  MakeDir(open_dir, 0777);  // anyone may rename and replace what it holds
  CopyWordCount(open_dir + "/libwc.so", 0755);
  const std::string link = dir_ + "/libwc.so";
  ASSERT_EQ(::symlink((open_dir + "/libwc.so").c_str(), link.c_str()), 0);
  // Named by where the link leads, and the folder at fault named.
  ExpectRefused(link, {link, open_dir + "/libwc.so", "folder '" + open_dir + "'", "mode 0777",
                       "not sticky"});
  ExpectRefused(open_dir + "/libwc.so", {"folder '" + open_dir + "'"});
}

TEST_F(PluginLoaderTest, RefusesAGroupWritableFolderAnywhereOnThePath) {
  MakeDir(dir_ + "/a", 0770);
  MakeDir(dir_ + "/a/b", 0755);
  CopyWordCount(dir_ + "/a/b/libwc.so", 0755);
  ExpectRefused(dir_ + "/a/b/libwc.so", {"folder '" + dir_ + "/a'", "writable by group or others"});
  ASSERT_EQ(::chmod((dir_ + "/a").c_str(), 0750), 0);
  EXPECT_TRUE(LoadPlugin(dir_ + "/a/b/libwc.so").ok()) << "the fix the message names works";
}

TEST_F(PluginLoaderTest, AStickyWorldWritableFolderIsAcceptedOnlyForOurOwnFile) {
  const std::string sticky = dir_ + "/sticky";
  MakeDir(sticky, 01777);  // like /tmp: others cannot rename what we own
  CopyWordCount(sticky + "/libwc.so", 0755);
  Result<LoadedPlugin> got = LoadPlugin(sticky + "/libwc.so");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (::geteuid() != 0) return;  // the rest needs root to give the file away
  ASSERT_EQ(::chown((sticky + "/libwc.so").c_str(), 54321, 54321), 0);
  ExpectRefused(sticky + "/libwc.so", {"it is sticky, but", "owned by uid 54321"});
}

TEST_F(PluginLoaderTest, RefusesAFileOrFolderOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give files away";
  const std::string theirs = dir_ + "/libtheirs.so";
  CopyWordCount(theirs, 0755);
  ASSERT_EQ(::chown(theirs.c_str(), 54321, 54321), 0);
  ExpectRefused(theirs, {"owned by another user", "owner uid 54321"});
  MakeDir(dir_ + "/theirs", 0755);
  CopyWordCount(dir_ + "/theirs/libwc.so", 0755);
  ASSERT_EQ(::chown((dir_ + "/theirs").c_str(), 54321, 54321), 0);
  ExpectRefused(dir_ + "/theirs/libwc.so", {"folder '" + dir_ + "/theirs'", "belongs to another user"});
}

// LoadPlugin dlopen()s "/proc/self/fd/N", and glibc's dlopen first looks
// for an object already loaded under that name. The plugin file's
// descriptor gets the same number whenever its path has the same depth
// parity, so once a plugin was loaded, another file was once handed the
// first one's handle: its checks (ABI, layout) skipped, its code not what
// was checked and hashed. Each bad file must be refused after good ones at
// both parities were loaded.
TEST_F(PluginLoaderTest, ASecondPluginIsTheOneLoadedNotTheFirstAgain) {
  ASSERT_EQ(::mkdir((dir_ + "/d").c_str(), 0700), 0);
  // A good plugin loaded at both depth parities (4 and 5 path components).
  CopyWordCount(dir_ + "/libgood.so", 0755);
  CopyWordCount(dir_ + "/d/libgood.so", 0755);
  ASSERT_TRUE(LoadPlugin(dir_ + "/libgood.so").ok());
  ASSERT_TRUE(LoadPlugin(dir_ + "/d/libgood.so").ok());
  for (const std::string& at : {dir_ + "/libstale.so", dir_ + "/d/libstale.so"}) {
    std::ifstream in(kTestLibs + "/libstale_layout.so", std::ios::binary);
    std::ofstream(at, std::ios::binary) << in.rdbuf();
    ASSERT_EQ(::chmod(at.c_str(), 0755), 0);
    ExpectRefused(at, {"was built against other Sluice headers"});
  }
  const std::string text = dir_ + "/libtext.so";
  std::ofstream(text) << "not an ELF file\n";
  ASSERT_EQ(::chmod(text.c_str(), 0644), 0);
  ExpectRefused(text, {"cannot be loaded"});
}

}  // namespace
}  // namespace sluice
