// Trap 1: a job with no Reduce that does not declare kMapOnly. Map-only is
// never inferred; the error says to write Reduce or declare kMapOnly.
#include <sluice/job.h>

class NoReduce : public sluice::Job<NoReduce, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
};

SLUICE_JOB(NoReduce, "no_reduce", "neither Reduce nor kMapOnly")
