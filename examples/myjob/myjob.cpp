// WordLengths: how many words of each length the input holds.
//
// A word is a maximal run of bytes other than space, \t, \v, \f and \r; its
// length is in bytes. Output: one "length\tcount" line per length seen.
//
//   ./myjob books/ lengths/                                  job binary
//   mpirun -np 4 ./myjob books/ lengths/
//   sluice run --plugin $PWD/libmyjob.so --input books/ --output lengths/
#include <cstdint>
#include <string_view>

#include <sluice/job.h>

namespace {

constexpr bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

class WordLengths : public sluice::Job<WordLengths, uint32_t, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    size_t i = 0;
    const size_t n = line.size();
    while (i < n) {
      while (i < n && IsSpace(line[i])) ++i;
      const size_t start = i;
      while (i < n && !IsSpace(line[i])) ++i;
      if (i > start) emit(static_cast<uint32_t>(i - start), 1);
    }
  }

  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }

  void Reduce(uint32_t length, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(length, total);
  }
};

}  // namespace

SLUICE_JOB(WordLengths, "wordlengths", "Counts the words of each length (in bytes)")
