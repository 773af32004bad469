// The receive side of the shuffle: keeps the blocks this rank owns, within
// the memory budget, and spills sorted runs to scratch beyond it.
//
// Blocks from other nodes arrive compressed, those from this node stored as
// is (block_codec.h), and are kept that way. When the kept bytes pass
// settings.store_bytes, stored blocks are compressed first, oldest first:
// zstd costs less than a spill, and data that fits once compressed stays in
// memory as it did before blocks were stored. Only when none is left is the
// partition holding the most spilled: its blocks are put in input
// order (split, seq), decoded a chunk of at most settings.sort_bytes at a
// time, stably sorted by key, and written as a run. Each record carries its
// origin into the run, so a merge of runs gives equal keys in input order
// and the output is byte-identical to the in-memory path (DESIGN.md,
// invariant 1).
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/fault_points.h"
#include "io/file_system.h"
#include "io/status.h"
#include "shuffle/block_codec.h"
#include "shuffle/float_keys.h"
#include "shuffle/key_prefix.h"
#include "shuffle/prefix_radix_sort.h"
#include "shuffle/reduce_record.h"
#include "shuffle/run_file.h"
#include "shuffle/run_merge.h"
#include "shuffle/serde.h"
#include "shuffle/store_settings.h"
#include "shuffle/transport.h"

namespace sluice {

// Where decoded blocks live while their records are sorted and reduced: one
// uninitialized buffer, kept from one partition (or spill) to the next, so
// decoding neither zero-fills each block nor faults fresh pages in for it.
// In a 1 GB TeraSort those two cost a quarter of the reduce phase.
class DecodeArena {
 public:
  // Room for `bytes`; what was decoded before is gone.
  void Reset(size_t bytes) {
    if (bytes > capacity_) {
      buf_.reset();  // free first: never hold both
      buf_.reset(new char[bytes]);
      capacity_ = bytes;
    }
    used_ = 0;
  }
  char* cursor() { return buf_.get() + used_; }
  size_t left() const { return capacity_ - used_; }
  void Advance(size_t bytes) { used_ += bytes; }

 private:
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

template <class K, class V>
class ShuffleStore final : public BlockReceiver {
 public:
  using Record = ReduceRecord<K, V>;

  struct Partition {
    std::vector<std::string> frames;  // kept in memory, in arrival order
    size_t packed_upto = 0;           // frames before this one are not stored
    uint64_t kept_bytes = 0;          // as kept (compressed or stored)
    uint64_t decoded_bytes = 0;       // what decoding them all would take
    std::vector<RunInfo> runs;        // spilled, oldest first
  };

  ShuffleStore(StoreSettings settings, FileSystem* fs, SpillCounters counters)
      : settings_(std::move(settings)),
        fs_(fs),
        counters_(counters),
        parts_(settings_.partitions),
        encoder_(settings_.compression_level) {}
  ~ShuffleStore() override { RemoveScratch(); }

  void OnBlock(int source, std::string frame) override {
    if (!status_.ok()) return;
    auto info = BlockDecoder::PeekHeader(frame, "block from rank " + std::to_string(source));
    if (!info.ok()) {
      status_ = info.status();
      return;
    }
    if (info->partition >= parts_.size()) {
      status_ = Status::Corruption("block from rank " + std::to_string(source) +
                                   " names partition " + std::to_string(info->partition));
      return;
    }
    Partition& part = parts_[info->partition];
    part.kept_bytes += frame.size();
    part.decoded_bytes += DecodedBytes(*info);
    received_bytes_ += DecodedBytes(*info);
    kept_bytes_ += frame.size();
    if (info->stored) stored_bytes_ += frame.size();
    part.frames.push_back(std::move(frame));
    if (kept_bytes_ > settings_.store_bytes && stored_bytes_ > 0) status_ = CompressStored();
    while (status_.ok() && kept_bytes_ > settings_.store_bytes) {
      auto fullest = std::max_element(parts_.begin(), parts_.end(), [](const auto& a, const auto& b) {
        return a.kept_bytes < b.kept_bytes;
      });
      status_ = Spill(static_cast<uint32_t>(fullest - parts_.begin()));
    }
  }
  // Decoded bytes of every block received so far: this rank's reduce input.
  uint64_t received_bytes() const { return received_bytes_; }
  // First receive or spill error (sticky).
  const Status& status() const { return status_; }

  Partition& partition(uint32_t p) { return parts_[p]; }
  // Before any block arrives: the number of reduce tasks, when partitions
  // are cut into several (blocks name their task in `partition`).
  void SetPartitionCount(uint32_t n) { parts_.resize(n); }

