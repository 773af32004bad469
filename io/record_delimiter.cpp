#include "io/record_delimiter.h"

#include <string.h>  // ::memrchr, ::memmem (GNU)

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

namespace sluice {

namespace {

// As in line_reader.cpp: past `end` the reader only looks for the end of
// its last record, usually close, so it reads this much at a time (doubling
// with what is buffered) rather than a whole buffer of its neighbour's data.
constexpr uint64_t kLookaheadBytes = 64 << 10;

constexpr std::string_view kEscapes = "the escapes are \\0 \\t \\r \\n \\\\ and \\xHH";

// Length of the longest proper prefix of `s` that is also a suffix of it
// (Knuth-Morris-Pratt's failure function at the last byte). 0 means no
// proper prefix is a suffix: `s` cannot overlap itself.
size_t LongestBorder(std::string_view s) {
  std::vector<size_t> border(s.size(), 0);
  size_t k = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    while (k > 0 && s[i] != s[k]) k = border[k - 1];
    if (s[i] == s[k]) ++k;
    border[i] = k;
  }
  return s.empty() ? 0 : border.back();
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

// Bytes spelled with the escapes ParseRecordDelimiter reads, printable ASCII.
std::string Escape(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    const bool digit_next = i + 1 < bytes.size() && bytes[i + 1] >= '0' && bytes[i + 1] <= '9';
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == 0 && !digit_next) {
      out += "\\0";
    } else if (c < 0x20 || c > 0x7e) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The spec as the user wrote it when it is printable, else escaped.
std::string Quote(std::string_view spec) {
  const bool printable = std::all_of(spec.begin(), spec.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) <= 0x7e;
  });
  return "'" + (printable ? std::string(spec) : Escape(spec)) + "'";
}

Status Refuse(std::string_view spec, std::string_view why) {
  return Status::Usage("record delimiter " + Quote(spec) + ": " + std::string(why));
}

}  // namespace

Status CheckRecordDelimiter(const RecordDelimiter& d) {
  switch (d.kind) {
    case RecordDelimiter::kLine:
      if (d.bytes == "\n") return Status::OK();
      return Status::Usage("record delimiter: kLine must have bytes \"\\n\", not '" +
                           Escape(d.bytes) + "'");
    case RecordDelimiter::kByte:
      if (d.bytes.size() == 1) return Status::OK();
      return Status::Usage("record delimiter: kByte must have exactly one byte, not '" +
                           Escape(d.bytes) + "'");
    case RecordDelimiter::kParagraph:
      if (d.bytes.empty()) return Status::OK();
      return Status::Usage("record delimiter: kParagraph takes no bytes, not '" +
                           Escape(d.bytes) + "'");
    case RecordDelimiter::kString: {
      if (d.bytes.size() < 2) {
        return Status::Usage("record delimiter: kString must have two or more bytes, not '" +
                             Escape(d.bytes) + "'");
      }
      const size_t border = LongestBorder(d.bytes);
      if (border == 0) return Status::OK();
      const std::string spelled = Escape(d.bytes);
      std::string why = "it overlaps itself ('" + Escape(d.bytes.substr(0, border)) +
                        "' both begins and ends it), so where it occurs depends on where a scan "
                        "starts: in '" +
                        Escape(d.bytes + d.bytes.substr(border)) +
                        "' a scan from byte 0 and one from byte " +
                        std::to_string(d.bytes.size() - border) +
                        " find different delimiters, and the ranges of a split file would "
                        "disagree on where records begin. Use a delimiter whose beginning does "
                        "not reappear at its end";
      const bool newlines_only = d.bytes.find_first_not_of("\r\n") == std::string::npos;
      if (newlines_only) why += "; for records separated by blank lines use 'paragraph'";
      return Status::Usage("record delimiter '" + spelled + "': " + why);
    }
  }
  return Status::Usage("record delimiter: unknown kind " +
                       std::to_string(static_cast<int>(d.kind)));
}

