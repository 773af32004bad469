// A map-only job shuffles nothing, so a Combine in it would never run.
#include <sluice/job.h>

class MapOnlyWithCombine : public sluice::Job<MapOnlyWithCombine, std::string, uint64_t> {
 public:
  static constexpr bool kMapOnly = true;
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }
};

SLUICE_JOB(MapOnlyWithCombine, "map_only_with_combine", "kMapOnly and Combine")
