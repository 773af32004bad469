#include "runtime/driver/job_config.h"

#include <gtest/gtest.h>

#include "runtime/cli/job_flag_parser.h"

namespace sluice {
namespace {

TEST(ParseSize, AcceptsSuffixes) {
  EXPECT_EQ(ParseSize("--x", "4096").value(), 4096u);
  EXPECT_EQ(ParseSize("--x", "512K").value(), 512u << 10);
  EXPECT_EQ(ParseSize("--x", "64M").value(), 64u << 20);
  EXPECT_EQ(ParseSize("--x", "64MB").value(), 64u << 20);
  EXPECT_EQ(ParseSize("--x", "2g").value(), uint64_t{2} << 30);
  EXPECT_EQ(ParseSize("--x", "1GiB").value(), uint64_t{1} << 30);
}

TEST(ParseSize, RejectsGarbageNamingTheFlag) {
  for (const char* bad : {"", "M", "12Q", "-5", "1.5G", "99999999999999999999"}) {
    auto r = ParseSize("--split-size", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kUsage);
    EXPECT_NE(r.status().message().find("--split-size"), std::string::npos);
  }
}

TEST(ParseJobFlags, ParsesEveryFlagInBothForms) {
  JobConfig c;
  std::vector<std::string> pos;
  bool help = false;
  ASSERT_TRUE(ParseJobFlags({"--input", "a", "--input=b", "--output", "o", "--partitions=5",
                             "--split-size", "1M", "--compression-level", "3", "--overwrite",
                             "--block-size=64K", "--log-level", "debug", "extra"},
                            &c, &pos, &help)
                  .ok());
  EXPECT_EQ(c.inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.output, "o");
  EXPECT_EQ(c.settings.partitions, 5u);
  EXPECT_EQ(c.split_size, 1u << 20);
  EXPECT_EQ(c.settings.compression_level, 3);
  EXPECT_EQ(c.settings.block_bytes, 64u << 10);
  EXPECT_TRUE(c.overwrite);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(pos, std::vector<std::string>{"extra"});
  EXPECT_FALSE(help);
}

TEST(ParseJobFlags, RejectsUnknownAndIncompleteFlags) {
  JobConfig c;
  std::vector<std::string> pos;
  bool help = false;
  Status s = ParseJobFlags({"--nope", "1"}, &c, &pos, &help);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  EXPECT_NE(s.message().find("--nope"), std::string::npos);
  s = ParseJobFlags({"--partitions"}, &c, &pos, &help);
  EXPECT_NE(s.message().find("needs a value"), std::string::npos);
  s = ParseJobFlags({"--partitions", "0"}, &c, &pos, &help);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  s = ParseJobFlags({"--log-level", "loud"}, &c, &pos, &help);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
}

TEST(ValidateJobConfig, NeedsInputAndOutput) {
  JobConfig c;
  EXPECT_NE(ValidateJobConfig(c).message().find("--input"), std::string::npos);
  c.inputs = {"x"};
  EXPECT_NE(ValidateJobConfig(c).message().find("--output"), std::string::npos);
  c.output = "o";
  EXPECT_TRUE(ValidateJobConfig(c).ok());
}

}  // namespace
}  // namespace sluice
