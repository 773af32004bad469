// CombineInto is Combine's in-place form: alone, the engine would have no
// Combine to check it against (and a job reading only CombineInto's name
// would think it combines). An error, naming the signature.
#include <sluice/job.h>

class OnlyInPlace : public sluice::Job<OnlyInPlace, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
  void CombineInto(uint64_t& into, const uint64_t& from) { into += from; }
  void Reduce(KeyView key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

SLUICE_JOB(OnlyInPlace, "only_in_place", "CombineInto without Combine")
