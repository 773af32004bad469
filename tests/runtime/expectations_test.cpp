// Expectation expressions (runtime/driver/expectations.h) and the output
// measures they may read (output_measures.h).
#include "runtime/driver/expectations.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "runtime/driver/output_measures.h"

namespace sluice {
namespace {

ValueOf From(const std::map<std::string, double>& values, bool has_previous = true) {
  return [values, has_previous](const std::string& name, std::string* why) -> std::optional<double> {
    if (name.rfind("previous.", 0) == 0 && !has_previous) {
      *why = "no previous run";
      return std::nullopt;
    }
    auto it = values.find(name);
    if (it == values.end()) {
      *why = "no such counter";
      return std::nullopt;
    }
    return it->second;
  };
}

std::string Outcome(const std::string& text, const std::map<std::string, double>& values, bool has_previous = true) {
  return EvaluateExpectation({text, false}, From(values, has_previous)).outcome;
}

TEST(Expectations, ArithmeticAndEveryComparison) {
  const std::map<std::string, double> v = {{"bad_records", 3}, {"input_records", 10000}, {"output_records", 7}};
  EXPECT_EQ(Outcome("bad_records <= 0.001 * input_records", v), "passed");  // 3 <= 10
  EXPECT_EQ(Outcome("bad_records <= 0.0001 * input_records", v), "failed");  // 3 <= 1
  EXPECT_EQ(Outcome("output_records >= 1", v), "passed");
  EXPECT_EQ(Outcome("output_records == 7", v), "passed");
  EXPECT_EQ(Outcome("output_records != 7", v), "failed");
  EXPECT_EQ(Outcome("output_records < 7", v), "failed");
  EXPECT_EQ(Outcome("output_records > 6.5", v), "passed");
  EXPECT_EQ(Outcome("(output_records - 1) * 2 == 12", v), "passed");
  EXPECT_EQ(Outcome("output_records - 1 * 2 == 5", v), "passed") << "* binds tighter than -";
  EXPECT_EQ(Outcome("-output_records + 8 == 1", v), "passed");
  EXPECT_EQ(Outcome("input_records / output_records > 1428", v), "passed");
  EXPECT_EQ(Outcome("input_records / 0 > 1", v), "failed") << "a division by zero holds nothing";
}

TEST(Expectations, TheDetailShowsTheValuesCompared) {
  ExpectationResult r = EvaluateExpectation({"bad_records <= 0.5 * input_records", true},
                                            From({{"bad_records", 6}, {"input_records", 10}}));
  EXPECT_EQ(r.outcome, "failed");
  EXPECT_TRUE(r.expectation.warn);
  EXPECT_EQ(r.detail, "6 <= 5 (bad_records = 6, input_records = 10)");
}

TEST(Expectations, AMissingNameFailsUnlessItIsAPreviousRunThatDoesNotExist) {
  ExpectationResult r = EvaluateExpectation({"ouput_records >= 1", false}, From({{"output_records", 1}}));
  EXPECT_EQ(r.outcome, "failed");
  EXPECT_EQ(r.detail, "ouput_records: no such counter");
  EXPECT_EQ(Outcome("output_records >= 0.9 * previous.output_records", {{"output_records", 1}}, false),
            "not checked");
  EXPECT_EQ(Outcome("output_records >= 0.9 * previous.output_records",
                    {{"output_records", 95}, {"previous.output_records", 100}}),
            "passed");
  EXPECT_EQ(Outcome("output_records >= 0.9 * previous.output_records",
                    {{"output_records", 89}, {"previous.output_records", 100}}),
            "failed");
  // A misspelt name fails even beside a missing previous run.
  EXPECT_EQ(Outcome("previous.output_records <= nope", {}, false), "failed");
}

TEST(Expectations, SyntaxErrorsSayWhere) {
  EXPECT_TRUE(CheckExpectationSyntax("a.b-c <= 2 * (x + 1)").ok());
  for (const char* bad : {"", "output_records", "output_records >=", "1 <= 2 3", "(a <= 1", "a <= $", "a => 1"}) {
    Status s = CheckExpectationSyntax(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("at character"), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(NamesIn("group.my-counter <= 0.1 * input_records - 2"),
            (std::vector<std::string>{"group.my-counter", "input_records"}));
}

class OutputMeasures : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-measures-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string Part(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
    return dir_ + "/" + name;
  }
  std::string dir_;
};

TEST_F(OutputMeasures, DuplicateKeysEmptyFieldsAndRanges) {
  const std::vector<std::string> parts = {Part("part-0", "a\t1\t\nb\t-2.5\tx\nb\t7\ty\n"),
                                          Part("part-1", "c\tn/a\tz\nd\n")};
  const std::vector<std::string> names = {"output.duplicate_keys", "output.empty_field_3", "output.min_field_2",
                                          "output.max_field_2", "output.nonnumeric_field_2", "output.bogus"};
  auto m = MeasureOutput(parts, names, /*keys_sorted=*/true);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->values.at("output.duplicate_keys"), 1);
  EXPECT_EQ(m->values.at("output.empty_field_3"), 2) << "an empty field and a missing one";
  EXPECT_EQ(m->values.at("output.min_field_2"), -2.5);
  EXPECT_EQ(m->values.at("output.max_field_2"), 7);
  EXPECT_EQ(m->values.at("output.nonnumeric_field_2"), 1);
  EXPECT_EQ(m->values.at("output.empty_field_2"), 1);
  EXPECT_EQ(m->why_not.count("output.bogus"), 1u);
}

TEST_F(OutputMeasures, UnsortedPartsFindDuplicatesAnywhere) {
  const std::vector<std::string> parts = {Part("part-0", "k1\nk2\nk1\n"), Part("part-1", "k2\nk3")};
  auto sorted = MeasureOutput(parts, {"output.duplicate_keys"}, /*keys_sorted=*/true);
  auto any = MeasureOutput(parts, {"output.duplicate_keys"}, /*keys_sorted=*/false);
  ASSERT_TRUE(sorted.ok() && any.ok());
  EXPECT_EQ(sorted->values.at("output.duplicate_keys"), 0) << "neighbours only";
  EXPECT_EQ(any->values.at("output.duplicate_keys"), 2);
}

}  // namespace
}  // namespace sluice
