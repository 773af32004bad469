// The stream job's command lines: cut into words as a shell cuts them, with
// nothing expanded, and refused (naming the parameter) when they cannot be.
#include "jobs/stream/command_line.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::vector<std::string> Words(std::string_view line) {
  auto words = SplitCommandLine(line, "parameter 'mapper'");
  EXPECT_TRUE(words.ok()) << words.status().ToString();
  return words.ok() ? *words : std::vector<std::string>{};
}

TEST(CommandLine, WordsAndQuotesAsAShellCutsThem) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Words("python3 map.py"), (V{"python3", "map.py"}));
  EXPECT_EQ(Words("  awk\t-F,  '{print $1 \"\\t\" 1}' "), (V{"awk", "-F,", "{print $1 \"\\t\" 1}"}));
  EXPECT_EQ(Words("sh -c \"tr A-Z a-z | cut -f1\""), (V{"sh", "-c", "tr A-Z a-z | cut -f1"}));
  EXPECT_EQ(Words("echo \"a\\\"b\\\\c\\d\""), (V{"echo", "a\"b\\c\\d"}));
  EXPECT_EQ(Words("echo a\\ b '' x''y"), (V{"echo", "a b", "", "xy"}));
  // Nothing is expanded: no variables, globs or pipes without sh -c.
  EXPECT_EQ(Words("echo $HOME *.txt | wc"), (V{"echo", "$HOME", "*.txt", "|", "wc"}));
}

TEST(CommandLine, RefusalsNameTheParameter) {
  for (std::string_view bad : {"", "   ", "echo 'open", "echo \"open", "echo x\\"}) {
    auto words = SplitCommandLine(bad, "parameter 'mapper'");
    ASSERT_FALSE(words.ok()) << "'" << bad << "'";
    EXPECT_EQ(words.status().code(), StatusCode::kUsage);
    EXPECT_NE(words.status().message().find("parameter 'mapper'"), std::string::npos)
        << words.status().message();
  }
}

}  // namespace
}  // namespace sluice
