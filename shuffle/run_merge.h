// The k-way merge that feeds reduce from spill runs: each run is sorted by
// (key, origin); the merge yields all their records in that order, so equal
// keys come out in input order (split, block, place in block) whichever runs
// they were spilled to. Memory: one decoded block per run.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "io/file_system.h"
#include "io/status.h"
#include "shuffle/float_keys.h"
#include "shuffle/reduce_record.h"
#include "shuffle/run_file.h"
#include "shuffle/serde.h"

namespace sluice {

// The one order of records everywhere on the reduce side: by key (KeyOrder:
// NaN last for floating-point keys, float_keys.h), then by origin.
// Three-way: negative, zero or positive as a comes before, is, or comes after
// b. A string key is compared once (one memcmp), not once each way.
template <class K, class V>
int CompareRecords(const ReduceRecord<K, V>& a, const ReduceRecord<K, V>& b) {
  if constexpr (std::is_same_v<ViewOfT<K>, std::string_view>) {
    if (const int c = a.key.compare(b.key); c != 0) return c;
  } else {
    if (KeyOrder()(a.key, b.key)) return -1;
    if (KeyOrder()(b.key, a.key)) return 1;
  }
  return a.origin < b.origin ? -1 : (a.origin > b.origin ? 1 : 0);
}

template <class K, class V>
struct RecordOrder {
  bool operator()(const ReduceRecord<K, V>& a, const ReduceRecord<K, V>& b) const {
    return CompareRecords(a, b) < 0;
  }
};

// Appends one record to a run's block buffer: key, value, origin.
template <class K, class V>
void EncodeRunRecord(std::string* out, const ReduceRecord<K, V>& r) {
  Encode(out, r.key);
  Encode(out, r.value);
  Encode(out, r.origin);
}

// Reads the records of one run (a file, or a sorted array kept in memory).
template <class K, class V>
class RunCursor {
 public:
  using Record = ReduceRecord<K, V>;

  static Result<std::unique_ptr<RunCursor>> OpenFile(FileSystem& fs, const RunInfo& info) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RunReader> reader, RunReader::Open(fs, info));
    auto cursor = std::unique_ptr<RunCursor>(new RunCursor());
    cursor->reader_ = std::move(reader);
    cursor->path_ = info.path;
    return cursor;
  }
  static std::unique_ptr<RunCursor> OverArray(const Record* begin, const Record* end) {
    auto cursor = std::unique_ptr<RunCursor>(new RunCursor());
    cursor->array_ = begin;
    cursor->array_end_ = end;
    return cursor;
  }

  // Moves to the next record (the first, on the first call); false at the end.
  Result<bool> Next() {
    if (reader_ == nullptr) {
      if (array_ == array_end_) return false;
      current_ = *array_++;
      return true;
    }
    while (left_in_block_ == 0) {
      SLUICE_ASSIGN_OR_RETURN(bool more, reader_->NextBlock(&block_, &left_in_block_));
      if (!more) return false;
      in_ = ByteReader{block_.data(), block_.data() + block_.size()};
    }
    if (!Decode(in_, &current_.key) || !Decode(in_, &current_.value) ||
        !Decode(in_, &current_.origin)) {
      return Status::Corruption("malformed record in spill run '" + path_ + "'");
    }
    if (--left_in_block_ == 0 && in_.p != in_.end) {
      return Status::Corruption("trailing bytes in a block of spill run '" + path_ + "'");
    }
    return true;
  }
  const Record& current() const { return current_; }

 private:
  RunCursor() = default;

  std::unique_ptr<RunReader> reader_;
  std::string path_;
  std::string block_;
  ByteReader in_{nullptr, nullptr};
  uint32_t left_in_block_ = 0;
  const Record* array_ = nullptr;
  const Record* array_end_ = nullptr;
  Record current_{};
};

// A binary min-heap of cursors by their current record. Advance replaces
// the top's record with that cursor's next one and sifts it down once: the
// next record of the same run is often still the smallest, and then a step
// costs two comparisons, where pop_heap and push_heap cost a full sift each.
template <class K, class V>
class RunMerger {
 public:
  using Record = ReduceRecord<K, V>;
  using Cursor = RunCursor<K, V>;

  explicit RunMerger(std::vector<std::unique_ptr<Cursor>> cursors) : cursors_(std::move(cursors)) {}

  // Reads each run's first record.
  Status Start() {
    for (size_t i = 0; i < cursors_.size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(bool any, cursors_[i]->Next());
      if (any) heap_.push_back(cursors_[i].get());
    }
    // std's heap keeps its greatest on top: "less" is "comes later".
    std::make_heap(heap_.begin(), heap_.end(),
                   [](const Cursor* a, const Cursor* b) { return CompareRecords(b->current(), a->current()) < 0; });
    return Status::OK();
  }
  // The smallest record not yet consumed; nullptr when every run is done.
  // Valid until Advance().
  const Record* current() const { return heap_.empty() ? nullptr : &heap_.front()->current(); }
  // Consumes current().
  Status Advance() {
    SLUICE_ASSIGN_OR_RETURN(bool more, heap_.front()->Next());
    if (!more) {
      heap_.front() = heap_.back();
      heap_.pop_back();
      if (heap_.empty()) return Status::OK();
    }
    SiftDown(0);
    return Status::OK();
  }

 private:
  // Moves heap_[i] down until neither child's record comes before its own.
  void SiftDown(size_t i) {
    const size_t n = heap_.size();
    Cursor* const moving = heap_[i];
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && CompareRecords(heap_[child + 1]->current(), heap_[child]->current()) < 0) ++child;
      if (CompareRecords(heap_[child]->current(), moving->current()) >= 0) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = moving;
  }

  std::vector<std::unique_ptr<Cursor>> cursors_;
  std::vector<Cursor*> heap_;  // cursors with a current record, smallest first
};

}  // namespace sluice
