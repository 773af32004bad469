// Declared job parameters: the table is the whole list, every --param is
// checked against it up front, and a value reads the same anywhere.
#include <sluice/params.h>

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace sluice {
namespace {

struct Declares {
  static constexpr Param<uint64_t> kLimit{"limit", 10, "matches kept"};
  static constexpr Param<std::string> kPattern{"pattern", "", "what to match"};
  static constexpr Param<bool> kVerbose{"verbose", false, "say more"};
  static constexpr Param<double> kRatio{"ratio", 0.5, "a fraction"};
  static constexpr Param<int64_t> kOffset{"offset", -3, "signed"};
  static constexpr auto kParams = ParamTable(kLimit, kPattern, kVerbose, kRatio, kOffset);
};
struct DeclaresNothing {};

TEST(JobParamsTest, TableListsEveryDeclarationWithTypeAndDefault) {
  const auto declared = DeclaredParams<Declares>();
  ASSERT_EQ(declared.size(), 5u);
  EXPECT_EQ(declared[0].name, "limit");
  EXPECT_EQ(declared[0].type, "unsigned integer");
  EXPECT_EQ(declared[0].default_text, "10");
  EXPECT_EQ(declared[0].help, "matches kept");
  EXPECT_EQ(declared[1].type, "string");
  EXPECT_EQ(declared[1].default_text, "");
  EXPECT_EQ(declared[2].type, "bool");
  EXPECT_EQ(declared[2].default_text, "false");
  EXPECT_EQ(declared[3].type, "number");
  EXPECT_EQ(declared[4].type, "integer");
  EXPECT_EQ(declared[4].default_text, "-3");
  EXPECT_TRUE(DeclaredParams<DeclaresNothing>().empty());
}

TEST(JobParamsTest, DefaultsUnlessGivenAndTheLastGivenWins) {
  const JobParams params(DeclaredParams<Declares>(),
                         {{"limit", "5"}, {"pattern", "a+b"}, {"limit", "7"}, {"verbose", "yes"}});
  EXPECT_EQ(params.Get(Declares::kLimit), 7u);
  EXPECT_EQ(params.Get(Declares::kPattern), "a+b");
  EXPECT_TRUE(params.Get(Declares::kVerbose));
  EXPECT_DOUBLE_EQ(params.Get(Declares::kRatio), 0.5);
  EXPECT_EQ(params.Get(Declares::kOffset), -3);
}

TEST(JobParamsTest, UnknownNameIsRefusedNamingWhatTheJobTakes) {
  try {
    JobParams(DeclaredParams<Declares>(), {{"limt", "5"}});
    FAIL() << "a misspelt parameter was accepted";
  } catch (const JobParamError& e) {
    EXPECT_STREQ(e.what(), "unknown job parameter 'limt' (this job takes: limit, pattern, verbose, ratio, offset)");
  }
  EXPECT_THROW(JobParams(DeclaredParams<DeclaresNothing>(), {{"x", "1"}}), JobParamError);
}

TEST(JobParamsTest, ValueOfTheWrongTypeIsRefusedBeforeAnyRead) {
  for (const auto& [name, text] : JobParamList{{"limit", "-1"},
                                               {"limit", "10x"},
                                               {"limit", ""},
                                               {"verbose", "maybe"},
                                               {"ratio", "half"},
                                               {"offset", "1.5"}}) {
    EXPECT_THROW(JobParams(DeclaredParams<Declares>(), {{name, text}}), JobParamError) << name << "=" << text;
  }
  try {
    JobParams(DeclaredParams<Declares>(), {{"limit", "ten"}});
  } catch (const JobParamError& e) {
    EXPECT_STREQ(e.what(), "parameter 'limit': 'ten' is not an unsigned integer");
  }
}

TEST(JobParamsTest, ReadingAParameterTheTableLacksIsAnError) {
  static constexpr Param<uint64_t> kStray{"stray", 1, "not in the table"};
  const JobParams params(DeclaredParams<Declares>(), {});
  EXPECT_THROW(params.Get(kStray), JobParamError);
}

}  // namespace
}  // namespace sluice
