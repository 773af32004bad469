// Trap 1: the engine passes Combine the const values it holds; a Combine
// taking non-const references cannot be called with them. This once meant
// the combiner silently never ran; now it is an error.
#include <sluice/job.h>

class MutableCombine : public sluice::Job<MutableCombine, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
  uint64_t Combine(uint64_t& a, uint64_t& b) { return a += b; }
  void Reduce(KeyView key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

SLUICE_JOB(MutableCombine, "mutable_combine", "Combine with non-const references")