Result<RecordDelimiter> ParseRecordDelimiter(std::string_view spec) {
  if (spec.empty()) {
    return Status::Usage(
        "record delimiter: empty; give one byte (';', '\\0', '\\x1e'), a string ('<END>') or "
        "'paragraph' (records separated by blank lines)");
  }
  if (spec == "paragraph") return RecordDelimiter{RecordDelimiter::kParagraph, ""};
  std::string bytes;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '\\') {
      bytes += spec[i];
      continue;
    }
    if (i + 1 == spec.size()) {
      return Refuse(spec, "ends with a lone '\\'; write '\\\\' for a backslash");
    }
    const char e = spec[++i];
    switch (e) {
      case '0':
        if (i + 1 < spec.size() && spec[i + 1] >= '0' && spec[i + 1] <= '9') {
          return Refuse(spec, "'\\0' followed by a digit: octal escapes are not supported; "
                              "write '\\xHH'");
        }
        bytes += '\0';
        break;
      case 't': bytes += '\t'; break;
      case 'r': bytes += '\r'; break;
      case 'n': bytes += '\n'; break;
      case '\\': bytes += '\\'; break;
      case 'x':
        if (i + 2 >= spec.size() || !IsHex(spec[i + 1]) || !IsHex(spec[i + 2])) {
          return Refuse(spec, "'\\x' must be followed by two hex digits, as in '\\x1e'");
        }
        bytes += static_cast<char>(HexValue(spec[i + 1]) * 16 + HexValue(spec[i + 2]));
        i += 2;
        break;
      default:
        return Refuse(spec, "unknown escape '\\" + std::string(1, e) + "'; " +
                                std::string(kEscapes));
    }
  }
  RecordDelimiter d;
  d.bytes = std::move(bytes);
  d.kind = d.bytes == "\n"          ? RecordDelimiter::kLine
           : d.bytes.size() == 1    ? RecordDelimiter::kByte
                                    : RecordDelimiter::kString;
  SLUICE_RETURN_IF_ERROR(CheckRecordDelimiter(d));
  return d;
}

std::string RecordDelimiterSpec(const RecordDelimiter& d) {
  if (d.kind == RecordDelimiter::kParagraph) return "paragraph";
  // The bytes "paragraph" must not read back as the keyword.
  if (d.bytes == "paragraph") return "\\x70aragraph";
  return Escape(d.bytes);
}

DelimitedReader::DelimitedReader(ReadableFile& file, uint64_t begin, uint64_t end,
                                 const RecordDelimiter& d, size_t buffer_bytes,
                                 std::string* storage)
    : file_(file),
      begin_(begin),
      end_(end),
      delim_(d),
      lookback_(d.kind == RecordDelimiter::kParagraph ? 3 : d.bytes.size()),
      buf_(storage != nullptr ? *storage : own_),
      buffer_bytes_(buffer_bytes) {
  // As LineReader: no bigger than the range plus a look past its end
  // needs; Fill() doubles it for a record that does not fit.
  const uint64_t range = end > begin ? end - begin : 0;
  const size_t wanted = static_cast<size_t>(
      std::clamp<uint64_t>(range + kLookaheadBytes, 1, std::max<size_t>(buffer_bytes, 1)));
  if (buf_.size() < wanted) buf_.resize(wanted);
}

DelimitedReader::~DelimitedReader() {
  if (&buf_ != &own_ && buf_.size() > 2 * std::max<size_t>(buffer_bytes_, 1)) {
    std::string().swap(buf_);
  }
}

// Drops what is before data_begin_ except the look back that decides
// whether a record starts at a byte at or after it, grows the buffer when
// it is full (a record longer than the buffer), then reads more, always at
// the offset just after the last byte read.
Status DelimitedReader::Fill() {
  const size_t drop = data_begin_ - std::min(lookback_, data_begin_);
  if (drop > 0) {
    std::memmove(buf_.data(), buf_.data() + drop, data_end_ - drop);
    data_begin_ -= drop;
    data_end_ -= drop;
    buf_pos_ += drop;
  }
  if (data_end_ == buf_.size()) buf_.resize(buf_.size() * 2);

  const uint64_t file_pos = buf_pos_ + data_end_;
  uint64_t want = buf_.size() - data_end_;
  if (file_pos + want > end_) {
    const uint64_t before_end = file_pos < end_ ? end_ - file_pos : 0;
    const uint64_t past_end = std::max<uint64_t>(kLookaheadBytes, data_end_);
    want = std::min(want, before_end + past_end);
  }
  size_t got = 0;
  SLUICE_RETURN_IF_ERROR(file_.ReadAt(file_pos, want, buf_.data() + data_end_, &got));
  data_end_ += got;
  // As LineReader: only an empty read, or a short one at the known size,
  // is the end (a decoded view's size() is UINT64_MAX: its end is the
  // empty read after the last byte).
  if (got == 0 || (got < want && file_pos + got >= file_.size())) eof_ = true;
  return Status::OK();
}

