// Measures of a job's part files for expectations (expectations.h):
// output.duplicate_keys, output.empty_field_N, output.min_field_N,
// output.max_field_N, output.nonnumeric_field_N. Lines are records, fields
// split by tabs, field 1 the key. Read only when an expectation names one,
// in one pass over the parts.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/status.h"

namespace sluice {

struct MeasuredOutput {
  std::map<std::string, double> values;     // by name
  std::map<std::string, std::string> why_not;  // a name asked for that has no value, and why
};

// `names`: every name the expectations read (others than output.* are
// ignored). `parts`: the part files, in order. `keys_sorted`: each key's
// lines are together in one part (a reduce job's output), so duplicates are
// found by comparing neighbours; else (map-only) by a set of key hashes, 8
// bytes per distinct key.
Result<MeasuredOutput> MeasureOutput(const std::vector<std::string>& parts, const std::vector<std::string>& names,
                                     bool keys_sorted);

}  // namespace sluice
