// Trap 1: a string key arrives as std::string_view (KeyView); a Reduce
// taking const std::string& cannot be called with it. This once made the
// job silently map-only; now it is an error naming the expected signature.
#include <sluice/job.h>

class StdStringKey : public sluice::Job<StdStringKey, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
  void Reduce(const std::string& key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

SLUICE_JOB(StdStringKey, "std_string_key", "Reduce with const std::string& key")
