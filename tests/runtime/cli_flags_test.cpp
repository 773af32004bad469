// The flags table (runtime/cli/job_flags.h) and what is made from it: the
// parser, --help, and the README's flag table.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "runtime/cli/job_flag_help.h"
#include "runtime/cli/job_flag_parser.h"
#include "runtime/cli/job_flags.h"

namespace sluice {
namespace {

struct Parsed {
  Status status;
  JobConfig config;
  std::vector<std::string> positional;
  bool help = false;
};

Parsed Parse(const std::vector<std::string>& args) {
  Parsed p;
  p.status = ParseJobFlags(args, &p.config, &p.positional, &p.help);
  return p;
}

void ExpectUsageError(const std::vector<std::string>& args, const std::string& message) {
  Parsed p = Parse(args);
  EXPECT_EQ(p.status.code(), StatusCode::kUsage) << args[0];
  EXPECT_EQ(p.status.message(), message) << args[0];
}

TEST(CliFlags, ParsesEachKindOfFlag) {
  // clang-format off
  Parsed p = Parse({"--input", "a", "--input=b", "--output", "o", "--memory", "4M", "--split-size=512K",
                    "--partitions", "7", "--compression-level", "-3", "--max-bad-records=2",
                    "--param", "k=v=w", "--param=n=1", "--scratch", "/s", "--report", "r.json",
                    "--log-level", "warn", "--log-dir", "l", "--plugin", "p.so", "--overwrite", "--force",
                    "-q", "--merge-factor", "8", "--block-size", "64K", "--combine-memory", "1M",
                    "--max-inflight", "2M", "in2", "-", "out2"});
  // clang-format on
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  const JobConfig& c = p.config;
  EXPECT_EQ(c.inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.output, "o");
  EXPECT_EQ(c.memory_bytes, uint64_t{4} << 20);
  EXPECT_EQ(c.split_size, uint64_t{512} << 10);
  EXPECT_EQ(c.settings.partitions, 7u);
  EXPECT_EQ(c.settings.compression_level, -3);
  EXPECT_EQ(c.settings.max_bad_records, 2u);
  EXPECT_EQ(c.settings.params, (std::vector<std::pair<std::string, std::string>>{{"k", "v=w"}, {"n", "1"}}));
  EXPECT_EQ(c.scratch_root, "/s");
  EXPECT_EQ(c.report_path, "r.json");
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.log_dir, "l");
  EXPECT_EQ(c.plugin_path, "p.so");
  EXPECT_TRUE(c.overwrite);
  EXPECT_TRUE(c.force);
  EXPECT_TRUE(c.quiet);
  EXPECT_EQ(c.settings.merge_factor, 8u);
  EXPECT_EQ(c.settings.block_bytes, uint64_t{64} << 10);
  EXPECT_EQ(c.settings.combine_bytes, uint64_t{1} << 20);
  EXPECT_EQ(c.max_inflight_bytes, uint64_t{2} << 20);
  EXPECT_EQ(p.positional, (std::vector<std::string>{"in2", "-", "out2"}));
  EXPECT_FALSE(p.help);
}

TEST(CliFlags, HelpInEitherSpelling) {
  EXPECT_TRUE(Parse({"--help"}).help);
  EXPECT_TRUE(Parse({"in", "-h", "out"}).help);
}

TEST(CliFlags, RepeatedValueFlagKeepsTheLast) {
  Parsed p = Parse({"--partitions", "2", "--output", "a", "--partitions=3", "--output", "b"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.config.settings.partitions, 3u);
  EXPECT_EQ(p.config.output, "b");
}

// As before CLI11: the next argument is the value, whatever it looks like.
TEST(CliFlags, ValueMayLookLikeAFlag) {
  Parsed p = Parse({"--output", "--odd", "--input", "-"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.config.output, "--odd");
  EXPECT_EQ(p.config.inputs, std::vector<std::string>{"-"});
}

TEST(CliFlags, EverythingAfterDoubleDashIsPositional) {
  Parsed p = Parse({"--quiet", "--", "--input", "x"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.positional, (std::vector<std::string>{"--input", "x"}));
  EXPECT_TRUE(p.config.inputs.empty());
}

TEST(CliFlags, UnknownFlagIsNamed) {
  ExpectUsageError({"--frobnicate", "1"}, "unknown flag '--frobnicate' (see --help)");
  ExpectUsageError({"in", "--frobnicate=1", "out"}, "unknown flag '--frobnicate' (see --help)");
}

TEST(CliFlags, MissingValueIsNamed) {
  ExpectUsageError({"--input", "a", "--memory"}, "flag --memory needs a value");
  ExpectUsageError({"--param"}, "flag --param needs a value");
}

TEST(CliFlags, BadValuesAreNamed) {
  ExpectUsageError({"--memory", "12Q"}, "flag --memory: '12Q' is not a size (examples: 4096, 512K, 64M, 2G)");
  ExpectUsageError({"--partitions", "banana"}, "flag --partitions: 'banana' is not an integer");
  ExpectUsageError({"--partitions", "0"}, "flag --partitions: must be in 1..1000000, got 0");
  ExpectUsageError({"--compression-level", "23"},
                   "flag --compression-level: zstd level must be in -7..22, got 23");
  ExpectUsageError({"--merge-factor", "1"}, "flag --merge-factor: must be in 2..4096, got 1");
  ExpectUsageError({"--max-bad-records", "-1"}, "flag --max-bad-records: must be >= 0, got -1");
  ExpectUsageError({"--param", "novalue"}, "flag --param: 'novalue' is not key=value");
  ExpectUsageError({"--log-level", "loud"},
                   "flag --log-level: unknown level 'loud' (trace, debug, info, warn, error, off)");
  ExpectUsageError({"--quiet=yes"}, "flag --quiet takes no value");
}

// `--flag=` is an empty value, not "take the next argument".
TEST(CliFlags, EmptyValueIsAValue) {
  ExpectUsageError({"--scratch=", "in", "out"}, "flag --scratch: empty directory");
  ExpectUsageError({"--memory=", "4M"}, "flag --memory: empty size");
  Parsed p = Parse({"--report=", "in", "out"});
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.positional, (std::vector<std::string>{"in", "out"}));
}

TEST(CliFlags, HelpListsEveryFlag) {
  const std::string help = JobFlagsHelp();
  for (const JobFlag& flag : JobFlags()) {
    EXPECT_NE(help.find("  " + std::string(flag.name)), std::string::npos) << flag.name;
  }
  EXPECT_EQ(help.find('`'), std::string::npos) << "markdown left in the terminal help:\n" << help;
  std::string unwrapped;  // one line: words joined back across the wrapping
  for (char c : help) {
    if (c == '\n') c = ' ';
    if (c != ' ' || unwrapped.empty() || unwrapped.back() != ' ') unwrapped += c;
  }
  EXPECT_NE(unwrapped.find("(see Sharing a machine in the README)"), std::string::npos) << help;
}

// The fields a flag fills, side by side, to compare two configs.
auto Fields(const JobConfig& c) {
  const JobSettings& s = c.settings;
  return std::make_tuple(c.inputs, c.output, c.overwrite, c.force, c.split_size, c.max_inflight_bytes,
                         c.memory_bytes, c.scratch_root, c.log_level, c.log_dir, c.quiet, c.report_path,
                         c.plugin_path, s.partitions, s.compression_level, s.block_bytes, s.combine_bytes,
                         s.merge_factor, s.max_bad_records, s.params);
}

// "(required)", "none", "`$TMPDIR` or `/tmp`": words about the default,
// not a value to give the flag.
bool DescribesTheDefault(std::string_view text) {
  return text.empty() || text == "none" || text.front() == '(' || text.find_first_of(" `") != text.npos;
}

// A default shown as a value ("16", "64M") is what JobConfig starts with:
// given explicitly, it changes nothing.
TEST(CliFlags, ShownDefaultsAreJobConfigDefaults) {
  int literal = 0;
  for (const JobFlag& flag : JobFlags()) {
    if (flag.value_name.empty() || DescribesTheDefault(flag.default_text)) continue;
    JobConfig config;
    ASSERT_TRUE(flag.apply(std::string(flag.name), std::string(flag.default_text), &config).ok())
        << flag.name;
    ++literal;
    EXPECT_EQ(Fields(config), Fields(JobConfig{})) << flag.name << " " << flag.default_text;
  }
  EXPECT_GE(literal, 8);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The README's flag table is generated: after adding or changing a flag,
// run scripts/update-readme-flags.
TEST(CliFlags, ReadmeTableIsGenerated) {
  const auto readme = std::filesystem::path(__FILE__).parent_path() / "../../README.md";
  const std::string text = ReadFile(readme);
  ASSERT_FALSE(text.empty()) << readme;
  const std::string begin = "<!-- flags:begin -->\n";
  const std::string end = "<!-- flags:end -->";
  const size_t from = text.find(begin);
  const size_t to = text.find(end);
  ASSERT_NE(from, std::string::npos) << "README.md lacks " << begin;
  ASSERT_NE(to, std::string::npos) << "README.md lacks " << end;
  ASSERT_LT(from, to);
  EXPECT_EQ(text.substr(from + begin.size(), to - from - begin.size()), JobFlagsMarkdown())
      << "README.md's flag table is stale: run scripts/update-readme-flags";
}

}  // namespace
}  // namespace sluice
