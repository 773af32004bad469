// sluice-textgen: writes a deterministic text corpus for benchmarks and tests.
//
// The corpus is V distinct pseudo-words drawn Zipf(S)-distributed, in lines of
// about --words-per-line words, split across N files of about SIZE/N bytes.
//
// Contract: the bytes written depend only on the arguments (not on the machine,
// the compiler, the thread count or the scheduling). To keep that promise:
//   - randomness comes from splitmix64 and xoshiro256**, never from std::
//     distributions (their algorithms are implementation-defined);
//   - each file has its own stream, seeded from (seed, file index);
//   - Zipf weights are computed with integer fixed-point log2/exp2, not libm
//     (pow/exp/log differ in the last ulp between libms and with FMA);
//   - the only floating-point operations are conversions, ldexp and single
//     +, *, /, which IEEE 754 rounds the same everywhere, and none of the form
//     a*b+c that a compiler could fuse into an FMA.
// Checked: g++ -O0/-O2/-O3 -march=native -ffp-contract=fast, clang++ -O2 and
// any --threads give identical files.
//
// Exit codes: 0 ok, 1 out of memory, 2 usage error, 4 I/O error.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "gen_flags.h"
#include "xoshiro.h"

namespace sluice {
namespace {

using u128 = unsigned __int128;

constexpr int kExitOutOfMemory = 1;
constexpr int kExitUsage = 2;
constexpr int kExitIo = 4;

constexpr const char* kProgram = "sluice-textgen";

// The distinct-word table is measured (seed 42, words counted after splitting
// on blanks); rerun it when the vocabulary or the sampler changes.
constexpr const char* kUsage = R"(usage: sluice-textgen --output DIR --bytes SIZE [options]

Writes DIR/text-00000.txt ... DIR/text-<N-1>.txt, about SIZE bytes in all
(each file at least SIZE/N bytes, ending at a line end), creating DIR. The
bytes depend only on the arguments: any machine, compiler or thread count
gives identical files.

  --output DIR          directory to write into (created if missing)
  --bytes SIZE          total size; suffixes K, M, G are powers of 1024
  --files N             number of files (default 8, at most 100000)
  --vocab V             distinct words in the vocabulary (default 1000000);
                        needs about 48 bytes of memory per word
  --zipf S              Zipf exponent: the word of rank r has weight 1/r^S
                        (default 1.0; 0 is uniform; at most 10)
  --seed N              64-bit seed (default 42)
  --words-per-line N    mean words per line; lines vary by +-N/2 (default 12)
  --crlf-every N        end every Nth line of each file with \r\n
                        (default 0: never)
  --threads N           writer threads, one file each (default: hardware
                        concurrency); does not change the output
  --help                this text

Words: lowercase a-z, 1 to 14 letters, frequent words shorter (mean 5.0
letters in the text for the defaults). Separators: ' ', or 1 in 32 '\t' and
1 in 32 two spaces. Speed: 150-250 MB/s per core; the vocabulary takes about
1 s per 8M words and core.

How many distinct words does the text contain? Rare ranks appear only if they
are drawn, so a large vocabulary is under-sampled. Distinct words in 1 GiB
(--bytes 1G; 125M words at S=0.8 up to 224M at S=1.2), in millions rounded
down:

