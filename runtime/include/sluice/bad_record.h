// Records a job cannot parse, and what Sluice does with them.
//
// A job's Map throws sluice::BadRecord("why") for a record it cannot parse
// (before emitting anything for it). With --max-bad-records N (default 0)
// Sluice skips up to N such records in the whole job, counts them
// (bad_records), and lists each one's file, byte offset and reason in
// OUTPUT/_bad_records; the N+1st fails the job with exit code 3 (bad
// input), naming the record. Any other exception from Map is a job bug:
// exit code 6, never skipped.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/status.h"

namespace sluice {

class BadRecord : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One skipped record.
struct BadRecordInfo {
  std::string file;
  uint64_t offset = 0;  // of the record's first byte (a key-value record: its block)
  std::string reason;
};

// A rank's skipped records, and whether it is past the limit.
class BadRecordLog {
 public:
  explicit BadRecordLog(uint64_t limit) : limit_(limit) {}

  void Add(const std::string& file, uint64_t offset, const char* reason) {
    entries_.push_back(BadRecordInfo{file, offset, reason});
    if (entries_.size() > limit_ && over_limit_.ok()) {
      over_limit_ = Status::BadInput(Describe(entries_.back()) + " (--max-bad-records " +
                                     std::to_string(limit_) + (limit_ == 0 ? "; raise it to skip such records)" : " reached)"));
    }
  }
  // kBadInput once more than `limit` records were added.
  const Status& status() const { return over_limit_; }
  const std::vector<BadRecordInfo>& entries() const { return entries_; }

  static std::string Describe(const BadRecordInfo& r) {
    return "bad record at byte " + std::to_string(r.offset) + " of '" + r.file + "': " + r.reason;
  }

 private:
  uint64_t limit_;
  std::vector<BadRecordInfo> entries_;
  Status over_limit_;
};

}  // namespace sluice
