// Distinct: how many different values each key has (SQL's
// COUNT(DISTINCT value) ... GROUP BY key).
//
//   sluice run distinct --input pairs/ --output counts/
//
// Input lines: "key\tvalue", value the rest of the line after the first tab.
// Output: one "key\tcount" line per key. A line without a tab is a bad
// record (skipped up to --max-bad-records, listed in OUTPUT/_bad_records).
//
// No set of values is held in memory, so a key may have more distinct values
// than fit: secondary sort delivers each key's values sorted (the key is
// (key, value), grouped on the first field), and reduce counts where the
// sorted stream changes. (No combiner: Sluice does not combine under
// secondary sort, so every line's pair is shuffled.)
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <sluice/job.h>

namespace {

class Distinct : public sluice::Job<Distinct, std::pair<std::string, std::string>, bool> {
 public:
  static constexpr size_t kGroupFields = 1;

  void Map(std::string_view line, Emitter& emit) {
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      throw sluice::BadRecord("no tab: not a \"key<TAB>value\" line");
    }
    pair_.first.assign(line.substr(0, tab));
    pair_.second.assign(line.substr(tab + 1));
    emit(pair_, true);
  }

  void Reduce(const Key& key, Values& values, Output& out) {
    uint64_t distinct = 0;
    for (const auto& [full_key, ignored] : values.with_keys()) {
      const std::string& value = full_key.second;  // ascending
      if (distinct == 0 || value != previous_) {
        ++distinct;
        previous_ = value;
      }
    }
    out(key.first, distinct);
  }

 private:
  Key pair_;              // reused: no allocation per line once warm
  std::string previous_;  // the last value seen, copied: views die as reduce reads on
};

}  // namespace

SLUICE_JOB(Distinct, "distinct", "Counts the distinct values of each key, from key<TAB>value lines")
