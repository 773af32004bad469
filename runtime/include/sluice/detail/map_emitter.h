// The map side of the engine: partitions, combines, and packs what map()
// emits into compressed blocks for the owning rank.
//
// Compiled into each job (template on the job type), so emit() and the
// job's Combine() inline into the user's map loop.
#pragma once

#include <algorithm>
#include <concepts>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io/status.h"
#include <sluice/counters.h>
#include <sluice/detail/job_settings.h>
#include <sluice/detail/step_times.h>
#include "shuffle/block_codec.h"
#include "shuffle/float_keys.h"
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

// True when job J also declares `void CombineInto(Value& into, const Value&
// from)`: the same merge, in place (into = Combine(into, from)). The
// combiner tables call it instead of Combine, so a value that is costly to
// copy is not copied twice per record.
// `into` must be a non-const reference: a CombineInto that takes it by
// value or const& (so would also take a temporary) would merge nothing.
template <class J>
concept HasCombineInto =
    HasCombiner<J> &&
    requires(J& job, typename J::Value& into, const typename J::Value& from) {
      { job.CombineInto(into, from) } -> std::same_as<void>;
    } && !requires(J& job, const typename J::Value& from) {
      job.CombineInto(std::declval<typename J::Value>(), from);
    };

// True when the engine can call J's Reduce. A job without one must declare
// kMapOnly (job_traits.h refuses anything else): what map() emits is then
// written straight to the output, one part file per input split.
template <class J>
concept HasReduce = requires(J& job, const typename J::KeyView& key, typename J::Values& values,
                             typename J::Output& out) { job.Reduce(key, values, out); };

// Range partitioning: a job that sets `static constexpr bool
// kRangePartitioned = true;` gets part files in global key order
// (part-00000 < part-00001 < ...), cut at keys sampled from its input.
template <class J>
constexpr bool RangePartitioned() {
  if constexpr (requires { J::kRangePartitioned; }) {
    return J::kRangePartitioned;
  } else {
    return false;
  }
}

// A job that skips its reduce phase for some parameters (job.h:
// RunsMapOnly): its emits check at run time where they go.
template <class J>
concept MayRunMapOnly = HasReduce<J> && requires(const J& job) {
  { job.RunsMapOnly() } -> std::convertible_to<bool>;
};

// A string-keyed job that partitions on part of its key (job.h: PartitionBytes).
template <class J>
concept HasPartitionBytes = requires(J& job, std::string_view key, std::string* scratch) {
  { job.PartitionBytes(key, scratch) } -> std::convertible_to<std::string_view>;
};

// Secondary sort: a job whose key is a pair or tuple may set `static
// constexpr size_t kGroupFields = N;`. Records are partitioned and grouped
// on the first N fields and sorted on the whole key, so reduce() sees one
// group per distinct prefix with its values ordered by the rest of the key.
template <class J>
constexpr size_t GroupFields() {
  if constexpr (requires { J::kGroupFields; }) {
    return J::kGroupFields;
  } else {
    return 0;
  }
}

// The first N fields of a pair or tuple key, as a tuple of references.
template <size_t N, class T>
auto GroupPrefix(const T& key) {
  return [&key]<size_t... I>(std::index_sequence<I...>) {
    return std::tie(std::get<I>(key)...);
  }(std::make_index_sequence<N>());
}

// The job's Combine as a callable for StringCombineTable (map and reduce
// sides). Only instantiated for jobs that have a combiner.
//
// `*running` is set while Combine runs and stays set when it throws. That is
// how the engine tells a Combine that threw (exit 6, "combine() threw")
// from a Map that threw, without a try/catch per call: Combine runs inside
// emit(), inside Map, and the engine catches once per chunk of input, per
// table flush, per partition. When Combine cannot throw (wordcount's a + b,
// inlined) the compiler drops the first store as dead.
template <class J>
struct CombineWith {
  J* job;
  bool* running;
  typename J::Value operator()(const typename J::Value& a, const typename J::Value& b) const {
    *running = true;
    typename J::Value out = job->Combine(a, b);
    *running = false;
    return out;
  }
  // into = Combine(into, from), in place when the job has CombineInto.
  void Into(typename J::Value& into, const typename J::Value& from) const {
    *running = true;
    if constexpr (HasCombineInto<J>) {
      job->CombineInto(into, from);
    } else {
      into = job->Combine(into, from);
    }
    *running = false;
  }
};

