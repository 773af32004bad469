// The control: correct jobs of every shape the checks distinguish compile
// with the same command, so a failure of the other files is theirs.
#include <sluice/job.h>

#include <tuple>

namespace {

class Counting : public sluice::Job<Counting, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
  uint64_t Combine(const uint64_t& a, const uint64_t& b) { return a + b; }
  void Reduce(KeyView key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

class TupleKeyed : public sluice::Job<TupleKeyed, std::tuple<std::string, int64_t>, double> {
 public:
  void Map(std::string_view line, Emitter& emit) { emit(Key(line, 1), 0.5); }
  void Reduce(const Key& key, Values& values, Output& out) {
    double sum = 0;
    for (double v : values) sum += v;
    out(std::get<0>(key), sum);
  }
};

class Copying : public sluice::Job<Copying, std::string, std::string> {
 public:
  static constexpr bool kMapOnly = true;
  void Map(std::string_view line, Emitter& emit) { emit(line, line); }
};

}  // namespace

SLUICE_JOB(Counting, "counting", "Reduce with Combine")
SLUICE_JOB(TupleKeyed, "tuple_keyed", "tuple key taken as const Key&")
SLUICE_JOB(Copying, "copying", "map-only")
