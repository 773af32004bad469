// WordCount whose Combine throws: the word "bomb" counts 2^40, and Combine
// refuses to fold two bombs. Two "bomb"s in one split fail on the map side;
// one in each of two splits fails on the reduce side, where the values of a
// key are folded before Reduce. Either way the job's code failed: exit 6.
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <sluice/job.h>
#include <sluice/text_scan.h>

namespace {

constexpr uint64_t kBomb = uint64_t{1} << 40;

class ThrowingCombine : public sluice::Job<ThrowingCombine, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    sluice::ForEachWord(line, [&](std::string_view word) { emit(word, word == "bomb" ? kBomb : 1); });
  }

  uint64_t Combine(uint64_t a, uint64_t b) {
    if (a >= kBomb && b >= kBomb) throw std::runtime_error("combine met two bombs");
    return a + b;
  }

  void Reduce(std::string_view word, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(word, total);
  }
};

}  // namespace

SLUICE_JOB(ThrowingCombine, "robust_throwing_combine", "WordCount whose Combine throws on two bombs (test job)")