  // Compresses kept stored blocks, partition by partition from where the
  // last call stopped, until the kept bytes fit the budget or none is left.
  // Each is verified (decoded) before it is re-framed, so a damaged block
  // never gains a fresh checksum.
  Status CompressStored() {
    for (size_t visited = 0; visited < parts_.size() && stored_bytes_ > 0; ++visited) {
      const uint32_t p = compress_cursor_;
      Partition& part = parts_[p];
      for (; part.packed_upto < part.frames.size(); ++part.packed_upto) {
        if (kept_bytes_ <= settings_.store_bytes) return Status::OK();
        std::string& frame = part.frames[part.packed_upto];
        SLUICE_ASSIGN_OR_RETURN(BlockInfo info, BlockDecoder::PeekHeader(frame, Origin(p)));
        if (!info.stored) continue;
        SLUICE_RETURN_IF_ERROR(decoder_.Decode(frame, Origin(p), &info, &repack_raw_));
        std::string packed;
        SLUICE_RETURN_IF_ERROR(encoder_.Encode(info, repack_raw_, &packed));
        stored_bytes_ -= frame.size();
        part.kept_bytes -= frame.size();
        kept_bytes_ -= frame.size();
        part.kept_bytes += packed.size();
        kept_bytes_ += packed.size();
        frame = std::move(packed);
      }
      compress_cursor_ = (compress_cursor_ + 1) % static_cast<uint32_t>(parts_.size());
    }
    return Status::OK();
  }

  // Spills every block partition p still keeps in memory.
  Status Spill(uint32_t p) {
    Partition& part = parts_[p];
    std::vector<std::string> frames = TakeFrames(p);
    SLUICE_RETURN_IF_ERROR(SortInInputOrder(p, &frames));
    size_t i = 0;
    while (i < frames.size()) {
      // One chunk: as many blocks as fit in sort_bytes decoded (at least one).
      size_t j = i;
      uint64_t chunk_bytes = 0;
      do {
        SLUICE_ASSIGN_OR_RETURN(BlockInfo info, BlockDecoder::PeekHeader(frames[j], Origin(p)));
        chunk_bytes += DecodedBytes(info);
        ++j;
      } while (j < frames.size() && chunk_bytes + PeekDecodedBytes(frames[j]) <= settings_.sort_bytes);
      std::vector<Record>& records = spill_records_;
      records.clear();
      SLUICE_RETURN_IF_ERROR(DecodeBlocks(p, frames.data() + i, frames.data() + j,
                                          [&](Record&& r) { records.push_back(std::move(r)); }));
      SortByKeyStable(&records);
      SLUICE_ASSIGN_OR_RETURN(RunInfo run, WriteRun(p, records.data(), records.data() + records.size()));
      part.runs.push_back(std::move(run));
      i = j;
    }
    return Status::OK();
  }

  // Merges partition p's oldest runs until at most `max_runs` remain, each
  // merge taking merge_factor runs (or as many as it takes to get there).
  Status MergeDown(uint32_t p, size_t max_runs) {
    Partition& part = parts_[p];
    while (part.runs.size() > max_runs) {
      const size_t take = std::min<size_t>(settings_.merge_factor, part.runs.size() - max_runs + 1);
      std::vector<RunInfo> inputs(part.runs.begin(), part.runs.begin() + take);
      part.runs.erase(part.runs.begin(), part.runs.begin() + take);
      std::vector<std::unique_ptr<RunCursor<K, V>>> cursors;
      for (const RunInfo& run : inputs) {
        SLUICE_ASSIGN_OR_RETURN(auto cursor, (RunCursor<K, V>::OpenFile(*fs_, run)));
        cursors.push_back(std::move(cursor));
      }
      RunMerger<K, V> merger(std::move(cursors));
      SLUICE_RETURN_IF_ERROR(merger.Start());
      SLUICE_ASSIGN_OR_RETURN(auto writer, NewRunWriter(p));
      for (const Record* r; (r = merger.current()) != nullptr;) {
        EncodeRunRecord(writer->buffer(), *r);
        SLUICE_RETURN_IF_ERROR(writer->RecordAdded());
        SLUICE_RETURN_IF_ERROR(merger.Advance());
      }
      SLUICE_ASSIGN_OR_RETURN(RunInfo merged, writer->Finish());
      NoteRun(merged);
      for (const RunInfo& run : inputs) SLUICE_RETURN_IF_ERROR(fs_->RemoveFile(run.path));
      // The merged run is the newest data-wise only in file order; its records
      // keep their origins, so where it sits in the list does not matter.
      part.runs.push_back(std::move(merged));
      ++*counters_.merge_passes;
    }
    return Status::OK();
  }

