// A word count whose first Map call on each rank deletes, or truncates, one
// of the job's own input files: an input that changes after the plan was
// made, as when a log rotator or another job touches it mid-run. Run it with
// a --split-size small enough that the victim is read by a later map task.
//
//   sluice run --plugin .../libvanishing_input.so --param victim=PATH
//       [--param truncate_to=BYTES] --input DIR --output OUT
//
// Without truncate_to the victim is removed. Every rank acts on its first
// Map call, so the action must be idempotent: removing twice is harmless,
// and truncating to a fixed size (not "half of what is there now") gives
// the same file whichever rank gets there first.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <sluice/job.h>
#include <sluice/text_scan.h>

namespace {

class VanishingInputJob : public sluice::Job<VanishingInputJob, std::string, uint64_t> {
 public:
  static constexpr sluice::Param<std::string> kVictim{
      "victim", "", "input file to delete (or truncate) on the first Map call"};
  static constexpr sluice::Param<int64_t> kTruncateTo{
      "truncate_to", -1, "truncate the victim to this many bytes instead of deleting it"};
  static constexpr auto kParams = sluice::ParamTable(kVictim, kTruncateTo);

  VanishingInputJob() {
    if (victim_.empty()) throw sluice::JobParamError("--param victim=PATH is required");
  }

  void Map(std::string_view line, Emitter& emit) {
    if (!acted_) {
      acted_ = true;
      if (truncate_to_ < 0) {
        std::remove(victim_.c_str());
      } else if (::truncate(victim_.c_str(), static_cast<off_t>(truncate_to_)) != 0) {
        // The test checks the file's size itself; a failed truncate shows
        // there as a job that unexpectedly succeeds.
        std::perror("vanishing_input: truncate");
      }
    }
    sluice::ForEachWord(line, [&](std::string_view word) { emit(word, 1); });
  }

  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }

  void Reduce(std::string_view word, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(word, total);
  }

 private:
  const std::string victim_ = param(kVictim);
  const int64_t truncate_to_ = param(kTruncateTo);
  bool acted_ = false;
};

}  // namespace

SLUICE_JOB(VanishingInputJob, "vanishing_input",
           "Word count that deletes or truncates one of its inputs mid-job (test job)")