                 --zipf 0.8    0.9    1.0    1.1    1.2
    --vocab  5M         4.99   4.97   4.83   4.29   3.17
    --vocab  6M         5.98   5.93   5.67   4.87   3.46
    --vocab  8M         7.93   7.75   7.17   5.83   3.90
    --vocab 12M        11.56  10.95   9.58   7.23   4.50

So for at least 5M distinct words in 1 GiB use --vocab 6000000 --zipf 1.0
(5.67M) or --vocab 8000000 with --zipf 1.1 or less (7.17M at 1.0); no S
reaches 5M with --vocab 5000000. Smaller corpora contain fewer.
)";

// ---------------------------------------------------------------- randomness

using gen::SplitMix64;
using gen::StreamSeed;
using gen::Xoshiro256;

// Maps the top 32 bits of `x` onto [0, n) (Lemire). n <= 2^32.
inline uint32_t Bounded(uint64_t x, uint64_t n) { return uint32_t(((x >> 32) * n) >> 32); }

// ---------------------------------------------------------------- fixed point

// log2(n) in Q32 for 1 <= n < 2^62, bit by bit: repeated squaring of the
// mantissa. Exact to the last bit but slow (32 dependent multiplies), so it
// only builds tables.
uint64_t Log2Q32Slow(uint64_t n) {
  const int exponent = std::bit_width(n) - 1;
  uint64_t mantissa = n << (62 - exponent);  // in [1, 2) as Q62
  uint64_t result = uint64_t(exponent) << 32;
  for (int bit = 31; bit >= 0; --bit) {
    mantissa = uint64_t((u128(mantissa) * mantissa) >> 62);  // in [1, 4)
    const uint64_t carry = mantissa >> 63;
    mantissa >>= carry;
    result |= carry << bit;
  }
  return result;
}

uint64_t Isqrt128(u128 value) {
  u128 result = 0;
  u128 bit = u128(1) << 126;
  while (bit > value) bit >>= 2;
  while (bit != 0) {
    if (value >= result + bit) {
      value -= result + bit;
      result = (result >> 1) + bit;
    } else {
      result >>= 1;
    }
    bit >>= 2;
  }
  return uint64_t(result);
}

// Q63 product of two Q63 numbers (1.0 = 2^63), truncated.
inline uint64_t MultiplyQ63(uint64_t a, uint64_t b) { return uint64_t((u128(a) * b) >> 63); }

// log2 and 2^-x in integer fixed point, table driven. Same results everywhere,
// unlike libm; Exp2Neg(s * Log2(n)) is within 1e-8 of n^-s, relatively.
class FixedPointMath {
 public:
  FixedPointMath() {
    for (uint64_t i = 1; i < kTable; ++i) log2_[i] = Log2Q32Slow(i);
    for (uint64_t i = kTable / 2; i < kTable; ++i) reciprocal_[i] = uint64_t((u128(1) << 64) / i);
    // roots[j] = 2^-(2^-(j+1)): the factor for bit j of a Q32 fraction (bit 0 = 1/2).
    std::array<uint64_t, 32> roots;
    uint64_t root = uint64_t(1) << 62;  // 2^-1
    for (uint64_t& r : roots) {
      root = Isqrt128(u128(root) << 63);
      r = root;
    }
    for (int k = 0; k < 4; ++k) {
      for (int byte = 0; byte < 256; ++byte) {
        uint64_t value = uint64_t(1) << 63;
        for (int i = 0; i < 8; ++i) {
          if (byte & (1 << i)) value = MultiplyQ63(value, roots[8 * k + 7 - i]);
        }
        exp2_neg_[k][byte] = value;
      }
    }
  }

  // log2(n) in Q32, for 1 <= n < 2^62.
  uint64_t Log2(uint64_t n) const {
    if (n < kTable) return log2_[n];
    // n = high * 2^shift * (1 + x), high in [kTable/2, kTable), x < 2^-12.
    const int shift = std::bit_width(n) - kTableBits;
    const uint64_t high = n >> shift;
    const uint64_t low = n - (high << shift);
    const uint64_t x = uint64_t((u128(low) * reciprocal_[high]) >> shift);  // Q64
    const uint64_t x2 = uint64_t((u128(x) * x) >> 64);
    const uint64_t x3 = uint64_t((u128(x2) * x) >> 64);
    const uint64_t ln = x - x2 / 2 + x3 / 3;            // ln(1 + x), error < x^4 / 4 < 2^-50
    constexpr uint64_t kLog2E = 0xb8aa3b295c17f0bbull;  // log2(e) in Q63
    const uint64_t log2_q64 = uint64_t((u128(ln) * kLog2E) >> 63);
    return (uint64_t(shift) << 32) + log2_[high] + ((log2_q64 + (uint64_t(1) << 31)) >> 32);
  }

  // 2^-x for 0 <= x < 900, x in Q32. (ldexp is exact here: it only sets the
  // exponent, and 2^-963 is still a normal double.)
  double Exp2Neg(uint64_t x_q32) const {
    const int whole = int(x_q32 >> 32);
    const uint32_t fraction = uint32_t(x_q32);
    uint64_t result = exp2_neg_[0][fraction >> 24];
    result = MultiplyQ63(result, exp2_neg_[1][(fraction >> 16) & 0xFF]);
    result = MultiplyQ63(result, exp2_neg_[2][(fraction >> 8) & 0xFF]);
    result = MultiplyQ63(result, exp2_neg_[3][fraction & 0xFF]);
    return std::ldexp(double(result), -63 - whole);
  }