template <class J>
class MapEmitter {
 public:
  using K = typename J::Key;
  using V = typename J::Value;
  // String keys are emitted as views: no std::string is built per record.
  using KeyArg = std::conditional_t<std::is_same_v<K, std::string>, std::string_view, const K&>;
  // String values likewise.
  using ValueArg = std::conditional_t<std::is_same_v<V, std::string>, std::string_view, const V&>;

  MapEmitter(J* job, const JobSettings& settings, BlockTransport* transport, TaskCounters* counters)
      : job_(job),
        settings_(settings),
        transport_(transport),
        counters_(counters),
        encoder_(settings.compression_level),
        parts_(settings.partitions),
        table_(MakeTable(job, &in_combine_, settings.combine_bytes)),
        combine_{job, &in_combine_} {}

  // Inlined into the job's map loop: one call per record would cost as
  // much as a combine table hit.
  [[gnu::always_inline]] void operator()(KeyArg key, ValueArg value) {
    if (sample_ != nullptr) [[unlikely]] {  // the sampling pass before the map phase
      Sample(key, value);
      return;
    }
    ++counters_->map_output_records;
    if constexpr (MayRunMapOnly<J>) {
      if (direct_ != nullptr) {  // this run is map-only
        (*direct_)(key, value);
        return;
      }
    }
    if constexpr (!HasReduce<J>) {
      (*direct_)(key, value);
    } else if constexpr (HasCombiner<J> && kStringKey) {
      ++counters_->combine_input_records;
      if constexpr (std::is_same_v<ValueArg, const V&>) {
        table_.Add(key, Table::Hash(key), value);  // no temporary copy of a user value
      } else {
        table_.Add(key, Table::Hash(key), V(value));
      }
      if (table_.full()) FlushTable();
    } else if constexpr (HasCombiner<J>) {
      ++counters_->combine_input_records;
      auto it = table_.find(key);
      if (it != table_.end()) {
        combine_.Into(it->second, V(value));
        return;
      }
      table_.emplace(K(key), V(value));
      table_bytes_ += ApproxBytes(key) + sizeof(V) + kTableEntryOverhead;
      if (table_bytes_ >= settings_.combine_bytes) FlushTable();
    } else {
      Append(key, value);
    }
  }

  // Engine side. Blocks never span splits, so that values reach reduce() in
  // input order: blocks sort by (split, seq) on the reduce side.
  //
  // The combine table starts each split at its first size: the order it
  // drains keys in, and so the bytes of this split's blocks, must not depend
  // on the splits this rank ran before. A re-run reuses saved tasks next to
  // fresh ones, and the manifest's shuffle byte counts must match a run
  // that did them all afresh, on any number of ranks.
  //
  // `split_bytes` sizes the string table for the split: a slot per 32 bytes
  // of input (a distinct key per 64 bytes at half load, more than source
  // code or prose has), within its budget. Growing from the first size
  // instead cost every split of a 64 MiB WordCount seven doublings, each
  // zeroing fresh pages and rehashing.
  void BeginSplit(uint32_t split, uint64_t split_bytes = 0) {
    split_ = split;
    for (Partition& p : parts_) p.seq = 0;
    if constexpr (HasCombiner<J> && kStringKey) {
      table_.Reset(static_cast<size_t>(std::min<uint64_t>(split_bytes / 32, SIZE_MAX)));
    } else if constexpr (HasCombiner<J>) {
      table_ = Table();
      table_bytes_ = 0;
    }
  }
  // Flushes the combiner and every partition buffer.
  Status EndSplit() {
    if constexpr (HasCombiner<J>) FlushTable();
    for (uint32_t p = 0; p < parts_.size(); ++p) FlushPartition(p);
    return status_;
  }
  // First error of a block encode, if any (sticky).
  const Status& status() const { return status_; }
  // True once the job's Combine threw (see CombineWith): what emit() or
  // EndSplit() threw came from Combine, not from the code around it.
  bool combine_threw() const { return in_combine_; }
  // True once sending a block threw: the engine failed, not the job's code.
  bool send_threw() const { return in_send_; }
  // Step times (step_times.h): the emitter fills serialize, compress and
  // send; the map loop fills read and map. flush_ns(): all the time spent
  // in table and block flushes so far, which the map loop takes out of its
  // chunks' time.
  EngineStepTimes& step_times() { return times_; }
  uint64_t flush_ns() const { return flush_ns_; }

