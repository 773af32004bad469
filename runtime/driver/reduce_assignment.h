// Which rank reduces which partition: by weight, not by p mod ranks.
//
// The weights are the bytes a key sample says each partition will receive
// (reduce_sampling.h). Output never depends on this: a partition's part
// file is the same whichever rank writes it, so the assignment may use
// the rank count freely. Internal to runtime/driver/.
#pragma once

#include <cstdint>
#include <vector>

namespace sluice {

// Longest processing time first: partitions, heaviest first (ties: lower
// index first), each go to the rank with the least weight so far (ties:
// lower rank). Each partition also counts one byte, so that partitions the
// sample never saw still spread over the ranks. With at least as many
// partitions as ranks, every rank gets one. The same inputs give the same
// owners on every rank.
std::vector<int> AssignPartitions(const std::vector<uint64_t>& weights, int ranks);

// The heaviest rank's weight over the mean rank's (1.0: even), for the log
// and the report. 0 when there is no weight at all. A partition without
// an owner in [0, ranks) adds to the mean only.
double HeaviestOverMean(const std::vector<uint64_t>& weights, const std::vector<int>& owners, int ranks);
// The same for loads already summed per rank (bytes each rank received).
double HeaviestOverMean(const std::vector<uint64_t>& per_rank);

}  // namespace sluice
