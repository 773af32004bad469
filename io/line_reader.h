// Reads the lines of one FileRange in large chunks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

// Yields the lines that START in [begin, end) of `file`:
// - if begin > 0 and the byte at begin-1 is not '\n', the partial line at
//   begin belongs to the previous range and is skipped;
// - a line that starts before `end` is read to its '\n' (or end of file)
//   even when that lies far past `end`, so every line of a file is read by
//   exactly one range;
// - a line longer than the buffer grows the buffer; no line is ever cut.
class LineReader {
 public:
  // `file` must outlive the reader. `storage`, if given, is where the
  // reader buffers (and must outlive it): a caller that reads many ranges
  // passes the same string each time, so its capacity is allocated and
  // zeroed once rather than per range.
  LineReader(ReadableFile& file, uint64_t begin, uint64_t end,
             size_t buffer_bytes = size_t{4} << 20, std::string* storage = nullptr);

  // Sets *chunk to the next run of whole lines: each line ends with '\n',
  // except the file's last line when the file has no trailing newline.
  // Returns false (with *chunk empty) when the range is exhausted. The view is
  // valid until the next call.
  Result<bool> NextChunk(std::string_view* chunk);

  // Gives back to the system what a very long line grew a lent buffer to.
  ~LineReader();

  // Bytes of the file consumed so far (lines yielded plus skipped prefix).
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  Status Fill();
  ReadableFile& file_;
  uint64_t begin_;
  uint64_t end_;
  std::string own_;   // the buffer, unless the caller lent one
  std::string& buf_;  // own_ or the caller's storage
  size_t buffer_bytes_;
  size_t data_begin_ = 0;   // unread data is buf_[data_begin_, data_end_)
  size_t data_end_ = 0;
  uint64_t file_pos_ = 0;   // file offset of buf_[data_end_]
  uint64_t next_line_ = 0;  // file offset of the next line to yield
  uint64_t bytes_read_ = 0;
  bool started_ = false;
  bool eof_ = false;
  bool done_ = false;
};

// Calls fn(std::string_view line) for each line of a chunk from NextChunk,
// without its '\n' and without one trailing '\r' (CRLF files).
template <class Fn>
inline void ForEachLine(std::string_view chunk, Fn&& fn) {
  const char* p = chunk.data();
  const char* end = p + chunk.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(__builtin_memchr(p, '\n', end - p));
    const char* line_end = nl ? nl : end;
    const char* stop = line_end;
    if (stop > p && stop[-1] == '\r') --stop;
    fn(std::string_view(p, stop - p));
    p = nl ? nl + 1 : end;
  }
}

}  // namespace sluice