  std::vector<std::string> TakeFrames(uint32_t p) {
    Partition& part = parts_[p];
    kept_bytes_ -= part.kept_bytes;
    // Only when some block is stored (--compress-node-local no): otherwise
    // nothing to subtract, and no header to read again per block.
    for (size_t i = part.packed_upto; stored_bytes_ > 0 && i < part.frames.size(); ++i) {
      auto info = BlockDecoder::PeekHeader(part.frames[i], "");
      if (info.ok() && info->stored) stored_bytes_ -= part.frames[i].size();
    }
    part.kept_bytes = 0;
    part.decoded_bytes = 0;
    part.packed_upto = 0;
    return std::exchange(part.frames, {});
  }

  // Orders blocks by (split, seq), the input order, and refuses duplicates.
  Status SortInInputOrder(uint32_t p, std::vector<std::string>* frames) const {
    std::vector<std::pair<uint64_t, size_t>> order;  // (split << 32 | seq, index)
    order.reserve(frames->size());
    for (size_t i = 0; i < frames->size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(BlockInfo info, BlockDecoder::PeekHeader((*frames)[i], Origin(p)));
      if (info.partition != p) {
        return Status::Corruption("block for partition " + std::to_string(info.partition) +
                                  " delivered to partition " + std::to_string(p));
      }
      order.emplace_back(OriginOf(info), i);
    }
    std::sort(order.begin(), order.end());
    for (size_t i = 1; i < order.size(); ++i) {
      if (order[i].first == order[i - 1].first) {
        return Status::Corruption("duplicate block (split " + std::to_string(order[i].first >> 32) +
                                  ", seq " + std::to_string(order[i].first & 0xffffffffu) +
                                  ") in partition " + std::to_string(p));
      }
    }
    std::vector<std::string> sorted;
    sorted.reserve(frames->size());
    for (const auto& [origin, i] : order) sorted.push_back(std::move((*frames)[i]));
    *frames = std::move(sorted);
    return Status::OK();
  }

  // Verifies and decodes frames [begin, end) (in input order) and hands each
  // record, origin set, to sink(Record&&). Views point into this store's
  // decode arena: valid until the next DecodeBlocks. Each frame's compressed
  // copy is freed once decoded.
  template <class Sink>
  Status DecodeBlocks(uint32_t p, std::string* begin, std::string* end, Sink&& sink) {
    uint64_t total = 0;
    for (std::string* frame = begin; frame != end; ++frame) {
      SLUICE_ASSIGN_OR_RETURN(BlockInfo info, BlockDecoder::PeekHeader(*frame, Origin(p)));
      total += info.raw_size;
    }
    arena_.Reset(static_cast<size_t>(total));
    for (std::string* frame = begin; frame != end; ++frame) {
      BlockInfo info;
      char* raw = arena_.cursor();
      SLUICE_RETURN_IF_ERROR(decoder_.DecodeTo(*frame, Origin(p), &info, raw, arena_.left()));
      arena_.Advance(info.raw_size);
      std::string().swap(*frame);
      ByteReader r{raw, raw + info.raw_size};
      const uint64_t origin = OriginOf(info);
      for (uint32_t n = 0; n < info.records; ++n) {
        Record rec;
        if (!Decode(r, &rec.key) || !Decode(r, &rec.value)) {
          return Status::Corruption("malformed record " + std::to_string(n) + " in block (split " +
                                    std::to_string(info.split) + ", seq " +
                                    std::to_string(info.seq) + ") of partition " +
                                    std::to_string(p));
        }
        rec.origin = origin;
        sink(std::move(rec));
      }
      if (r.p != r.end) {
        return Status::Corruption("trailing bytes after the last record of a block of partition " +
                                  std::to_string(p));
      }
    }
    return Status::OK();
  }

