// WordCount: how often each word occurs in the input.
//
// A word is a maximal run of bytes other than space, \t, \n, \v, \f and \r.
// Output: one "word\tcount" line per distinct word, sorted by word within
// each part file.
//
// A newline separates words, so no word spans two lines: map takes blocks
// of whole lines (LineBlocks), one call per block rather than per line.
//
//   sluice run wordcount --input books/ --output counts/
//   mpirun -np 8 sluice run wordcount --input 'logs/*.txt' --output counts/
#include <cstdint>
#include <string_view>

#include <sluice/job.h>
#include <sluice/text_scan.h>

namespace {

class WordCount : public sluice::Job<WordCount, std::string, uint64_t> {
 public:
  using Input = sluice::LineBlocks;  // with --record-delimiter: one record per call

  void Map(std::string_view lines, Emitter& emit) {
    sluice::ForEachWord(lines, [&](std::string_view word) { emit(word, 1); });
  }

  // Sums (a best-k list, exact aggregates) fold in any order and Reduce
  // reads only the fold: --incremental may build on the previous result.
  static constexpr bool kMergeable = true;

  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }

  void Reduce(std::string_view word, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(word, total);
  }
};

}  // namespace

SLUICE_JOB(WordCount, "wordcount", "Counts the occurrences of each whitespace-separated word")
