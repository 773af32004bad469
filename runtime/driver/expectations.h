// Data-quality expectations (--expect, --expect-warn): comparisons over a
// job's counters, the previous committed run's counters and measures of
// the output, checked before the output is published.
//
//   bad_records <= 0.001 * input_records
//   output_records >= 1
//   output_records >= 0.9 * previous.output_records    (within -10%)
//   output.duplicate_keys == 0                         (each key once)
//   output.empty_field_2 == 0                          (field 2 never empty)
//   output.min_field_3 >= 0 and output.max_field_3 <= 100 (two expectations)
//
// Grammar: SUM CMP SUM, CMP one of <= >= < > == !=; SUM is products of
// numbers, names and parenthesised SUMs joined by + - * /. Names: the
// built-in counters (input_records, output_records, bad_records, ...), a
// user counter by its name ("join.duplicate_users"), previous.NAME (the same
// in the output this run replaces), and output.duplicate_keys,
// output.empty_field_N, output.min_field_N, output.max_field_N,
// output.nonnumeric_field_N over the part files' tab-separated fields
// (field 1 is the key). A name that is none of these fails the
// expectation: a misspelt counter must not read as 0.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/status.h"

namespace sluice {

// The exit code of a job whose `error` expectation failed: nothing published.
constexpr int kExitExpectationFailed = 7;

struct Expectation {
  std::string text;
  bool warn = false;  // failing publishes anyway, recorded; else the job fails
};

struct ExpectationResult {
  Expectation expectation;
  // "passed", "failed", or "not checked" (it names previous.* and there is
  // no previous run).
  std::string outcome;
  std::string detail;  // the values it compared, or why it could not
};

// kUsage naming the expectation and where it stops parsing.
Status CheckExpectationSyntax(const std::string& text);

// The names an expectation reads, in order of appearance (syntax checked).
std::vector<std::string> NamesIn(const std::string& text);

// A name's value, or nullopt when there is no such thing ("no such
// counter"): `why` says which.
using ValueOf = std::function<std::optional<double>(const std::string& name, std::string* why)>;

// Evaluates one expectation. A previous.* name whose value is missing
// because there is no previous run (why == "no previous run") makes it
// "not checked"; any other missing name makes it "failed".
ExpectationResult EvaluateExpectation(const Expectation& e, const ValueOf& value);

}  // namespace sluice
