// A real word count whose descriptor carries the current kSluiceAbiVersion
// but another layout hash: what a plugin built before someone changed
// JobRunner, JobSettings or TaskCounters (without touching the version)
// carries. The host must refuse it, before it runs any of its code.
#include <cstdint>
#include <string_view>

#include <sluice/job.h>
#include <sluice/text_scan.h>

namespace {

class StaleLayoutJob : public sluice::Job<StaleLayoutJob, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    sluice::ForEachWord(line, [&](std::string_view word) { emit(word, 1); });
  }
  void Reduce(std::string_view word, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(word, total);
  }
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const SluicePluginDescriptor*
sluice_plugin_descriptor() {
  // As if a boundary header had one more field: the hash the build derives
  // from the headers' text differs.
  static const SluicePluginDescriptor kDescriptor = {
      sluice::kSluiceAbiVersion, __GXX_ABI_VERSION, sluice::kSluiceAbiLayoutHash ^ 0x5eed,
      "stale_layout", "word count built against other Sluice headers (test plugin)",
      &sluice::CreateRunner<StaleLayoutJob>, &sluice::ConnectPluginToHost};
  return &kDescriptor;
}
