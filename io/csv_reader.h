// Reads the CSV records (RFC 4180) of one file range in large chunks.
//
// A CSV record may span lines: a quoted field can hold newlines. Where a
// record ends therefore depends on everything before it, which a range in
// the middle of a file has not read. Sluice settles it with quote parity
// (docs/csv-splits.md): RFC 4180 quotes only open and close fields and are
// doubled inside them, so a byte is inside a quoted field exactly when an
// odd number of quote bytes precede it in the whole file. A record ends at a
// '\n' with an even number of quotes before it. Before the map phase the
// engine counts the quotes of every range of a file (CountQuotes, in
// parallel) and hands each range the parity of all the bytes before it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

struct CsvOptions {
  // Separates fields. Not '\n', '\r' or the quote.
  char delimiter = ',';
  // Opens and closes a field that holds delimiters, newlines or quotes, and
  // is doubled inside it ("a ""b"""). 0: no quoting at all, records are
  // lines and fields are split at every delimiter (plain TSV). Backslash
  // escapes (\") are not CSV and are not understood (docs/csv-splits.md).
  char quote = '"';
  // The first record of each file names its columns and is not a record.
  bool header = true;
};

// kUsage saying what is wrong when `options` cannot describe a CSV file: a
// delimiter or quote that is a line break, or a quote equal to the delimiter.
Status ValidateCsvOptions(const CsvOptions& options);

// The number of `quote` bytes in [begin, end) of `file` (fewer when the data
// ends before `end`); 0 without reading when quote is 0. Reads sequentially
// in large pieces and counts at memory speed: the census pass that gives
// each range its starting parity is one of these per range.
Result<uint64_t> CountQuotes(ReadableFile& file, uint64_t begin, uint64_t end, char quote);

// Yields the CSV records that START in [begin, end) of `file`, in chunks of
// whole records, as LineReader does for lines. `in_quotes_at_begin` is
// whether byte `begin` is inside a quoted field: whether the number of
// quotes in [0, begin) is odd (CountQuotes). It is ignored when begin is 0
// or quote is 0.
// - If begin > 0, a record starts at begin when byte begin-1 is a '\n'
//   outside quotes; otherwise the record through `begin` belongs to an
//   earlier range and is skipped: the first record of the range starts just
//   after the first '\n' outside quotes at or after begin, and only if that
//   is before `end`.
// - The last record, which starts before `end`, is read to its end (a '\n'
//   outside quotes, or the end of the data) however far past `end` that is.
// - A record longer than the buffer grows the buffer; no record is cut.
// - Data that ends inside an open quote ends its last record there; that
//   record is malformed, which the field parser reports (CsvRow).
// Since whether a byte ends a record is a function of the file's quote
// parity before it and nothing else, every record of a file, well-formed or
// not, is read by exactly one range whatever the split points.
//
// With quote == 0 this is exactly LineReader's line splitting.
// Reads at non-decreasing offsets only, so `file` may be a decoded view of a
// compressed file (size() UINT64_MAX): only end of data is a short read.
class CsvReader {
 public:
  // `file` must outlive the reader. `storage`, if given, is the read buffer
  // (it must outlive the reader): a caller that reads many ranges passes the
  // same string each time so its memory is allocated once.
  CsvReader(ReadableFile& file, uint64_t begin, uint64_t end, bool in_quotes_at_begin, char quote,
            size_t buffer_bytes = size_t{4} << 20, std::string* storage = nullptr);
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Gives back to the system what a very long record grew a lent buffer to.
  ~CsvReader();

  // Sets *chunk to the next run of whole records: each ends with its '\n',
  // except the file's last record when the data does not end with one
  // outside quotes. Returns false (with *chunk empty) when the range is
  // exhausted. The view is valid until the next call. Every chunk starts at
  // a record start, outside quotes (what ForEachCsvRecord relies on).
  Result<bool> NextChunk(std::string_view* chunk);

