#include "runtime/driver/reduce_assignment.h"

#include <algorithm>
#include <numeric>

namespace sluice {

std::vector<int> AssignPartitions(const std::vector<uint64_t>& weights, int ranks) {
  std::vector<uint32_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return weights[a] > weights[b]; });
  std::vector<uint64_t> load(static_cast<size_t>(std::max(ranks, 1)), 0);
  std::vector<int> owners(weights.size(), 0);
  for (uint32_t p : order) {
    const int lightest = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    owners[p] = lightest;
    load[static_cast<size_t>(lightest)] += weights[p] + 1;
  }
  return owners;
}

double HeaviestOverMean(const std::vector<uint64_t>& weights, const std::vector<int>& owners, int ranks) {
  std::vector<uint64_t> load(static_cast<size_t>(std::max(ranks, 1)), 0);
  uint64_t total = 0;
  for (size_t p = 0; p < weights.size(); ++p) {
    total += weights[p];
    // An owner missing or past `ranks` (a mismatched report) counts toward
    // the mean only: nothing is indexed out of range.
    if (p >= owners.size() || owners[p] < 0 || static_cast<size_t>(owners[p]) >= load.size()) continue;
    load[static_cast<size_t>(owners[p])] += weights[p];
  }
  if (total == 0) return 0;
  const double mean = static_cast<double>(total) / static_cast<double>(load.size());
  return static_cast<double>(*std::max_element(load.begin(), load.end())) / mean;
}

double HeaviestOverMean(const std::vector<uint64_t>& per_rank) {
  std::vector<int> each_its_own(per_rank.size());
  std::iota(each_its_own.begin(), each_its_own.end(), 0);
  return HeaviestOverMean(per_rank, each_its_own, static_cast<int>(per_rank.size()));
}

}  // namespace sluice
