// A job that throws in map() on the line "BOOM" (one rank's failure must end
// the whole job cleanly) and stalls on "SLEEP" (so a test can interrupt it).
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <string_view>

#include <sluice/job.h>

namespace {

class FailingJob : public sluice::Job<FailingJob, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    if (line == "BOOM") throw std::runtime_error("found the BOOM line");
    if (line == "SLEEP") {
      // The signal tests wait for this line: the map task is running, past
      // every rank's signal-handler setup, and stays put until killed.
      std::fprintf(stderr, "failing_job: sleeping on SLEEP\n");
      std::fflush(stderr);
      std::this_thread::sleep_for(std::chrono::seconds(60));
    }
    emit(line, 1);
  }
  void Reduce(std::string_view key, Values& values, Output& out) {
    uint64_t n = 0;
    for ([[maybe_unused]] uint64_t v : values) ++n;
    out(key, n);
  }
};

}  // namespace

SLUICE_JOB(FailingJob, "failing", "Throws on the line BOOM (test job)")