// Whether a record starts at buffer index q, the byte after a '\n': the
// line before q is blank ("" or "\r") and the line at q is not. Needs the
// 3 bytes before q (or the start of the file) and the 1 or 2 from q.
DelimitedReader::Start DelimitedReader::ParagraphStartAt(size_t q) const {
  const char* b = buf_.data();
  const uint64_t nl_offset = buf_pos_ + q - 1;  // of the '\n' before q
  bool prev_blank = false;
  if (nl_offset == 0) {
    prev_blank = true;
  } else if (b[q - 2] == '\n') {
    prev_blank = true;
  } else if (b[q - 2] == '\r') {
    prev_blank = nl_offset == 1 || b[q - 3] == '\n';
  }
  if (!prev_blank) return Start::kNo;
  if (q >= data_end_) return eof_ ? Start::kNo : Start::kUndecided;
  if (b[q] == '\n') return Start::kNo;
  if (b[q] != '\r') return Start::kYes;
  if (q + 1 < data_end_) return b[q + 1] == '\n' ? Start::kNo : Start::kYes;
  return eof_ ? Start::kNo : Start::kUndecided;  // a last line of just "\r" is blank
}

// The first record start at buffer index >= min (min >= 1: byte 0 of the
// file is never searched for, it is where a range at 0 starts).
DelimitedReader::Scan DelimitedReader::FindFirst(size_t min) const {
  const Scan none{false, 0, std::max(min, data_end_ + 1)};
  if (min > data_end_) return none;
  const char* b = buf_.data();
  switch (delim_.kind) {
    case RecordDelimiter::kLine:
    case RecordDelimiter::kByte: {
      const size_t from = min - 1;
      const void* hit = std::memchr(b + from, delim_.bytes[0], data_end_ - from);
      if (hit == nullptr) return none;
      return {true, static_cast<size_t>(static_cast<const char*>(hit) - b) + 1, 0};
    }
    case RecordDelimiter::kString: {
      // An occurrence ending at or after `min` starts at or after min - m.
      // One that would start before the buffer cannot exist: the buffer
      // keeps m bytes before data_begin_, which is a record start or the
      // start of a skip scan, and occurrences do not overlap.
      const size_t m = delim_.bytes.size();
      const size_t from = min > m ? min - m : 0;
      if (data_end_ - from < m) return none;
      const char* hit = FindDelimiterString(b + from, b + data_end_, delim_.bytes.data(), m);
      if (hit == nullptr) return none;
      return {true, static_cast<size_t>(hit - b) + m, 0};
    }
    case RecordDelimiter::kParagraph: {
      size_t from = min - 1;
      while (from < data_end_) {
        const void* nl = std::memchr(b + from, '\n', data_end_ - from);
        if (nl == nullptr) break;
        const size_t q = static_cast<size_t>(static_cast<const char*>(nl) - b) + 1;
        switch (ParagraphStartAt(q)) {
          case Start::kYes: return {true, q, 0};
          case Start::kUndecided: return {false, 0, q};
          case Start::kNo: from = q; break;
        }
      }
      return none;
    }
  }
  return none;
}

// The last record start at a buffer index in [lo, hi] (1 <= lo, hi <=
// data_end_) that the buffered bytes decide; 0 when there is none.
size_t DelimitedReader::FindLast(size_t lo, size_t hi) const {
  if (lo > hi) return 0;
  const char* b = buf_.data();
  switch (delim_.kind) {
    case RecordDelimiter::kLine:
    case RecordDelimiter::kByte: {
      const void* hit = ::memrchr(b + lo - 1, delim_.bytes[0], hi - lo + 1);
      return hit == nullptr ? 0 : static_cast<size_t>(static_cast<const char*>(hit) - b) + 1;
    }
    case RecordDelimiter::kString: {
      const size_t m = delim_.bytes.size();
      if (hi < m) return 0;
      const size_t first = lo > m ? lo - m : 0;  // occurrence starts in [first, hi - m]
      const size_t last = hi - m;
      if (last < first) return 0;
      size_t n = last - first + 1;
      while (n > 0) {
        const char* hit = static_cast<const char*>(::memrchr(b + first, delim_.bytes[0], n));
        if (hit == nullptr) return 0;
        if (std::memcmp(hit, delim_.bytes.data(), m) == 0) return static_cast<size_t>(hit - b) + m;
        n = static_cast<size_t>(hit - (b + first));
      }
      return 0;
    }
    case RecordDelimiter::kParagraph: {
      size_t n = hi - lo + 1;  // the '\n' before a start in [lo, hi] is in [lo - 1, hi - 1]
      while (n > 0) {
        const char* nl = static_cast<const char*>(::memrchr(b + lo - 1, '\n', n));
        if (nl == nullptr) return 0;
        const size_t q = static_cast<size_t>(nl - b) + 1;
        if (ParagraphStartAt(q) == Start::kYes) return q;
        n = static_cast<size_t>(nl - (b + lo - 1));
      }
      return 0;
    }
  }
  return 0;
}

