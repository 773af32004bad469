#include "io/csv_reader.h"

#include <algorithm>
#include <memory>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice {

namespace {

// As LineReader: once past `end` the reader only looks for the end of its
// last record, usually close, so it reads this much rather than a whole
// buffer (doubling with what is buffered, for a long record).
constexpr uint64_t kLookaheadBytes = 64 << 10;

// CountQuotes reads this much at a time.
constexpr uint64_t kCountPieceBytes = 1 << 20;

std::string Printable(char c) {
  if (c == '\n') return "'\\n'";
  if (c == '\r') return "'\\r'";
  if (c == '\t') return "'\\t'";
  return std::string("'") + c + "'";
}

// The census reads every byte of a CSV input once more than the map does,
// so counting must run at memory speed, at any optimization level.
#if defined(__SSE2__)
uint64_t CountByte(const char* p, size_t n, char c) {
  const __m128i needle = _mm_set1_epi8(c);
  uint64_t total = 0;
  while (n >= 16) {
    // A match adds 1 to its byte lane (subtracting the compare's -1); 255
    // rounds cannot wrap a lane. Then the lanes are summed (psadbw).
    const size_t rounds = std::min<size_t>(n / 16, 255);
    __m128i lanes = _mm_setzero_si128();
    for (size_t i = 0; i < rounds; ++i, p += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(bytes, needle));
    }
    n -= rounds * 16;
    const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
    total += static_cast<uint64_t>(_mm_cvtsi128_si32(sums)) +
             static_cast<uint64_t>(_mm_extract_epi16(sums, 4));
  }
  for (; n > 0; --n) total += static_cast<uint64_t>(*p++ == c);
  return total;
}
#else
// Written for the auto-vectorizer: a byte compare summed into a narrow
// counter over blocks short enough that it cannot overflow.
uint64_t CountByte(const char* p, size_t n, char c) {
  uint64_t total = 0;
  while (n > 0) {
    const size_t block = std::min<size_t>(n, 255 * 16);
    uint32_t count = 0;
    for (size_t i = 0; i < block; ++i) count += static_cast<uint32_t>(p[i] == c);
    total += count;
    p += block;
    n -= block;
  }
  return total;
}
#endif

}  // namespace

Status ValidateCsvOptions(const CsvOptions& options) {
  const char d = options.delimiter;
  const char q = options.quote;
  if (d == '\n' || d == '\r' || d == 0) {
    return Status::Usage("the CSV delimiter cannot be " +
                         (d == 0 ? std::string("NUL") : Printable(d)));
  }
  if (q == '\n' || q == '\r') return Status::Usage("the CSV quote cannot be " + Printable(q));
  if (q == d) return Status::Usage("the CSV quote and delimiter are both " + Printable(d));
  return Status::OK();
}

Result<uint64_t> CountQuotes(ReadableFile& file, uint64_t begin, uint64_t end, char quote) {
  if (quote == 0 || begin >= end) return uint64_t{0};
  const size_t piece = static_cast<size_t>(std::min<uint64_t>(end - begin, kCountPieceBytes));
  std::unique_ptr<char[]> buf(new char[piece]);
  uint64_t count = 0;
  uint64_t pos = begin;
  while (pos < end) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(end - pos, piece));
    size_t got = 0;
    SLUICE_RETURN_IF_ERROR(file.ReadAt(pos, want, buf.get(), &got));
    count += CountByte(buf.get(), got, quote);
    pos += got;
    if (got < want) break;  // the data ends before `end`
  }
  return count;
}

CsvReader::CsvReader(ReadableFile& file, uint64_t begin, uint64_t end, bool in_quotes_at_begin,
                     char quote, size_t buffer_bytes, std::string* storage)
    : file_(file),
      begin_(begin),
      end_(end),
      quote_(quote),
      in_quotes_at_begin_(quote != 0 && begin > 0 && in_quotes_at_begin),
      buf_(storage != nullptr ? *storage : own_),
      buffer_bytes_(buffer_bytes) {
  // No bigger than the range (plus a look past its end) needs, as
  // LineReader: many tiny files must not each zero a whole buffer.
  const uint64_t range = end > begin ? end - begin : 0;
  const size_t wanted = static_cast<size_t>(
      std::clamp<uint64_t>(range + kLookaheadBytes, 1, std::max<size_t>(buffer_bytes, 1)));
  if (buf_.size() < wanted) buf_.resize(wanted);
}

CsvReader::~CsvReader() {
  if (&buf_ != &own_ && buf_.size() > 2 * std::max<size_t>(buffer_bytes_, 1))
    std::string().swap(buf_);
}

// Moves unread data to the front of the buffer, grows the buffer when unread
// data fills it (a record longer than the buffer), then reads more.
Status CsvReader::Fill() {
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
  SLUICE_RETURN_IF_ERROR(
      file_.ReadAt(file_pos_, static_cast<size_t>(want), buf_.data() + data_end_, &got));
  data_end_ += got;
  file_pos_ += got;
  // As LineReader: only an empty read, or a short one at the known size, is
  // the end (a decoded view's size is UINT64_MAX: its end is an empty read).
  if (got == 0 || (got < want && file_pos_ >= file_.size())) eof_ = true;
  return Status::OK();
}

