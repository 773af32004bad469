// JobFingerprint (runtime/driver/job_fingerprint.h): two runs share a
// fingerprint exactly when their map tasks must produce the same bytes, so
// resume reuses saved tasks only when they are still right, and a job
// killed at 4 ranks resumes at 2.
#include "runtime/driver/job_fingerprint.h"

#include <cctype>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

constexpr uint64_t kBuild = 0x1234abcd5678ef00;

struct Case {
  std::string job = "wordcount";
  uint64_t build = kBuild;
  JobConfig config;
  std::vector<InputFile> inputs;

  Case() {
    config.inputs = {"/data/in"};
    config.output = "/data/out";
    config.settings.params = {{"min", "3"}, {"mode", "fast"}};
    inputs = {{"/data/in/a.txt", 1000, 1700000000123456789, 0},
              {"/data/in/b.txt", 2000, 1700000000987654321, 0}};
  }
  uint64_t Fingerprint() const { return JobFingerprint(job, build, config, inputs); }
};

uint64_t After(const std::function<void(Case&)>& change) {
  Case c;
  change(c);
  return c.Fingerprint();
}

TEST(JobFingerprintTest, SameJobBuildConfigAndInputsGiveTheSameFingerprint) {
  EXPECT_EQ(Case().Fingerprint(), Case().Fingerprint());
  EXPECT_NE(Case().Fingerprint(), 0u);
}

// Each of these changes what map tasks produce (or which bytes they read),
// so a task saved before it must not be reused.
TEST(JobFingerprintTest, EachThingThatShapesMapOutputChangesIt) {
  const uint64_t base = Case().Fingerprint();
  const std::vector<std::pair<std::string, std::function<void(Case&)>>> changes = {
      {"job name", [](Case& c) { c.job = "wordcount2"; }},
      {"build", [](Case& c) { c.build ^= 1; }},
      {"input size", [](Case& c) { c.inputs[1].size += 1; }},
      {"input mtime", [](Case& c) { c.inputs[0].mtime_ns += 1; }},
      {"input path", [](Case& c) { c.inputs[0].path = "/data/in/c.txt"; }},
      {"input index", [](Case& c) { c.inputs[1].input_index = 1; }},
      {"input order", [](Case& c) { std::swap(c.inputs[0], c.inputs[1]); }},
      {"one more input", [](Case& c) { c.inputs.push_back({"/data/in/z", 1, 1, 0}); }},
      {"one input fewer", [](Case& c) { c.inputs.pop_back(); }},
      {"--param value", [](Case& c) { c.config.settings.params[0].second = "4"; }},
      {"--param key", [](Case& c) { c.config.settings.params[1].first = "Mode"; }},
      {"one more --param", [](Case& c) { c.config.settings.params.emplace_back("x", ""); }},
      {"no --param", [](Case& c) { c.config.settings.params.clear(); }},
      {"--split-size", [](Case& c) { c.config.split_size += 1; }},
      {"--partitions", [](Case& c) { c.config.settings.partitions = 17; }},
      {"--block-size", [](Case& c) { c.config.settings.block_bytes /= 2; }},
      {"--combine-memory", [](Case& c) { c.config.settings.combine_bytes /= 2; }},
      {"--compression-level", [](Case& c) { c.config.settings.compression_level = 3; }},
      {"negative --compression-level", [](Case& c) { c.config.settings.compression_level = -1; }},
  };
  for (const auto& [what, change] : changes) {
    EXPECT_NE(After(change), base) << what << " did not change the fingerprint";
  }
}

// Every field is length-prefixed: moving bytes from one field to the next
// is a different configuration.
TEST(JobFingerprintTest, FieldBoundariesAreNotAmbiguous) {
  const uint64_t a = After([](Case& c) { c.config.settings.params = {{"ab", "c"}}; });
  const uint64_t b = After([](Case& c) { c.config.settings.params = {{"a", "bc"}}; });
  EXPECT_NE(a, b);
  const uint64_t one = After([](Case& c) { c.config.settings.params = {{"a", "b=c"}}; });
  const uint64_t two = After([](Case& c) { c.config.settings.params = {{"a=b", "c"}}; });
  EXPECT_NE(one, two);
  const uint64_t job_ab = After([](Case& c) {
    c.job = "ab";
    c.inputs[0].path = "c";
  });
  const uint64_t job_a = After([](Case& c) {
    c.job = "a";
    c.inputs[0].path = "bc";
  });
  EXPECT_NE(job_ab, job_a);
}

