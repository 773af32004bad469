// The plugin loader refuses what it must, with a message that says why.
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kUsage = 2;

class PluginE2E : public ::testing::Test {
 protected:
  void SetUp() override { WriteFile(dir_ / "in.txt", "a b a\n"); }
  CommandResult RunPlugin(const std::string& plugin, int ranks = 1) {
    return RunSluice(ranks, "run --plugin " + plugin + " --input '" + (dir_ / "in.txt") +
                                "' --output '" + (dir_ / "out") + "'");
  }
  TempDir dir_;
};

TEST_F(PluginE2E, LoadsAValidPlugin) {
  CommandResult r = RunPlugin(PluginPath("libwordcount.so"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Exists(dir_ / "out/_SUCCESS"));
}

TEST_F(PluginE2E, RefusesAnAbiMismatch) {
  for (int ranks : {1, 2}) {
    CommandResult r = RunPlugin(PluginPath("test/libwrong_abi.so"), ranks);
    EXPECT_EQ(r.exit_code, kUsage) << r.output;
    EXPECT_NE(r.output.find("ABI"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("rebuild"), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(dir_ / "out"));
  }
}

TEST_F(PluginE2E, RefusesALibraryWithoutTheEntryPoint) {
  CommandResult r = RunPlugin(PluginPath("test/libno_entry.so"));
  EXPECT_EQ(r.exit_code, kUsage) << r.output;
  EXPECT_NE(r.output.find("sluice_plugin_descriptor"), std::string::npos) << r.output;
}

TEST_F(PluginE2E, RefusesABareNameAndAMissingFile) {
  CommandResult r = RunPlugin("libwordcount.so");
  EXPECT_EQ(r.exit_code, kUsage) << r.output;
  EXPECT_NE(r.output.find("'/'"), std::string::npos) << r.output;
  r = RunPlugin(dir_ / "missing.so");
  EXPECT_EQ(r.exit_code, kUsage) << r.output;
  EXPECT_NE(r.output.find("does not exist"), std::string::npos) << r.output;
}

TEST_F(PluginE2E, RefusesAFileThatIsNotASharedObject) {
  WriteFile(dir_ / "fake.so", "not an ELF file");
  CommandResult r = RunPlugin(dir_ / "fake.so");
  EXPECT_EQ(r.exit_code, kUsage) << r.output;
  EXPECT_NE(r.output.find("cannot be loaded"), std::string::npos) << r.output;
}

TEST_F(PluginE2E, RefusesAWorldWritablePlugin) {
  ASSERT_EQ(RunCommand("cp " + PluginPath("libwordcount.so") + " '" + (dir_ / "open.so") +
                       "' && chmod 666 '" + (dir_ / "open.so") + "'")
                .exit_code,
            0);
  CommandResult r = RunPlugin(dir_ / "open.so");
  EXPECT_EQ(r.exit_code, kUsage) << r.output;
  EXPECT_NE(r.output.find("writable"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
