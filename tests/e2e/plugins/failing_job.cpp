// A job that throws in map() on the line "BOOM": proves that one rank's
// failure ends the whole job cleanly.
#include <stdexcept>
#include <string_view>

#include "runtime/job.h"

namespace {

class FailingJob : public sluice::Job<FailingJob, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    if (line == "BOOM") throw std::runtime_error("found the BOOM line");
    emit(line, 1);
  }
  void Reduce(std::string_view key, Values& values, Output& out) { out(key, values.size()); }
};

}  // namespace

SLUICE_JOB(FailingJob, "failing", "Throws on the line BOOM (test job)")
