// Trap 1: kMapOnly and a Reduce contradict each other; the Reduce would
// never run.
#include <sluice/job.h>

class MapOnlyWithReduce : public sluice::Job<MapOnlyWithReduce, std::string, uint64_t> {
 public:
  static constexpr bool kMapOnly = true;
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
  void Reduce(KeyView key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

SLUICE_JOB(MapOnlyWithReduce, "map_only_with_reduce", "kMapOnly and Reduce")