  // Records decoded in input order, sorted by key, equal keys kept in input
  // order: that is (key, origin) order. Its scratch is kept for the next
  // sort, as *records' capacity is.
  void SortByKeyStable(std::vector<Record>* records) {
    if constexpr (std::is_same_v<K, std::string>) {
      // Sort small (prefix, index) pairs rather than the records, by prefix
      // with a stable radix sort (prefix_radix_sort.h); a tie on the prefix
      // looks at the whole keys, and then the index, which makes it stable.
      const std::vector<Record>& in = *records;
      std::vector<SortEntry>& order = sort_order_;
      order.resize(in.size());
      for (size_t i = 0; i < in.size(); ++i) order[i] = {KeyPrefix(in[i].key), i};
      StableRadixSortByPrefix(&order, &sort_scratch_);
      SortPrefixTies(&order, [&in](const SortEntry& a, const SortEntry& b) {
        const int c = in[a.index].key.compare(in[b.index].key);
        return c != 0 ? c < 0 : a.index < b.index;
      });
      std::vector<Record>& sorted = sort_out_;
      sorted.clear();
      sorted.reserve(in.size());
      for (const SortEntry& e : order) sorted.push_back(in[e.index]);
      records->swap(sorted);
    } else {
      // KeyOrder, not `<`: with NaN keys `<` is no strict weak order.
      std::stable_sort(records->begin(), records->end(),
                       [](const Record& a, const Record& b) { return KeyOrder()(a.key, b.key); });
    }
  }

  // Removes this rank's scratch directory (idempotent).
  void RemoveScratch() {
    if (scratch_made_) {
      (void)fs_->RemoveAll(settings_.scratch_dir);  // best effort: also run on error paths
      scratch_made_ = false;
    }
  }

  static uint64_t DecodedBytes(const BlockInfo& info) {
    return uint64_t{info.raw_size} + uint64_t{info.records} * sizeof(Record);
  }

 private:
  static uint64_t OriginOf(const BlockInfo& info) {
    return (uint64_t{info.split} << 32) | info.seq;
  }
  static uint64_t PeekDecodedBytes(const std::string& frame) {
    auto info = BlockDecoder::PeekHeader(frame, "");
    return info.ok() ? DecodedBytes(*info) : 0;  // a bad frame fails when decoded
  }
  static std::string Origin(uint32_t p) {
    return "shuffle block of partition " + std::to_string(p);
  }

  Result<std::unique_ptr<RunWriter>> NewRunWriter(uint32_t p) {
    if (!scratch_made_) {
      // Made at the first spill only, so a rank that never spills leaves
      // nothing to clean up. Private (0700); an entry of that name that is
      // not this user's own directory is refused, never written through.
      const size_t slash = settings_.scratch_dir.rfind('/');
      if (slash != std::string::npos && slash > 0) {
        SLUICE_RETURN_IF_ERROR(fs_->CreateDirs(settings_.scratch_dir.substr(0, slash)));
      }
      SLUICE_RETURN_IF_ERROR(fs_->CreatePrivateDir(settings_.scratch_dir));
      scratch_made_ = true;
    }
    const std::string path = settings_.scratch_dir + "/p" + std::to_string(p) + "-" +
                             std::to_string(next_run_++) + ".run";
    return RunWriter::Create(*fs_, path, settings_.compression_level, settings_.spill_block_bytes);
  }

  Result<RunInfo> WriteRun(uint32_t p, const Record* begin, const Record* end) {
    SLUICE_ASSIGN_OR_RETURN(auto writer, NewRunWriter(p));
    for (const Record* r = begin; r != end; ++r) {
      EncodeRunRecord(writer->buffer(), *r);
      SLUICE_RETURN_IF_ERROR(writer->RecordAdded());
    }
    SLUICE_FAULT_POINT("during_spill");  // a run half-written on scratch
    SLUICE_ASSIGN_OR_RETURN(RunInfo run, writer->Finish());
    NoteRun(run);
    return run;
  }

  void NoteRun(const RunInfo& run) {
    ++*counters_.spill_runs;
    *counters_.spill_records += run.records;
    *counters_.spill_bytes += run.bytes;
  }

  StoreSettings settings_;
  FileSystem* fs_;
  SpillCounters counters_;
  std::vector<Partition> parts_;
  uint64_t kept_bytes_ = 0;
  uint64_t stored_bytes_ = 0;  // of kept frames that are stored, not compressed
  uint32_t compress_cursor_ = 0;  // the partition CompressStored goes on from
  BlockEncoder encoder_;
  std::string repack_raw_;  // CompressStored's decoded block
  uint64_t received_bytes_ = 0;
  struct SortEntry {
    uint64_t prefix;
    uint64_t index;
  };
  DecodeArena arena_;                  // DecodeBlocks' output
  std::vector<Record> spill_records_;  // Spill's, kept between spills
  std::vector<SortEntry> sort_order_;  // SortByKeyStable's scratch
  std::vector<SortEntry> sort_scratch_;
  std::vector<Record> sort_out_;
  BlockDecoder decoder_;
  bool scratch_made_ = false;
  uint64_t next_run_ = 0;
  Status status_;
};

}  // namespace sluice