 private:
  static constexpr int kTableBits = 13;
  static constexpr uint64_t kTable = uint64_t(1) << kTableBits;

  std::array<uint64_t, kTable> log2_{};                // Q32; [0] unused
  std::array<uint64_t, kTable> reciprocal_{};          // floor(2^64 / i), for i >= kTable / 2
  std::array<std::array<uint64_t, 256>, 4> exp2_neg_;  // [k][b] = 2^-(b * 2^-(8k + 8)), Q63
};

// ---------------------------------------------------------------- parallel

// Runs fn(begin, end) over [0, n) in `threads` contiguous chunks. fn must make
// each element's result independent of the chunking.
void ParallelFor(uint64_t n, unsigned threads, const std::function<void(uint64_t, uint64_t)>& fn) {
  threads = unsigned(std::max<uint64_t>(1, std::min<uint64_t>(threads, n / 65536)));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back(fn, n * t / threads, n * (t + 1) / threads);
  }
  for (std::thread& w : workers) w.join();
}

// ---------------------------------------------------------------- vocabulary

constexpr int kMaxWordLength = 14;

// One word, padded so that emitting it is a single 16-byte copy.
struct alignas(16) WordSlot {
  char letters[15];
  uint8_t length;
};
static_assert(sizeof(WordSlot) == 16);

// A bijection on [0, domain), keyed by the seed: a keyed mix on the enclosing
// power of two, with cycle walking to stay inside the domain.
class Permutation {
 public:
  Permutation(uint64_t domain, Xoshiro256& rng) : domain_(domain) {
    bits_ = std::bit_width(domain - 1);
    mask_ = bits_ >= 64 ? ~uint64_t(0) : (uint64_t(1) << bits_) - 1;
    shift_ = std::max(1, bits_ / 2);
    for (auto& key : keys_) key = {rng.Next(), rng.Next() | 1};
  }

  uint64_t operator()(uint64_t x) const {
    do {
      for (const auto& [add, multiply] : keys_) {
        x = ((x + add) * multiply) & mask_;
        x ^= x >> shift_;
      }
    } while (x >= domain_);
    return x;
  }

 private:
  uint64_t domain_;
  int bits_;
  uint64_t mask_;
  int shift_;
  std::array<std::pair<uint64_t, uint64_t>, 3> keys_;
};

// Words by rank (0 = most frequent). Distinct by construction: a word of length
// L is the base-26 spelling of a permutation of its index among the words of
// length L, and each length's indices are handed out once.
//
// Length of rank r: round(1.5 + 0.35 * log2(r + 1)) plus a bell-shaped -6..+6
// (sum of four uniform 0..3), reflected at 1 and capped at 14. Frequent words
// are short, as in natural text: with V = 1M and S = 1 the mean word in the text
// has 5.0 letters (English: about 4.7) and the mean vocabulary word 7.8. A
// length whose 26^L spellings are used up passes its words on to the next.
std::vector<WordSlot> BuildVocabulary(uint32_t size, uint64_t seed, unsigned threads) {
  Xoshiro256 rng(StreamSeed(seed, 0));
  std::vector<WordSlot> slots(size);
  std::array<uint64_t, kMaxWordLength + 1> capacity{};
  std::array<uint64_t, kMaxWordLength + 1> used{};
  uint64_t power = 1;
  for (int length = 1; length <= kMaxWordLength; ++length) {
    // 26^14 > 2^64: length 14 spells only the first 2^62 values, still plenty.
    power = length <= 13 ? power * 26 : uint64_t(1) << 62;
    capacity[length] = power;
  }

  for (uint32_t rank = 0; rank < size; ++rank) {
    const uint64_t n = uint64_t(rank) + 1;
    const int exponent = std::bit_width(n) - 1;
    const uint64_t log2_q8 =
        uint64_t(exponent) * 256 + (((n - (uint64_t(1) << exponent)) << 8) >> exponent);
    const uint64_t mean_q8 = 384 + log2_q8 * 35 / 100;
    const uint64_t noise = rng.Next();
    int length = int((mean_q8 + 128) >> 8) - 6;
    for (int term = 0; term < 4; ++term) length += int((noise >> (2 * term)) & 3);
    if (length < 1) length = 2 - length;  // reflect: clamping would pile words up at 1
    length = std::min(length, kMaxWordLength);
    while (used[length] == capacity[length]) ++length;  // 14 never fills
    const uint64_t index = used[length]++;
    std::memcpy(slots[rank].letters, &index, sizeof index);
    slots[rank].length = uint8_t(length);
  }

  std::vector<Permutation> permutations;  // [length - 1]
  for (int length = 1; length <= kMaxWordLength; ++length) {
    permutations.emplace_back(capacity[length], rng);
  }
  ParallelFor(size, threads, [&](uint64_t begin, uint64_t end) {
    for (uint64_t rank = begin; rank < end; ++rank) {
      WordSlot& slot = slots[rank];
      uint64_t index;
      std::memcpy(&index, slot.letters, sizeof index);
      uint64_t value = permutations[slot.length - 1](index);
      std::memset(slot.letters, 0, sizeof slot.letters);
      for (int i = slot.length - 1; i >= 0; --i) {
        slot.letters[i] = char('a' + value % 26);
        value /= 26;
      }
    }
  });
  return slots;
}

