#include "runtime/driver/reduce_tasks.h"

#include <xxhash.h>

#include <algorithm>
#include <utility>

#include "shuffle/serde.h"

namespace sluice {

ReduceTasks ReduceTasks::OnePerPartition(uint32_t partitions) {
  return FromCuts(std::vector<std::vector<std::string>>(partitions));
}

ReduceTasks ReduceTasks::FromCuts(std::vector<std::vector<std::string>> cuts) {
  ReduceTasks t;
  t.first_.reserve(cuts.size() + 1);
  uint32_t next = 0;
  for (const auto& c : cuts) {
    t.first_.push_back(next);
    next += static_cast<uint32_t>(c.size()) + 1;
  }
  t.first_.push_back(next);
  t.cuts_ = std::move(cuts);
  return t;
}

uint32_t ReduceTasks::PartitionOf(uint32_t task) const {
  return static_cast<uint32_t>(std::upper_bound(first_.begin(), first_.end(), task) - first_.begin()) - 1;
}

std::string ReduceTasks::Encode() const {
  std::string out;
  sluice::Encode(&out, static_cast<uint64_t>(cuts_.size()));
  for (const auto& c : cuts_) {
    sluice::Encode(&out, static_cast<uint64_t>(c.size()));
    for (const std::string& key : c) sluice::Encode(&out, key);
  }
  return out;
}

Result<ReduceTasks> ReduceTasks::Decode(std::string_view bytes) {
  ByteReader r{bytes.data(), bytes.data() + bytes.size()};
  uint64_t partitions = 0;
  if (!sluice::Decode(r, &partitions) || partitions > bytes.size()) {
    return Status::Internal("malformed reduce task table");
  }
  std::vector<std::vector<std::string>> cuts(partitions);
  for (auto& c : cuts) {
    uint64_t n = 0;
    if (!sluice::Decode(r, &n) || n >= kMaxPiecesPerPartition) return Status::Internal("malformed reduce task table");
    c.resize(n);
    for (std::string& key : c) {
      if (!sluice::Decode(r, &key)) return Status::Internal("malformed reduce task table");
    }
  }
  if (r.p != r.end) return Status::Internal("malformed reduce task table");
  return FromCuts(std::move(cuts));
}

uint64_t ReduceTasks::Hash() const {
  const std::string bytes = Encode();
  return XXH3_64bits(bytes.data(), bytes.size());
}

uint32_t PiecesFor(uint64_t estimated_bytes, uint64_t task_bytes, size_t distinct_sampled_keys) {
  if (task_bytes == 0 || distinct_sampled_keys <= 1) return 1;
  const uint64_t wanted = estimated_bytes / task_bytes + (estimated_bytes % task_bytes != 0);
  const uint64_t most = std::min<uint64_t>(distinct_sampled_keys, kMaxPiecesPerPartition);
  return static_cast<uint32_t>(std::clamp<uint64_t>(wanted, 1, most));
}

std::vector<std::string> CutAtWeight(const std::vector<std::pair<std::string, uint64_t>>& keys, uint32_t pieces,
                                     std::vector<uint64_t>* piece_weights) {
  uint64_t total = 0;
  for (const auto& k : keys) total += k.second;
  std::vector<std::string> cuts;
  piece_weights->assign(1, 0);
  uint64_t before = 0;  // weight of the keys before keys[j]
  for (size_t j = 0; j < keys.size(); ++j) {
    const uint64_t next = cuts.size() + 1;
    // Cut before keys[j] once its middle passes the next piece's end, so
    // that a key heavier than a piece starts one of its own; exact:
    // (before + w/2) * pieces >= total * next.
    const __int128 middle2 = static_cast<__int128>(before) * 2 + keys[j].second;
    if (j > 0 && next < pieces && middle2 * pieces >= static_cast<__int128>(total) * next * 2) {
      cuts.push_back(keys[j].first);
      piece_weights->push_back(0);
    }
    piece_weights->back() += keys[j].second;
    before += keys[j].second;
  }
  return cuts;
}

}  // namespace sluice