  // Range partitioning: keys below cuts[0] go to partition 0, keys in
  // [cuts[i-1], cuts[i]) to partition i. partitions - 1 cuts, sorted.
  void SetRangeCuts(std::vector<K> cuts) { cuts_ = std::move(cuts); }
  // While set, emit() only records here each record's key encoding
  // followed by the size of its value's encoding as a uint64_t (the key
  // decodes from the front; a large value costs the sample 8 bytes).
  void SampleInto(std::vector<std::string>* records) { sample_ = records; }
  // Bytes recorded into the sample so far.
  uint64_t sample_bytes() const { return sample_bytes_; }
  // Reduce tasks (runtime/driver/reduce_tasks.h): partition p is cut into
  // piece_cuts[p].size() + 1 tasks at those keys (sorted, distinct), in
  // key order, numbered on from the tasks of the partitions before it.
  // Until set, task p is partition p. Blocks carry the task's number.
  void SetReduceTasks(std::vector<std::vector<K>> piece_cuts) {
    first_task_.assign(piece_cuts.size() + 1, 0);
    bool any_cut = false;
    for (size_t p = 0; p < piece_cuts.size(); ++p) {
      first_task_[p + 1] = first_task_[p] + static_cast<uint32_t>(piece_cuts[p].size()) + 1;
      any_cut = any_cut || !piece_cuts[p].empty();
    }
    piece_cuts_ = std::move(piece_cuts);
    if (!any_cut) first_task_.clear();  // the common case: TaskOf is the identity
    const uint64_t tasks = any_cut ? first_task_.back() : settings_.partitions;
    parts_.resize(tasks);
    // The buffers together stay within the share --memory gives them
    // (partitions x block size), however many tasks there are.
    block_bytes_ = std::max<uint64_t>(settings_.block_bytes * settings_.partitions / tasks,
                                      std::min<uint64_t>(settings_.block_bytes, kMinTaskBlockBytes));
  }
  // Which rank reduces each task (reduce_assignment.h). Until set, task t
  // goes to rank t mod ranks.
  void SetOwners(std::vector<int> owners) { owners_ = std::move(owners); }
  // The partition `key` belongs to (range cuts, if any, already set).
  uint32_t PartitionOfKey(const K& key) { return PartitionFor(key); }
  // Map-only jobs: where emit() writes, for the current split.
  void WriteTo(typename J::Output* output) { direct_ = output; }

 private:
  [[gnu::noinline]] void Sample(KeyArg key, ValueArg value) {
    sample_->emplace_back();
    EncodeKey(&sample_->back(), key);
    key_scratch_.clear();
    Encode(&key_scratch_, value);  // its size is what the weight needs
    Encode(&sample_->back(), static_cast<uint64_t>(key_scratch_.size()));
    sample_bytes_ += sample_->back().size();
  }

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

  uint32_t PartitionFor(KeyArg key) {
    if constexpr (RangePartitioned<J>()) {
      return static_cast<uint32_t>(std::upper_bound(cuts_.begin(), cuts_.end(), key, KeyOrder()) -
                                   cuts_.begin());
    } else if constexpr (HasPartitionBytes<J>) {
      return PartitionOf(job_->PartitionBytes(key, &key_scratch_), settings_.partitions);
    } else if constexpr (GroupFields<J>() > 0) {
      key_scratch_.clear();
      EncodeKey(&key_scratch_, GroupPrefix<GroupFields<J>()>(key));
      return PartitionOf(key_scratch_, settings_.partitions);
    } else {
      return PartitionOf(KeyBytes(key, &key_scratch_), settings_.partitions);
    }
  }

  void Append(KeyArg key, ValueArg value) { AppendTo(TaskOf(PartitionFor(key), key), key, value); }

  // The reduce task of `key`, which belongs to partition p.
  uint32_t TaskOf(uint32_t p, KeyArg key) const {
    if (first_task_.empty()) return p;
    const std::vector<K>& cuts = piece_cuts_[p];
    return first_task_[p] +
           static_cast<uint32_t>(std::upper_bound(cuts.begin(), cuts.end(), key, KeyOrder()) - cuts.begin());
  }

  // `p` is a reduce task (see SetReduceTasks).
  void AppendTo(uint32_t p, KeyArg key, ValueArg value) {
    Partition& part = parts_[p];
    EncodeKey(&part.raw, key);  // canonical: what Reduce sees (float_keys.h)
    Encode(&part.raw, value);
    ++part.records;
    if (part.raw.size() >= block_bytes_) FlushPartition(p);
  }