  // Bytes of the file consumed so far: records yielded plus skipped prefix.
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  Status Fill();
  Status SkipPartialRecord();
  void Scan();

  ReadableFile& file_;
  uint64_t begin_;
  uint64_t end_;
  char quote_;
  bool in_quotes_at_begin_;
  std::string own_;   // the buffer, unless the caller lent one
  std::string& buf_;  // own_ or the caller's storage
  size_t buffer_bytes_;
  size_t data_begin_ = 0;  // unread data is buf_[data_begin_, data_end_)
  size_t data_end_ = 0;
  uint64_t file_pos_ = 0;     // file offset of buf_[data_end_]
  uint64_t next_record_ = 0;  // file offset of buf_[data_begin_], a record start
  // Data up to scanned_ has been searched for record ends; in_quotes_ is the
  // quote state there. The scan never repeats, so a record much longer than
  // the buffer still costs linear time.
  uint64_t scanned_ = 0;
  bool in_quotes_ = false;
  uint64_t last_ours_ = 0;  // the last record start found before end_ (0: none)
  uint64_t stop_ = 0;       // where the range's last record ends, once found
  bool found_stop_ = false;
  uint64_t bytes_read_ = 0;
  bool started_ = false;
  bool eof_ = false;
  bool done_ = false;
};

namespace csv_detail {

// The first byte in [p, end) equal to `a` or `b`, or nullptr: one pass where
// two memchr calls would read the bytes twice.
inline const char* FindEither(const char* p, const char* end, char a, char b) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (*p == a || *p == b) return p;
  }
  return nullptr;
}

// One past the first '\n' in [p, end) that lies outside quotes, given
// whether p is inside quotes (*in_quotes); nullptr when there is none, with
// *in_quotes set to the state at `end`. Inside quotes only the closing quote
// matters (memchr); outside, the first newline or quote.
inline const char* FindRecordEnd(const char* p, const char* end, char quote, bool* in_quotes) {
  if (quote == 0) {
    const void* nl = p < end ? std::memchr(p, '\n', static_cast<size_t>(end - p)) : nullptr;
    return nl != nullptr ? static_cast<const char*>(nl) + 1 : nullptr;
  }
  bool inside = *in_quotes;
  while (p < end) {
    if (inside) {
      const void* q = std::memchr(p, quote, static_cast<size_t>(end - p));
      if (q == nullptr) break;
      inside = false;
      p = static_cast<const char*>(q) + 1;
      continue;
    }
    const char* hit = FindEither(p, end, '\n', quote);
    if (hit == nullptr) break;
    if (*hit == '\n') {
      *in_quotes = false;
      return hit + 1;
    }
    inside = true;
    p = hit + 1;
  }
  *in_quotes = inside;
  return nullptr;
}

}  // namespace csv_detail

// Calls fn(std::string_view record, size_t offset_in_chunk) for each record
// of a chunk from CsvReader::NextChunk, without its ending '\n' and one '\r'
// before it (CRLF files); newlines inside quotes are kept. The chunk must
// start at a record start (outside quotes), as NextChunk's chunks do. An
// empty line is a record of zero bytes.
template <class Fn>
inline void ForEachCsvRecord(std::string_view chunk, char quote, Fn&& fn) {
  const char* const begin = chunk.data();
  const char* p = begin;
  const char* const end = p + chunk.size();
  while (p < end) {
    bool in_quotes = false;
    const char* next = csv_detail::FindRecordEnd(p, end, quote, &in_quotes);
    const char* stop = next != nullptr ? next - 1 : end;
    // An unterminated last record ending in '\r' outside quotes is a CRLF
    // file cut after its '\r'; inside quotes the '\r' is data.
    if ((next != nullptr || !in_quotes) && stop > p && stop[-1] == '\r') --stop;
    fn(std::string_view(p, static_cast<size_t>(stop - p)), static_cast<size_t>(p - begin));
    p = next != nullptr ? next : end;
  }
}

}  // namespace sluice
