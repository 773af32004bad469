// Binary output: each record is its key's bytes followed by its value's bytes,
// nothing between and nothing after, so fixed-size records (TeraSort's
// 100-byte rows) come out exactly as they went in. Keys and values are
// strings (or string views). A job selects it with `using Output =
// sluice::RecordOutput;`.
#pragma once

#include <cstdint>
#include <string_view>

#include "io/buffered_writer.h"
#include "io/status.h"

namespace sluice {

class RecordOutput {
 public:
  explicit RecordOutput(BufferedWriter* writer) : writer_(writer) {}

  void operator()(std::string_view key, std::string_view value) {
    // The writer keeps its first error; the engine checks it once per task.
    (void)writer_->Append(key);
    (void)writer_->Append(value);
    ++records_;
  }

  uint64_t records() const { return records_; }
  Status Finish() { return Status::OK(); }

 private:
  BufferedWriter* writer_;
  uint64_t records_ = 0;
};

}  // namespace sluice