  // Times the outermost flush (a table flush flushes blocks inside it).
  class FlushTimer {
   public:
    explicit FlushTimer(MapEmitter* e) : e_(e), outer_(e->flush_depth_++ == 0) {
      if (!outer_) return;
      e_->inner_at_start_ = e_->times_.compress_ns + e_->times_.send_ns;
      start_ = StepClockNs();
    }
    FlushTimer(const FlushTimer&) = delete;
    FlushTimer& operator=(const FlushTimer&) = delete;
    ~FlushTimer() {
      --e_->flush_depth_;
      if (!outer_) return;
      const uint64_t took = StepClockNs() - start_;
      e_->flush_ns_ += took;
      // Serializing is what the flush did besides compressing and sending.
      const uint64_t inner = (e_->times_.compress_ns + e_->times_.send_ns) - e_->inner_at_start_;
      e_->times_.serialize_ns += took > inner ? took - inner : 0;
    }

   private:
    MapEmitter* e_;
    bool outer_;
    uint64_t start_ = 0;
  };

  void FlushTable() {
    FlushTimer timer(this);
    if constexpr (kStringKey) {
      // The stored xxh3 is the partition hash too (PartitionOf = xxh3 mod P).
      table_.ForEach([this](std::string_view key, uint64_t hash, const V& value) {
        if constexpr (RangePartitioned<J>()) {
          AppendTo(TaskOf(PartitionFor(key), key), key, value);
        } else {
          AppendTo(TaskOf(static_cast<uint32_t>(hash % settings_.partitions), key), key, value);
        }
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
    FlushTimer timer(this);
    BlockInfo info;
    info.partition = p;
    info.split = split_;
    info.seq = part.seq++;
    info.records = part.records;
    const int dest = owners_.empty() ? OwnerOf(p, transport_->size()) : owners_[p];
    const BlockPayload payload = settings_.compress_node_local || !transport_->SharesNodeWith(dest)
                                     ? BlockPayload::kZstd
                                     : BlockPayload::kStored;
    std::string frame;
    Status s;
    {
      StepTimer compressing(&times_.compress_ns);
      s = encoder_.Encode(info, part.raw, &frame, payload);
    }
    if (!s.ok()) {
      if (status_.ok()) status_ = s;
    } else {
      counters_->shuffle_records += part.records;
      counters_->shuffle_blocks += 1;
      counters_->shuffle_raw_bytes += part.raw.size();
      counters_->shuffle_packed_bytes += frame.size();
      // Set while the block goes to the transport, and left set if that
      // throws: under one rank it lands in this rank's shuffle store, whose
      // spill runs inside emit(), so a throw from there would otherwise
      // read as the job's map() failing.
      in_send_ = true;
      {
        StepTimer sending(&times_.send_ns);
        transport_->SendBlock(dest, std::move(frame));
      }
      in_send_ = false;
    }
    part.raw.clear();
    part.records = 0;
  }

  // Hash for non-string keys: through their key encoding, so tuples and
  // user types need no std::hash specialization, and it agrees with
  // KeyEqual on -0.0 and NaN (float_keys.h). (String keys use
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
                                   std::unordered_map<K, V, KeyHash, KeyEqual>>;
  static Table MakeTable(J* job, bool* in_combine, uint64_t budget) {
    if constexpr (kStringKey) {
      return Table(CombineWith<J>{job, in_combine}, 4096, budget);
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
  std::vector<K> cuts_;
  std::vector<std::string>* sample_ = nullptr;
  std::vector<int> owners_;
  static constexpr uint64_t kMinTaskBlockBytes = 4 << 10;
  uint64_t block_bytes_ = settings_.block_bytes;  // a task's buffer flushes at this size
  std::vector<uint32_t> first_task_;       // empty: one task per partition
  std::vector<std::vector<K>> piece_cuts_;  // per partition (SetReduceTasks)
  uint64_t sample_bytes_ = 0;
  typename J::Output* direct_ = nullptr;
  bool in_combine_ = false;  // CombineWith::running, for table_ and combine_
  bool in_send_ = false;     // see FlushPartition
  EngineStepTimes times_;
  uint64_t flush_ns_ = 0;        // in outermost flushes (FlushTimer)
  uint32_t flush_depth_ = 0;
  uint64_t inner_at_start_ = 0;  // compress + send when the outermost flush began
  Table table_;
  CombineWith<J> combine_;  // for the non-string table
  size_t table_bytes_ = 0;
  Status status_;
};

}  // namespace sluice
