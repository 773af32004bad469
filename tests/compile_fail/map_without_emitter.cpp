// A Map that forgets the Emitter parameter cannot be called by the engine.
#include <sluice/job.h>

class NoEmitter : public sluice::Job<NoEmitter, std::string, uint64_t> {
 public:
  static constexpr bool kMapOnly = true;
  void Map(std::string_view line) { lines_ += !line.empty(); }

 private:
  uint64_t lines_ = 0;
};

SLUICE_JOB(NoEmitter, "no_emitter", "Map without an Emitter")