// Reads forward from `lookback_` bytes before begin_ to the first record
// start at or after begin_; done_ if there is none before end_.
Status DelimitedReader::SkipToFirstRecord() {
  const size_t back = static_cast<size_t>(std::min<uint64_t>(begin_, lookback_));
  buf_pos_ = begin_ - back;
  data_begin_ = data_end_ = 0;
  uint64_t from = begin_;  // no record starts in [begin_, from)
  while (true) {
    SLUICE_RETURN_IF_ERROR(Fill());
    const uint64_t from_index = from - buf_pos_;
    const Scan s = FindFirst(static_cast<size_t>(std::min<uint64_t>(from_index, data_end_ + 1)));
    if (s.found) {
      const uint64_t start = buf_pos_ + s.pos;
      if (start >= end_) {
        // The next record starts at end_ or later: none starts in this
        // range. (A delimiter that ends the file starts no record either;
        // NextChunk sees that: nothing follows it.)
        done_ = true;
        bytes_read_ = std::min(start, end_) - begin_;
      } else {
        data_begin_ = s.pos;
        bytes_read_ = start - begin_;
      }
      return Status::OK();
    }
    from = std::max(from, buf_pos_ + s.next_from);
    if (eof_ || from >= end_) {
      done_ = true;
      const uint64_t scanned = std::min(buf_pos_ + data_end_, end_);
      bytes_read_ = scanned > begin_ ? scanned - begin_ : 0;
      return Status::OK();
    }
    // Bytes before `from` are needed at most as look back, which Fill keeps.
    data_begin_ = std::max(data_begin_,
                           static_cast<size_t>(std::min<uint64_t>(from - buf_pos_, data_end_)));
  }
}

Result<bool> DelimitedReader::NextChunk(std::string_view* chunk) {
  *chunk = std::string_view();
  if (!started_) {
    started_ = true;
    SLUICE_RETURN_IF_ERROR(CheckRecordDelimiter(delim_));
    if (begin_ >= end_ || begin_ >= file_.size()) {
      done_ = true;
    } else if (begin_ > 0) {
      SLUICE_RETURN_IF_ERROR(SkipToFirstRecord());
    }
    // At begin_ == 0 the first record starts at byte 0: buffer empty, at 0.
  }
  if (done_) return false;

  while (true) {
    if (data_begin_ == data_end_ && eof_) {
      // A delimiter that ends the file starts no record.
      done_ = true;
      return false;
    }
    // Index of end_ in the buffer; data_end_ + 1 stands for "not buffered".
    const size_t limit = static_cast<size_t>(
        std::min<uint64_t>(end_ - buf_pos_, static_cast<uint64_t>(data_end_) + 1));
    size_t len = 0;
    // A record start at or after end_ ends the range's last chunk; the ones
    // before it start records of ours.
    const Scan next = FindFirst(std::max(data_begin_ + 1, limit));
    if (next.found) {
      len = next.pos - data_begin_;
      done_ = true;
    } else if (eof_) {
      // Everything left, including a last record without a delimiter,
      // starts before end_.
      len = data_end_ - data_begin_;
      done_ = true;
    } else if (limit >= data_begin_ + 2) {
      const size_t last = FindLast(data_begin_ + 1, std::min(limit - 1, data_end_));
      if (last != 0) len = last - data_begin_;
    }
    if (len > 0) {
      *chunk = std::string_view(buf_.data() + data_begin_, len);
      data_begin_ += len;
      bytes_read_ += len;
      return true;
    }
    SLUICE_RETURN_IF_ERROR(Fill());
  }
}

}  // namespace sluice
