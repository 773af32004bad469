// Reduce tasks: what one reduce call covers. A partition is one task,
// unless the key sample says it is heavier than --reduce-task-size: then it
// is cut at sampled keys into pieces, each a key range of it reduced as a
// task of its own, possibly on different ranks, and the pieces' outputs are
// joined in key order into the partition's one part file.
//
// The cuts depend on the sample alone (the same splits whatever the rank
// count: reduce_sampling.h), never on the ranks, so a part's bytes are the
// same on any number of ranks even where pieces cannot be joined without a
// trace (a compressed part is one compressed member per piece). Internal to
// runtime/driver/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/status.h"

namespace sluice {

class ReduceTasks {
 public:
  ReduceTasks() = default;
  // One task per partition: task p is partition p.
  static ReduceTasks OnePerPartition(uint32_t partitions);
  // Partition p in cuts[p].size() + 1 pieces: keys below cuts[p][0], then
  // [cuts[p][i-1], cuts[p][i]), ... (encoded keys, strictly increasing).
  static ReduceTasks FromCuts(std::vector<std::vector<std::string>> cuts);

  uint32_t partitions() const { return static_cast<uint32_t>(cuts_.size()); }
  uint32_t count() const { return first_.empty() ? 0 : first_.back(); }
  bool one_per_partition() const { return count() == partitions(); }
  // Partition p's tasks are first(p) .. first(p) + pieces(p) - 1, in key order.
  uint32_t first(uint32_t p) const { return first_[p]; }
  uint32_t pieces(uint32_t p) const { return first_[p + 1] - first_[p]; }
  const std::vector<std::string>& cuts(uint32_t p) const { return cuts_[p]; }
  uint32_t PartitionOf(uint32_t task) const;
  uint32_t PieceOf(uint32_t task) const { return task - first_[PartitionOf(task)]; }

  // Names the table in saved map tasks: blocks carry task numbers, so a
  // task saved under another table must be mapped again.
  uint64_t Hash() const;
  std::string Encode() const;
  static Result<ReduceTasks> Decode(std::string_view bytes);

 private:
  std::vector<uint32_t> first_;  // partitions + 1 entries
  std::vector<std::vector<std::string>> cuts_;
};

// How many pieces a partition whose reduce input is estimated at
// `estimated_bytes` is cut into, for tasks of about `task_bytes` each: at
// least 1, and no more than `distinct_sampled_keys` (a cut lies between two
// sampled keys) or kMaxPiecesPerPartition.
inline constexpr uint32_t kMaxPiecesPerPartition = 256;
uint32_t PiecesFor(uint64_t estimated_bytes, uint64_t task_bytes, size_t distinct_sampled_keys);

// Cuts one partition's sampled keys (distinct, in key order, with their
// sampled bytes) into `pieces` runs of about equal weight. Returns the
// cuts (each the first key of a piece after the first; strictly
// increasing, fewer than pieces - 1 where one key outweighs a piece) and
// sets `piece_weights` (cuts + 1 entries).
std::vector<std::string> CutAtWeight(const std::vector<std::pair<std::string, uint64_t>>& keys, uint32_t pieces,
                                     std::vector<uint64_t>* piece_weights);

}  // namespace sluice