// ---------------------------------------------------------------- sampling

// Walker/Vose alias table in integers: column i keeps itself when the low 32
// bits of the draw are below `threshold`, else yields `alias`. A column that
// always keeps itself has alias == itself.
struct AliasEntry {
  uint32_t threshold;
  uint32_t alias;
};

// Table for outcome i having probability weights[i] / sum(weights).
std::vector<AliasEntry> BuildAliasTable(std::span<const double> weights) {
  const uint64_t n = weights.size();
  const uint64_t one = uint64_t(1) << 32;  // each column holds `one` units
  double total = 0;
  for (double w : weights) total += w;

  // Scaled so that sum(units) == n * one exactly; rounding slack goes to the
  // heaviest outcome, where it is relatively smallest.
  std::vector<uint64_t> units(n);
  uint64_t heaviest = 0;
  u128 sum = 0;
  const double scale = total > 0 ? double(n * one) / total : 0;
  for (uint64_t i = 0; i < n; ++i) {
    units[i] = total > 0 ? uint64_t(weights[i] * scale) : one;
    sum += units[i];
    if (units[i] > units[heaviest]) heaviest = i;
  }
  const u128 target = u128(n) * one;
  if (sum < target) units[heaviest] += uint64_t(target - sum);
  if (sum > target) units[heaviest] -= uint64_t(sum - target);

  std::vector<AliasEntry> table(n);
  std::vector<uint32_t> small;
  std::vector<uint32_t> large;
  for (uint64_t i = 0; i < n; ++i) (units[i] < one ? small : large).push_back(uint32_t(i));
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    table[s] = {uint32_t(units[s]), l};
    units[l] -= one - units[s];
    if (units[l] < one) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Left over: full columns (exact integer sums leave no partial ones).
  for (uint32_t i : large) table[i] = {0, i};
  for (uint32_t i : small) table[i] = {0, i};
  return table;
}

// Draws ranks with P(r) proportional to (r + 1)^-s. Two levels keep the hot
// path in cache: the head table holds the kHeadRanks most frequent ranks and
// one "tail" outcome that defers to a table over the remaining ranks.
class ZipfSampler {
 public:
  static constexpr uint32_t kHeadRanks = 1 << 14;

  // s_q24: the exponent in Q24.
  ZipfSampler(uint32_t vocab, uint64_t s_q24, unsigned threads) {
    std::vector<double> weights(vocab);
    const auto math = std::make_unique<FixedPointMath>();
    ParallelFor(vocab, threads, [&](uint64_t begin, uint64_t end) {
      for (uint64_t rank = begin; rank < end; ++rank) {
        const uint64_t exponent_q32 = uint64_t((u128(s_q24) * math->Log2(rank + 1)) >> 24);
        weights[rank] = math->Exp2Neg(exponent_q32);
      }
    });
    head_ranks_ = std::min(vocab, kHeadRanks);
    std::vector<double> head(weights.begin(), weights.begin() + head_ranks_);
    if (vocab > head_ranks_) {
      double tail_total = 0;
      for (uint32_t rank = head_ranks_; rank < vocab; ++rank) tail_total += weights[rank];
      head.push_back(tail_total);
      tail_ = BuildAliasTable(std::span<const double>(weights).subspan(head_ranks_));
    }
    head_ = BuildAliasTable(head);
  }