// The record through `begin` started in an earlier range unless byte
// begin-1 ended a record. Finds where our first record starts, tracking the
// quote state from begin, or finds that none starts before `end`.
Status CsvReader::SkipPartialRecord() {
  char prev = 0;
  size_t got = 0;
  SLUICE_RETURN_IF_ERROR(file_.ReadAt(begin_ - 1, 1, &prev, &got));
  file_pos_ = begin_;
  if (got == 0) {
    done_ = true;
    return Status::OK();
  }
  // A '\n' is never a quote, so the state at begin-1 equals that at begin.
  if (prev == '\n' && !in_quotes_at_begin_) {
    next_record_ = begin_;
    return Status::OK();
  }
  bool in_quotes = in_quotes_at_begin_;
  while (true) {
    // A record end at offset >= end-1 starts a record at >= end, which is
    // not ours: search only the bytes before end-1.
    const uint64_t buffered_from = file_pos_ - (data_end_ - data_begin_);
    const size_t scan =
        static_cast<size_t>(std::min<uint64_t>(data_end_ - data_begin_, end_ - 1 - buffered_from));
    const char* p = buf_.data() + data_begin_;
    if (const char* start = csv_detail::FindRecordEnd(p, p + scan, quote_, &in_quotes)) {
      const size_t skipped = static_cast<size_t>(start - p);
      data_begin_ += skipped;
      next_record_ = buffered_from + skipped;
      bytes_read_ += skipped;
      return Status::OK();
    }
    bytes_read_ += scan;
    if (eof_ || buffered_from + scan >= end_ - 1) {
      done_ = true;
      return Status::OK();
    }
    data_begin_ = data_end_;  // nothing here is needed again
    SLUICE_RETURN_IF_ERROR(Fill());
  }
}

// Searches the data read since the last call for record starts. Of those
// before end_ only the last matters (it bounds a chunk of whole records): a
// quote count gives the quote state at the end of the new data, and the
// last record end is found walking back from there with memrchr, so finding
// a chunk costs about one count at memory speed rather than a search per
// record. The first record start at or after end_ ends the range's last
// record; it is searched forwards from end_-1.
void CsvReader::Scan() {
  const char* base = buf_.data() + data_begin_;  // at file offset next_record_
  const auto at = [&](uint64_t offset) { return base + (offset - next_record_); };
  // A '\n' before end_-1 starts a record before end_: one of ours.
  const uint64_t ours_end = std::min(file_pos_, end_ - 1);
  if (scanned_ < ours_end) {
    const char* from = at(scanned_);
    const char* to = at(ours_end);
    const auto odd_quotes = [&](const char* p, const char* q) {
      return quote_ != 0 && (CountByte(p, static_cast<size_t>(q - p), quote_) & 1) != 0;
    };
    const bool in_quotes_at_to = in_quotes_ != odd_quotes(from, to);
    bool inside = in_quotes_at_to;  // the state at `pos`
    for (const char* pos = to; pos > from;) {
      const char* nl =
          static_cast<const char*>(::memrchr(from, '\n', static_cast<size_t>(pos - from)));
      if (nl == nullptr) break;
      inside = inside != odd_quotes(nl + 1, pos);  // a '\n' is not a quote
      if (!inside) {
        last_ours_ = next_record_ + static_cast<uint64_t>(nl + 1 - base);
        break;
      }
      pos = nl;
    }
    scanned_ = ours_end;
    in_quotes_ = in_quotes_at_to;
  }
  if (scanned_ + 1 >= end_ && scanned_ < file_pos_) {
    const char* start = csv_detail::FindRecordEnd(at(scanned_), at(file_pos_), quote_, &in_quotes_);
    if (start != nullptr) {
      stop_ = next_record_ + static_cast<uint64_t>(start - base);
      found_stop_ = true;
      scanned_ = stop_;
    } else {
      scanned_ = file_pos_;
    }
  }
}

Result<bool> CsvReader::NextChunk(std::string_view* chunk) {
  *chunk = std::string_view();
  if (!started_) {
    started_ = true;
    if (begin_ >= end_ || begin_ >= file_.size()) {
      done_ = true;
    } else if (begin_ > 0) {
      SLUICE_RETURN_IF_ERROR(SkipPartialRecord());
    }
    scanned_ = next_record_;
    in_quotes_ = false;
  }
  if (done_) return false;

  while (true) {
    if (!found_stop_) Scan();
    uint64_t stop = next_record_;
    if (found_stop_) {
      stop = stop_;
      done_ = true;
    } else if (eof_) {
      // Everything left, including an unterminated last record (or one left
      // open by an unbalanced quote), starts before end.
      stop = file_pos_;
      done_ = true;
    } else if (last_ours_ > next_record_) {
      stop = last_ours_;
    }
    if (stop > next_record_) {
      const size_t len = static_cast<size_t>(stop - next_record_);
      *chunk = std::string_view(buf_.data() + data_begin_, len);
      data_begin_ += len;
      next_record_ = stop;
      bytes_read_ += len;
      return true;
    }
    if (done_) return false;
    SLUICE_RETURN_IF_ERROR(Fill());
  }
}

}  // namespace sluice
