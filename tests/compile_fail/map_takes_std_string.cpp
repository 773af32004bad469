// A line arrives as std::string_view; a Map taking std::string by value
// cannot be called with it, and the error names the expected signature.
#include <sluice/job.h>

class StdStringLine : public sluice::Job<StdStringLine, std::string, uint64_t> {
 public:
  static constexpr bool kMapOnly = true;
  void Map(std::string line, Emitter& emit) { emit(line, 1); }
};

SLUICE_JOB(StdStringLine, "std_string_line", "Map taking std::string")
