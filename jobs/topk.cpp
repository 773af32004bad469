// TopK: the k highest-scoring items of each key.
//
//   sluice run topk --param k=3 --input scores/ --output top/
//
// Input lines: "key\tscore\titem", score a decimal integer (int64), item the
// rest of the line. Output: for each key, up to k lines
// "key\trank\tscore\titem", rank 1 the best: higher score first, on equal
// scores the byte-wise smaller item. An item listed twice counts twice.
// A line without two tabs or with a score that is not an integer is a bad
// record (skipped up to --max-bad-records, listed in OUTPUT/_bad_records).
//
// The combiner keeps only the best k per key and split, so the shuffle
// carries at most k items per key and split, however many lines there are.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <sluice/job.h>

namespace {

using ScoredItem = std::pair<int64_t, std::string>;

bool Better(const ScoredItem& a, const ScoredItem& b) {
  return a.first != b.first ? a.first > b.first : a.second < b.second;
}

// The best items of a key seen so far, best first, at most k of them.
struct TopItems {
  std::vector<ScoredItem> items;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(items);
  }
};

class TopK : public sluice::Job<TopK, std::string, TopItems> {
 public:
  static constexpr sluice::Param<uint64_t> kK{"k", 10, "items kept per key"};
  static constexpr auto kParams = sluice::ParamTable(kK);

  TopK() {
    if (k_ == 0) throw sluice::JobParamError("parameter 'k': must be at least 1");
  }

  void Map(std::string_view line, Emitter& emit) {
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string_view::npos ? tab1 : line.find('\t', tab1 + 1);
    int64_t score = 0;
    if (tab2 == std::string_view::npos) throw sluice::BadRecord("fewer than two tabs");
    const std::string_view text = line.substr(tab1 + 1, tab2 - tab1 - 1);
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), score);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      throw sluice::BadRecord("score is not an integer");
    }
    emit(line.substr(0, tab1), TopItems{{{score, std::string(line.substr(tab2 + 1))}}});
  }

  // Merges two best-first lists and keeps the best k: associative, and the
  // result does not depend on the order the lists come in.
  // Sums (a best-k list, exact aggregates) fold in any order and Reduce
  // reads only the fold: --incremental may build on the previous result.
  static constexpr bool kMergeable = true;

  TopItems Combine(const TopItems& a, const TopItems& b) {
    TopItems best;
    best.items.reserve(std::min<size_t>(k_, a.items.size() + b.items.size()));
    std::merge(a.items.begin(), a.items.end(), b.items.begin(), b.items.end(),
               std::back_inserter(best.items), Better);
    if (best.items.size() > k_) best.items.resize(k_);
    return best;
  }

  void Reduce(std::string_view key, Values& values, Output& out) {
    TopItems best;
    for (const TopItems& v : values) best = Combine(best, v);
    uint64_t rank = 0;
    for (const auto& [score, item] : best.items) {
      out(key, std::tuple(++rank, score, std::string_view(item)));
    }
  }

 private:
  const uint64_t k_ = param(kK);
};

}  // namespace

SLUICE_JOB(TopK, "topk",
           "The k highest-scoring items per key, from tab-separated key, score, item lines")
