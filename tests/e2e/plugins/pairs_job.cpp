// The stream job's identity, in C++: each input line is a record whose key
// runs to the first tab (the whole line without one) and whose value is the
// rest; the output is every record as "key\tvalue", keys sorted as bytes,
// a key's values in input order. What `sluice run stream --param mapper=cat`
// (no reducer) writes, so tests compare the two byte for byte and
// scripts/bench-stream times what the pipes cost.
#include <string>
#include <string_view>

#include <sluice/job.h>

namespace {

class PairsJob : public sluice::Job<PairsJob, std::string, std::string> {
 public:
  using Output = sluice::RecordOutput;  // "key\tvalue\n" built here: an empty value keeps its tab

  void Map(std::string_view line, Emitter& emit) {
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      emit(line, std::string_view());
    } else {
      emit(line.substr(0, tab), line.substr(tab + 1));
    }
  }

  void Reduce(std::string_view key, Values& values, Output& out) {
    for (std::string_view value : values) {
      line_.assign(key);
      line_.push_back('\t');
      line_.append(value);
      line_.push_back('\n');
      out(line_, std::string_view());
    }
  }

 private:
  std::string line_;
};

}  // namespace

SLUICE_JOB(PairsJob, "pairs", "Sorted key<TAB>value lines: the stream job's identity in C++ (test job)")