  static constexpr int kBatch = 64;

  // Fills `ranks` with the next kBatch draws from `rng`. Draws in batches so
  // that the cache misses of rare ranks overlap instead of queueing.
  void SampleBatch(Xoshiro256& rng, std::span<uint32_t, kBatch> ranks) const {
    uint64_t in_tail = 0;  // bit i: ranks[i] is a tail column, tail_draw[i] its draw
    std::array<uint32_t, kBatch> tail_draw;
    for (int i = 0; i < kBatch; ++i) {
      const uint64_t x = rng.Next();
      const uint32_t column = Bounded(x, head_.size());
      const AliasEntry& entry = head_[column];
      ranks[i] = uint32_t(x) < entry.threshold ? column : entry.alias;
      if (ranks[i] >= head_ranks_) {
        const uint64_t y = rng.Next();
        ranks[i] = Bounded(y, tail_.size());
        tail_draw[i] = uint32_t(y);
        in_tail |= uint64_t(1) << i;
        __builtin_prefetch(&tail_[ranks[i]]);
      }
    }
    for (; in_tail != 0; in_tail &= in_tail - 1) {
      const int i = std::countr_zero(in_tail);
      const AliasEntry& entry = tail_[ranks[i]];
      ranks[i] = head_ranks_ + (tail_draw[i] < entry.threshold ? ranks[i] : entry.alias);
    }
  }

 private:
  uint32_t head_ranks_;
  std::vector<AliasEntry> head_;
  std::vector<AliasEntry> tail_;
};

// ---------------------------------------------------------------- options

struct Options {
  std::string output;
  uint64_t bytes = 0;
  uint32_t files = 8;
  uint32_t vocab = 1000000;
  std::string zipf_text = "1.0";
  uint64_t zipf_q24 = uint64_t(1) << 24;  // the exponent S in Q24
  uint64_t seed = 42;
  uint32_t words_per_line = 12;
  uint64_t crlf_every = 0;
  unsigned threads = 0;  // 0: std::thread::hardware_concurrency()
};

[[noreturn]] void UsageError(const std::string& message) { gen::UsageError(kProgram, message); }

uint64_t ParseInteger(std::string_view flag, std::string_view text, uint64_t min, uint64_t max) {
  return gen::ParseInteger(kProgram, flag, text, min, max);
}

uint64_t ParseSize(std::string_view flag, std::string_view text) { return gen::ParseSize(kProgram, flag, text); }

Options ParseArguments(int argc, char** argv) {
  Options options;
  bool have_bytes = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    std::string_view value;
    if (const size_t equals = flag.find('='); flag.starts_with("--") && equals != flag.npos) {
      value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
    } else if (flag.starts_with("--")) {
      if (i + 1 >= argc) UsageError(std::string(flag) + ": missing value");
      value = argv[++i];
    } else {
      UsageError("unexpected argument '" + std::string(flag) + "'");
    }

    if (flag == "--output") {
      if (value.empty()) UsageError("--output: empty directory name");
      options.output = value;
    } else if (flag == "--bytes") {
      options.bytes = ParseSize(flag, value);
      have_bytes = true;
    } else if (flag == "--files") {
      options.files = uint32_t(ParseInteger(flag, value, 1, 100000));
    } else if (flag == "--vocab") {
      options.vocab = uint32_t(ParseInteger(flag, value, 1, 1000000000));
    } else if (flag == "--zipf") {
      double s = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), s);
      if (value.empty() || error != std::errc() || end != value.data() + value.size() ||
          !(s >= 0 && s <= 10)) {
        UsageError("--zipf: expected a number in [0, 10], got '" + std::string(value) + "'");
      }
      options.zipf_text = value;
      options.zipf_q24 = uint64_t(std::llround(s * double(1 << 24)));
    } else if (flag == "--seed") {
      options.seed = ParseInteger(flag, value, 0, ~uint64_t(0));
    } else if (flag == "--words-per-line") {
      options.words_per_line = uint32_t(ParseInteger(flag, value, 1, 10000));
    } else if (flag == "--crlf-every") {
      options.crlf_every = ParseInteger(flag, value, 0, ~uint64_t(0));
    } else if (flag == "--threads") {
      options.threads = unsigned(ParseInteger(flag, value, 1, 1024));
    } else {
      UsageError("unknown flag " + std::string(flag));
    }
  }
  if (options.output.empty()) UsageError("--output is required");
  if (!have_bytes) UsageError("--bytes is required");
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  return options;
}