// The header: settings that change neither the map output nor the inputs
// (ranks, --memory, --scratch, logging, where reports go) are left out, so
// a job killed at 4 ranks resumes at 2 and a re-run with --quiet resumes.
TEST(JobFingerprintTest, WhatDoesNotShapeMapOutputLeavesItAlone) {
  const uint64_t base = Case().Fingerprint();
  const std::vector<std::pair<std::string, std::function<void(Case&)>>> changes = {
      {"--quiet", [](Case& c) { c.config.quiet = true; }},
      {"--log-level", [](Case& c) { c.config.log_level = "debug"; }},
      {"--log-dir", [](Case& c) { c.config.log_dir = "/var/log/sluice"; }},
      {"--report", [](Case& c) { c.config.report_path = "/tmp/report.json"; }},
      {"--scratch", [](Case& c) { c.config.scratch_root = "/scratch"; }},
      {"--memory", [](Case& c) { c.config.memory_bytes = uint64_t{8} << 30; }},
      {"--max-inflight", [](Case& c) { c.config.max_inflight_bytes = 1 << 20; }},
      {"--merge-factor", [](Case& c) { c.config.settings.merge_factor = 7; }},
      {"store/sort/spill sizes",
       [](Case& c) {
         c.config.settings.store_bytes = 1 << 20;
         c.config.settings.sort_bytes = 1 << 20;
         c.config.settings.spill_block_bytes = 1 << 14;
       }},
      {"rank's scratch dir", [](Case& c) { c.config.settings.scratch_dir = "/tmp/sluice-x"; }},
      {"--overwrite", [](Case& c) { c.config.overwrite = true; }},
      {"--force", [](Case& c) { c.config.force = true; }},
      {"plugin path (the build hash says which build)",
       [](Case& c) { c.config.plugin_path = "/elsewhere/libwordcount.so"; }},
      {"--input spelling (the listed files are what count)",
       [](Case& c) { c.config.inputs = {"/data/in/*.txt"}; }},
  };
  for (const auto& [what, change] : changes) {
    EXPECT_EQ(After(change), base) << what << " changed the fingerprint";
  }
}

// The budget the command line applies after parsing, as it would for a
// run at `memory` bytes per rank.
uint64_t FingerprintAtMemory(uint64_t memory) {
  Case c;
  c.config.memory_bytes = memory;
  EXPECT_TRUE(ApplyMemoryBudget(&c.config, 1).ok());
  return c.Fingerprint();
}

// With budgets large enough that no default is capped, the budget is out of
// the fingerprint, as the header says.
TEST(JobFingerprintTest, MemoryBudgetLargeEnoughToCapNothingLeavesItAlone) {
  EXPECT_EQ(FingerprintAtMemory(uint64_t{4} << 30), FingerprintAtMemory(uint64_t{16} << 30));
}

// A budget small enough to cap the block or combiner size changes what a
// map task emits (where the combiner flushes), so it changes the
// fingerprint: saved tasks made under another cap are never mixed in. The
// header states this exception.
TEST(JobFingerprintTest, MemoryBudgetThatCapsBlockOrCombinerSizeChangesIt) {
  EXPECT_NE(FingerprintAtMemory(uint64_t{128} << 20), FingerprintAtMemory(uint64_t{256} << 20));
  EXPECT_EQ(FingerprintAtMemory(uint64_t{512} << 20), FingerprintAtMemory(uint64_t{1} << 30));
}

TEST(JobFingerprintTest, HexIsSixteenLowercaseDigitsZeroPadded) {
  EXPECT_EQ(FingerprintHex(0), "0000000000000000");
  EXPECT_EQ(FingerprintHex(0xab), "00000000000000ab");
  EXPECT_EQ(FingerprintHex(0xFEDCBA9876543210), "fedcba9876543210");
  const std::string hex = FingerprintHex(Case().Fingerprint());
  ASSERT_EQ(hex.size(), 16u);
  for (char ch : hex) EXPECT_TRUE(std::isdigit(ch) || (ch >= 'a' && ch <= 'f')) << hex;
}

TEST(JobFingerprintTest, ExecutableHashIsStableAndNotZero) {
  const uint64_t h = ExecutableXxh3();
  EXPECT_NE(h, 0u) << "/proc/self/exe could not be read";
  EXPECT_EQ(ExecutableXxh3(), h);
}

}  // namespace
}  // namespace sluice
