// The k-way merge that feeds reduce from spill runs: each run is sorted by
// (key, origin); the merge yields all their records in that order, so equal
// keys come out in input order (split, block, place in block) whichever runs
// they were spilled to. Memory: one decoded block per run.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
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
template <class K, class V>
struct RecordOrder {
  bool operator()(const ReduceRecord<K, V>& a, const ReduceRecord<K, V>& b) const {
    if (KeyOrder()(a.key, b.key)) return true;
    if (KeyOrder()(b.key, a.key)) return false;
    return a.origin < b.origin;
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
      if (any) heap_.push_back(i);
    }
    std::make_heap(heap_.begin(), heap_.end(), Later{this});
    return Status::OK();
  }
  // The smallest record not yet consumed; nullptr when every run is done.
  // Valid until Advance().
  const Record* current() const {
    return heap_.empty() ? nullptr : &cursors_[heap_.front()]->current();
  }
  // Consumes current().
  Status Advance() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{this});
    const size_t i = heap_.back();
    SLUICE_ASSIGN_OR_RETURN(bool more, cursors_[i]->Next());
    if (more) {
      std::push_heap(heap_.begin(), heap_.end(), Later{this});
    } else {
      heap_.pop_back();
    }
    return Status::OK();
  }

 private:
  // Heap order: std heaps keep the greatest on top, so "less" is "later".
  struct Later {
    const RunMerger* m;
    bool operator()(size_t a, size_t b) const {
      return RecordOrder<K, V>()(m->cursors_[b]->current(), m->cursors_[a]->current());
    }
  };

  std::vector<std::unique_ptr<Cursor>> cursors_;
  std::vector<size_t> heap_;
};

}  // namespace sluice
