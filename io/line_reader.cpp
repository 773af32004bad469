#include "io/line_reader.h"

#include <algorithm>
#include <cstring>

namespace sluice {

namespace {

// Once the reader is past `end` it only looks for the '\n' that ends the
// range's last line, which is usually close: read this much rather than a
// whole buffer, so that each range does not read megabytes of its
// neighbour. The amount doubles with what is already buffered, so a very
// long last line still costs linear time.
constexpr uint64_t kLookaheadBytes = 64 << 10;

const char* FindFirst(const char* p, size_t n) {
  return n == 0 ? nullptr : static_cast<const char*>(std::memchr(p, '\n', n));
}

const char* FindLast(const char* p, size_t n) {
  return n == 0 ? nullptr : static_cast<const char*>(::memrchr(p, '\n', n));
}

}  // namespace

LineReader::LineReader(ReadableFile& file, uint64_t begin, uint64_t end, size_t buffer_bytes,
                       std::string* storage)
    : file_(file),
      begin_(begin),
      end_(end),
      buf_(storage != nullptr ? *storage : own_),
      buffer_bytes_(buffer_bytes) {
  // No bigger than the range (plus a look past its end) needs: a split of
  // 10,000 tiny files would otherwise zero a whole buffer per file (40 GB
  // of memset at 4 MiB). Fill() doubles it for a line that does not fit.
  // A lent buffer keeps whatever size it has grown to; only growth costs.
  const uint64_t range = end > begin ? end - begin : 0;
  const size_t wanted = static_cast<size_t>(
      std::clamp<uint64_t>(range + kLookaheadBytes, 1, std::max<size_t>(buffer_bytes, 1)));
  if (buf_.size() < wanted) buf_.resize(wanted);
}

LineReader::~LineReader() {
  if (&buf_ != &own_ && buf_.size() > 2 * std::max<size_t>(buffer_bytes_, 1)) std::string().swap(buf_);
}

// Moves unread data to the front of the buffer, grows the buffer when unread
// data fills it (a line longer than the buffer), then reads more.
Status LineReader::Fill() {
  if (data_begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + data_begin_, data_end_ - data_begin_);
    data_end_ -= data_begin_;
    data_begin_ = 0;
  }
  if (data_end_ == buf_.size()) buf_.resize(buf_.size() * 2);

  uint64_t want = buf_.size() - data_end_;
  if (file_pos_ + want > end_) {
    const uint64_t before_end = file_pos_ < end_ ? end_ - file_pos_ : 0;
    const uint64_t past_end = std::max<uint64_t>(kLookaheadBytes, data_end_);
    want = std::min(want, before_end + past_end);
  }
  size_t got = 0;
  SLUICE_RETURN_IF_ERROR(file_.ReadAt(file_pos_, want, buf_.data() + data_end_, &got));
  data_end_ += got;
  file_pos_ += got;
  // ReadAt promises to be short only at end of file, but a reader must not
  // lose the rest of a split if some implementation (NFS, FUSE) breaks that:
  // only an empty read, or a short one at the known size, is the end.
  if (got == 0 || (got < want && file_pos_ >= file_.size())) eof_ = true;
  return Status::OK();
}

Result<bool> LineReader::NextChunk(std::string_view* chunk) {
  *chunk = std::string_view();
  if (!started_) {
    started_ = true;
    if (begin_ >= end_ || begin_ >= file_.size()) {
      done_ = true;
    } else if (begin_ == 0) {
      next_line_ = 0;
      file_pos_ = 0;
    } else {
      char prev = 0;
      size_t got = 0;
      SLUICE_RETURN_IF_ERROR(file_.ReadAt(begin_ - 1, 1, &prev, &got));
      file_pos_ = begin_;
      if (got == 0) {
        done_ = true;
      } else if (prev == '\n') {
        next_line_ = begin_;
      } else {
        // The line through `begin` belongs to the previous range. Our first
        // line starts after the first '\n' at offset >= begin, and only
        // counts if that is before `end`, so the '\n' must lie before end-1.
        while (true) {
          const uint64_t buffered_from = file_pos_ - (data_end_ - data_begin_);
          const uint64_t scan =
              std::min<uint64_t>(data_end_ - data_begin_, end_ - 1 - buffered_from);
          const char* nl = FindFirst(buf_.data() + data_begin_, scan);
          if (nl != nullptr) {
            const size_t skipped = nl + 1 - (buf_.data() + data_begin_);
            data_begin_ += skipped;
            next_line_ = buffered_from + skipped;
            bytes_read_ += skipped;
            break;
          }
          bytes_read_ += scan;
          if (eof_ || buffered_from + scan >= end_ - 1) {
            done_ = true;
            break;
          }
          data_begin_ = data_end_;  // nothing here is needed again
          SLUICE_RETURN_IF_ERROR(Fill());
        }
      }
    }
  }
  if (done_ || next_line_ >= end_) {
    done_ = true;
    return false;
  }

  while (true) {
    const char* data = buf_.data() + data_begin_;
    const size_t avail = data_end_ - data_begin_;
    // Bytes at offsets before end-1: a '\n' among them starts a line that
    // is still ours. The first '\n' at or after end-1 ends our last line.
    const size_t ours = static_cast<size_t>(std::min<uint64_t>(avail, end_ - 1 - next_line_));
    size_t len = 0;
    if (const char* last = FindFirst(data + ours, avail - ours)) {
      len = last + 1 - data;
      done_ = true;
    } else if (eof_) {
      // Everything left, including an unterminated final line, starts
      // before end.
      len = avail;
      done_ = true;
    } else if (const char* nl = FindLast(data, ours)) {
      len = nl + 1 - data;
    }
    if (len > 0) {
      *chunk = std::string_view(data, len);
      data_begin_ += len;
      next_line_ += len;
      bytes_read_ += len;
      return true;
    }
    if (done_) return false;
    SLUICE_RETURN_IF_ERROR(Fill());
  }
}

}  // namespace sluice