// ---------------------------------------------------------------- writing

std::string FilePath(const std::string& dir, uint32_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "text-%05u.txt", index);
  return (std::filesystem::path(dir) / name).string();
}

std::string IoError(const std::string& path, const char* what, int error) {
  return path + ": " + what + ": " + std::strerror(error);
}

// Writes one file of at least `target` bytes (at most one word and a line end
// more), ending at a line end. Returns "" or an error naming the file.
class FileWriter {
 public:
  FileWriter(const Options& options, const std::vector<WordSlot>& vocabulary,
             const ZipfSampler& sampler)
      : options_(options), vocabulary_(vocabulary), sampler_(sampler) {
    words_min_ = std::max(1u, options.words_per_line - options.words_per_line / 2);
    words_span_ = options.words_per_line + options.words_per_line / 2 - words_min_ + 1;
    const uint64_t max_line = uint64_t(words_min_ + words_span_) * (2 + sizeof(WordSlot)) + 2;
    buffer_.resize(kFlushBytes + max_line + sizeof(WordSlot));
  }

  std::string Write(uint32_t file_index, uint64_t target, uint64_t* bytes_written) {
    const std::string path = FilePath(options_.output, file_index);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError(path, "cannot create", errno);
    std::string error = Generate(fd, path, StreamSeed(options_.seed, uint64_t(file_index) + 1),
                                 target, bytes_written);
    if (::close(fd) != 0 && error.empty()) error = IoError(path, "close failed", errno);
    return error;
  }

 private:
  static constexpr size_t kFlushBytes = 8 << 20;  // larger: fewer syscalls, more memory per thread

  std::string Generate(int fd, const std::string& path, uint64_t seed, uint64_t target,
                       uint64_t* bytes_written) {
    // Two streams, so that ranks can be drawn ahead in batches.
    Xoshiro256 word_rng(StreamSeed(seed, 0));
    Xoshiro256 layout_rng(StreamSeed(seed, 1));
    next_rank_ = ZipfSampler::kBatch;
    char* const begin = buffer_.data();
    char* const flush_at = begin + kFlushBytes;
    char* out = begin;
    uint64_t flushed = 0;
    uint64_t line = 0;
    uint64_t separator_bits = 0;
    int separators_left = 0;
    while (flushed + uint64_t(out - begin) < target) {
      if (out >= flush_at) {
        if (std::string error = Flush(fd, path, begin, out); !error.empty()) return error;
        flushed += uint64_t(out - begin);
        out = begin;
      }
      ++line;
      const bool crlf = options_.crlf_every != 0 && line % options_.crlf_every == 0;
      const uint64_t line_end = crlf ? 2 : 1;
      const uint64_t room = target - flushed - uint64_t(out - begin);
      const char* const line_start = out;
      const uint32_t words = words_min_ + Bounded(layout_rng.Next(), words_span_);
      for (uint32_t w = 0; w < words; ++w) {
        const WordSlot& word = NextWord(word_rng);
        uint64_t separator = 0;
        char separator_char = ' ';
        if (w > 0) {
          if (separators_left == 0) {
            separator_bits = layout_rng.Next();
            separators_left = 8;
          }
          const uint32_t byte = uint32_t(separator_bits & 0xFF);
          separator_bits >>= 8;
          --separators_left;
          separator = byte >= 8 && byte < 16 ? 2 : 1;  // 1/32 two spaces
          if (byte < 8) separator_char = '\t';         // 1/32 tab
          if (uint64_t(out - line_start) + separator + word.length + line_end > room) break;
        }
        out[0] = separator_char;
        out[1] = ' ';
        out += separator;
        std::memcpy(out, &word, sizeof word);
        out += word.length;
      }
      if (crlf) *out++ = '\r';
      *out++ = '\n';
    }
    if (std::string error = Flush(fd, path, begin, out); !error.empty()) return error;
    *bytes_written = flushed + uint64_t(out - begin);
    return "";
  }

