// The plugin loader refuses what it must, with a message that says why.
#include <cstdint>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

// The plugin's job really runs: its output is the word count of the input
// (computed here, independently of Sluice), and the manifest and report
// name the job and the plugin file it came from.
TEST_F(PluginE2E, LoadsAValidPlugin) {
  WriteFile(dir_ / "in.txt", "the cat sat\non the  mat\n\nthe\tend\r\nthe cat\n");
  const std::string plugin = PluginPath("libwordcount.so");
  CommandResult r = RunPlugin(plugin);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Exists(dir_ / "out/_SUCCESS"));
  std::map<std::string, uint64_t> counts;
  for (const std::string& name : ListDir(dir_ / "out")) {
    if (name.rfind("part-", 0) != 0) continue;
    const std::string part = ReadFile(dir_ / ("out/" + name));
    size_t begin = 0;
    for (size_t nl; (nl = part.find('\n', begin)) != std::string::npos; begin = nl + 1) {
      const std::string line = part.substr(begin, nl - begin);
      const size_t tab = line.rfind('\t');
      ASSERT_NE(tab, std::string::npos) << name << ": '" << line << "'";
      EXPECT_TRUE(counts.emplace(line.substr(0, tab), std::stoull(line.substr(tab + 1))).second)
          << "word twice: " << line;
    }
    EXPECT_EQ(begin, part.size()) << name << " does not end in a newline";
  }
  const auto reference = ReferenceWordCount({dir_ / "in.txt"});
  ASSERT_EQ(reference.at("the"), 4u);
  EXPECT_EQ(counts, reference);
  const nlohmann::json manifest = ReadJson(dir_ / "out/_manifest.json");
  EXPECT_EQ(manifest.value(nlohmann::json::json_pointer("/job/name"), std::string()), "wordcount")
      << manifest.dump(2);
  EXPECT_EQ(manifest.value(nlohmann::json::json_pointer("/job/plugin"), std::string()), plugin)
      << manifest.dump(2);
  const nlohmann::json report = ReadJson(dir_ / "out/_report.json");
  EXPECT_EQ(report.value("job", std::string()), "wordcount") << report.dump(2);
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
