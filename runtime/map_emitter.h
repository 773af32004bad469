// The map side of the engine: partitions, combines, and packs what map()
// emits into compressed blocks for the owning rank.
//
// Compiled into each job (template on the job type), so emit() and the
// job's Combine() inline into the user's map loop.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "io/status.h"
#include "runtime/counters.h"
#include "runtime/job_settings.h"
#include "shuffle/block_codec.h"
#include "shuffle/partitioner.h"
#include "shuffle/serde.h"
#include "shuffle/string_combine_table.h"
#include "shuffle/transport.h"

namespace sluice {

// True when job J declares `Value Combine(const Value&, const Value&)`: an
// associative merge of two values of one key, run before the shuffle.
template <class J>
concept HasCombiner = requires(J& job, const typename J::Value& a) {
  { job.Combine(a, a) } -> std::convertible_to<typename J::Value>;
};

// The job's Combine as a callable for StringCombineTable (map and reduce
// sides). Only instantiated for jobs that have a combiner.
template <class J>
struct CombineWith {
  J* job;
  typename J::Value operator()(const typename J::Value& a, const typename J::Value& b) const {
    return job->Combine(a, b);
  }
};

template <class J>
class MapEmitter {
 public:
  using K = typename J::Key;
  using V = typename J::Value;
  // String keys are emitted as views: no std::string is built per record.
  using KeyArg = std::conditional_t<std::is_same_v<K, std::string>, std::string_view, const K&>;

  MapEmitter(J* job, const JobSettings& settings, BlockTransport* transport, TaskCounters* counters)
      : job_(job),
        settings_(settings),
        transport_(transport),
        counters_(counters),
        encoder_(settings.compression_level),
        parts_(settings.partitions),
        table_(MakeTable(job, settings.combine_bytes)) {}

  void operator()(KeyArg key, const V& value) {
    ++counters_->map_output_records;
    if constexpr (HasCombiner<J> && kStringKey) {
      ++counters_->combine_input_records;
      table_.Add(key, Table::Hash(key), value);
      if (table_.memory_bytes() >= settings_.combine_bytes) FlushTable();
    } else if constexpr (HasCombiner<J>) {
      ++counters_->combine_input_records;
      auto it = table_.find(key);
      if (it != table_.end()) {
        it->second = job_->Combine(it->second, value);
        return;
      }
      table_.emplace(K(key), value);
      table_bytes_ += ApproxBytes(key) + sizeof(V) + kTableEntryOverhead;
      if (table_bytes_ >= settings_.combine_bytes) FlushTable();
    } else {
      Append(key, value);
    }
  }

  // Engine side. Blocks never span splits, so that values reach reduce() in
  // input order: blocks sort by (split, seq) on the reduce side.
  void BeginSplit(uint32_t split) {
    split_ = split;
    for (Partition& p : parts_) p.seq = 0;
  }
  // Flushes the combiner and every partition buffer.
  Status EndSplit() {
    if constexpr (HasCombiner<J>) FlushTable();
    for (uint32_t p = 0; p < parts_.size(); ++p) FlushPartition(p);
    return status_;
  }
  // First error of a block encode, if any (sticky).
  const Status& status() const { return status_; }

 private:
  struct Partition {
    std::string raw;  // serialized records not yet in a block
    uint32_t records = 0;
    uint32_t seq = 0;
  };
  static constexpr size_t kTableEntryOverhead = 64;  // node, bucket, string header

  static size_t ApproxBytes(KeyArg key) {
    if constexpr (std::is_same_v<K, std::string>) {
      return key.size();
    } else {
      return sizeof(K);
    }
  }

  void Append(KeyArg key, const V& value) {
    AppendTo(PartitionOf(KeyBytes(key, &key_scratch_), settings_.partitions), key, value);
  }

  void AppendTo(uint32_t p, KeyArg key, const V& value) {
    Partition& part = parts_[p];
    Encode(&part.raw, key);
    Encode(&part.raw, value);
    ++part.records;
    if (part.raw.size() >= settings_.block_bytes) FlushPartition(p);
  }

  void FlushTable() {
    if constexpr (kStringKey) {
      // The stored xxh3 is the partition hash too (PartitionOf = xxh3 mod P).
      table_.ForEach([this](std::string_view key, uint64_t hash, const V& value) {
        AppendTo(static_cast<uint32_t>(hash % settings_.partitions), key, value);
      });
      // Counted after ForEach: it drains the prefetch queue into the table.
      counters_->combine_output_records += table_.size();
      table_.Clear();
    } else {
      counters_->combine_output_records += table_.size();
      for (const auto& [key, value] : table_) Append(key, value);
      table_.clear();
      table_bytes_ = 0;
    }
  }

  void FlushPartition(uint32_t p) {
    Partition& part = parts_[p];
    if (part.records == 0) return;
    BlockInfo info;
    info.partition = p;
    info.split = split_;
    info.seq = part.seq++;
    info.records = part.records;
    std::string frame;
    Status s = encoder_.Encode(info, part.raw, &frame);
    if (!s.ok()) {
      if (status_.ok()) status_ = s;
    } else {
      counters_->shuffle_records += part.records;
      counters_->shuffle_blocks += 1;
      counters_->shuffle_raw_bytes += part.raw.size();
      counters_->shuffle_packed_bytes += frame.size();
      transport_->SendBlock(OwnerOf(p, transport_->size()), std::move(frame));
    }
    part.raw.clear();
    part.records = 0;
  }

  // Hash for non-string keys: through their encoding, so tuples and user
  // types need no std::hash specialization. (String keys use
  // StringCombineTable.)
  struct KeyHash {
    size_t operator()(const K& k) const {
      thread_local std::string scratch;
      std::string_view bytes = KeyBytes(k, &scratch);
      return XXH3_64bits(bytes.data(), bytes.size());
    }
  };
  static constexpr bool kStringKey = std::is_same_v<K, std::string>;
  using Table = std::conditional_t<kStringKey, StringCombineTable<V, CombineWith<J>>,
                                   std::unordered_map<K, V, KeyHash, std::equal_to<>>>;
  static Table MakeTable(J* job, uint64_t budget) {
    if constexpr (kStringKey) {
      // Start well inside the budget, or an empty table would already be
      // "full" and flush after every record.
      size_t slots = 16;
      while (slots < 4096 && slots * 2 * Table::kSlotBytes * 4 <= budget) slots *= 2;
      return Table(CombineWith<J>{job}, slots);
    } else {
      return Table();
    }
  }

  J* job_;
  JobSettings settings_;
  BlockTransport* transport_;
  TaskCounters* counters_;
  BlockEncoder encoder_;
  std::vector<Partition> parts_;
  uint32_t split_ = 0;
  std::string key_scratch_;
  Table table_;
  size_t table_bytes_ = 0;
  Status status_;
};

}  // namespace sluice