  const WordSlot& NextWord(Xoshiro256& rng) {
    if (next_rank_ == ZipfSampler::kBatch) {
      sampler_.SampleBatch(rng, ranks_);
      for (uint32_t rank : ranks_) __builtin_prefetch(&vocabulary_[rank]);
      next_rank_ = 0;
    }
    return vocabulary_[ranks_[next_rank_++]];
  }

  static std::string Flush(int fd, const std::string& path, const char* data, const char* end) {
    while (data < end) {
      const ssize_t n = ::write(fd, data, size_t(end - data));
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError(path, "write failed", errno);
      }
      data += n;
    }
    return "";
  }

  const Options& options_;
  const std::vector<WordSlot>& vocabulary_;
  const ZipfSampler& sampler_;
  uint32_t words_min_;
  uint32_t words_span_;
  std::vector<char> buffer_;
  std::array<uint32_t, ZipfSampler::kBatch> ranks_;
  int next_rank_ = ZipfSampler::kBatch;
};

// Notes text-NNNNN.txt files from an earlier run with more files: a job over
// DIR would read them too.
void WarnAboutStaleFiles(const Options& options) {
  std::error_code error;
  uint32_t stale = 0;
  for (const auto& entry : std::filesystem::directory_iterator(options.output, error)) {
    const std::string name = entry.path().filename().string();
    unsigned index = 0;
    char tail[8] = {};
    if (name.size() == 14 && std::sscanf(name.c_str(), "text-%5u.%3s", &index, tail) == 2 &&
        std::strcmp(tail, "txt") == 0 && index >= options.files) {
      ++stale;
    }
  }
  if (stale != 0) {
    std::fprintf(stderr, "%s: warning: %s also holds %u text-*.txt files not written by this run\n",
                 kProgram, options.output.c_str(), stale);
  }
}

int Run(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  std::error_code fs_error;
  std::filesystem::create_directories(options.output, fs_error);
  if (fs_error) {
    std::fprintf(stderr, "%s: %s: cannot create directory: %s\n", kProgram, options.output.c_str(),
                 fs_error.message().c_str());
    return kExitIo;
  }

  const std::vector<WordSlot> vocabulary =
      BuildVocabulary(options.vocab, options.seed, options.threads);
  const ZipfSampler sampler(options.vocab, options.zipf_q24, options.threads);
  const auto generated = std::chrono::steady_clock::now();

  const uint32_t files = options.files;
  std::vector<std::string> errors(files);
  std::vector<uint64_t> written(files, 0);
  std::atomic<uint32_t> next_file{0};
  std::atomic<bool> failed{false};
  auto worker = [&] {
    FileWriter writer(options, vocabulary, sampler);
    for (uint32_t i = next_file++; i < files && !failed; i = next_file++) {
      const uint64_t target = options.bytes / files + (i < options.bytes % files ? 1 : 0);
      errors[i] = writer.Write(i, target, &written[i]);
      if (!errors[i].empty()) failed = true;
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::min<unsigned>(options.threads, files); ++t) {
    threads.emplace_back(worker);
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& error : errors) {
    if (!error.empty()) {
      std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
      return kExitIo;
    }
  }
  WarnAboutStaleFiles(options);

  const auto end = std::chrono::steady_clock::now();
  uint64_t total = 0;
  for (uint64_t n : written) total += n;
  const double setup_s = std::chrono::duration<double>(generated - start).count();
  const double write_s = std::chrono::duration<double>(end - generated).count();
  std::fprintf(stderr,
               "%s: wrote %llu bytes in %u files to %s (vocab %u, zipf %s, seed %llu); "
               "vocabulary %.2f s, text %.2f s (%.0f MB/s)\n",
               kProgram, static_cast<unsigned long long>(total), files, options.output.c_str(),
               options.vocab, options.zipf_text.c_str(),
               static_cast<unsigned long long>(options.seed), setup_s, write_s,
               write_s > 0 ? double(total) / 1e6 / write_s : 0.0);
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  const sluice::Options options = sluice::ParseArguments(argc, argv);
  try {
    return sluice::Run(options);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: out of memory (vocab %u needs about %llu MB)\n", sluice::kProgram,
                 options.vocab,
                 static_cast<unsigned long long>(uint64_t(options.vocab) * 48 >> 20));
    return sluice::kExitOutOfMemory;
  }
}
