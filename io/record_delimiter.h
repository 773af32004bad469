// Text input split into records by a delimiter other than the newline (the
// --record-delimiter flag, like Hadoop's textinputformat.record.delimiter):
// the delimiter's spelling, and a reader that hands a FileRange its records.
#pragma once

#include <string.h>  // ::memmem (GNU)

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

// What ends a record. A plain value: it is copied into job settings and
// across the plugin boundary.
//
//   kLine       "\n", and one '\r' before it is dropped (CRLF files): the
//               default, today's lines; io/line_reader.h serves it too.
//   kByte       one byte (`bytes`, size 1), e.g. '\0' for `find -print0`.
//   kString     two or more bytes that cannot overlap themselves: no proper
//               prefix of `bytes` is also a suffix of it (see below).
//   kParagraph  blank lines (Perl's paragraph mode; `bytes` is empty): a
//               record is a run of non-blank lines, where a line is what
//               ForEachLine calls one (split on '\n', one trailing '\r'
//               dropped) and is blank when nothing is left of it, so "\r\n"
//               counts as "\n" throughout. One or more blank lines separate
//               records; blank lines at the start or end of a file make no
//               record; a record excludes the newline (and '\r') after its
//               last line but keeps the ones between its lines, as they are.
//
// Records exclude their delimiter. A delimiter at the very end of the file
// does not start an empty last record (like a file's final '\n'); one at
// the very start ends an empty first record, and two in a row an empty
// record between them (except in kParagraph mode, which never yields an
// empty record).
//
// Why a kString delimiter must not overlap itself. A file split into ranges
// is read by readers that each start scanning at their range's `begin`,
// and must all agree, with one reader of the whole file, on where every
// record starts. For a self-overlapping delimiter the whole-file scan's
// occurrences (leftmost first, each scan resuming after the last match)
// depend on everything before: in "aaa" with delimiter "aa" a scan from
// byte 0 matches at 0, a scan from byte 1 matches at 1, and in "aaaa...a"
// which is right depends on the parity of the run, however long. No
// bounded look back from `begin` can settle it. When no proper prefix is a
// suffix, two occurrences can never overlap, so every occurrence is one the
// whole-file scan matches, and whether bytes [i, i + len) are a delimiter
// depends on those bytes alone: a reader decides it from the len bytes
// before `begin` onwards. (Blank-line paragraphs are the common
// self-overlapping wish, "\n\n" or "\r\n\r\n"; kParagraph decides them from
// 3 bytes back and 2 forward instead.)
struct RecordDelimiter {
  enum Kind : uint8_t { kLine, kByte, kString, kParagraph };
  Kind kind = kLine;
  std::string bytes = "\n";

  bool operator==(const RecordDelimiter&) const = default;
};

// Parses a --record-delimiter value:
//   "\n" (or a real newline)         kLine, the default
//   one byte                         kByte: ';' '|' or an escape
//   "paragraph"                      kParagraph
//   two or more bytes                kString: "<END>", "\r\n", "\x1e\x1f"
// Escapes: \0 (NUL) \t \r \n \\ and \xHH (two hex digits). kUsage, saying
// why and what to write instead, for an empty spec, an unknown escape, \0
// followed by a digit (octal is not supported: write \xHH), a lone trailing
// '\', and a self-overlapping string ("aa", "abab", "\n\n"; for blank lines
// the message suggests `paragraph`). A delimiter spelled "paragraph" is
// written with an escape: "\x70aragraph".
Result<RecordDelimiter> ParseRecordDelimiter(std::string_view spec);

// The spec that parses back to `d` (ParseRecordDelimiter(Spec(d)) == d),
// printable ASCII only: for messages, logs and a job's recorded settings.
std::string RecordDelimiterSpec(const RecordDelimiter& d);

// OK when `d` is one that ParseRecordDelimiter could have returned; else
// kUsage saying what is wrong (a job that fills in the struct itself gets
// the same refusal as the flag). Readers check it before reading.
Status CheckRecordDelimiter(const RecordDelimiter& d);

// Yields the records that START in [begin, end) of `file`, where records
// start at byte 0 and right after each delimiter occurrence (kParagraph: at
// the first byte of a non-blank line whose previous line is blank), with
// io/line_reader.h's rules for everything else:
// - the partial record at `begin` belongs to the previous range and is
//   skipped; to tell whether a record starts exactly at `begin` the reader
//   reads from up to len(delimiter) bytes (kParagraph: 3) before `begin`;
// - a record that starts before `end` is read through its delimiter (or to
//   end of file) even when that lies far past `end`; kParagraph reads on
//   through the blank lines after it, to the next record's first byte;
// - a record longer than the buffer grows the buffer; none is ever cut.
// Every record of a file is therefore read by exactly one range.
//
// `file` is read once, forward: each read starts where the last one ended
// (the first at max(0, begin - lookback)), so a decoded view of a
// compressed file, whose size() may be UINT64_MAX and which cannot seek
// backwards, is read correctly; its end is a read that returns nothing.
class DelimitedReader {
 public:
  // `file` must outlive the reader; `d` is copied. `storage`: as for
  // LineReader, a buffer the caller reuses across readers (it must outlive
  // this one).
  DelimitedReader(ReadableFile& file, uint64_t begin, uint64_t end, const RecordDelimiter& d,
                  size_t buffer_bytes = size_t{4} << 20, std::string* storage = nullptr);

  // Gives back to the system what a very long record grew a lent buffer to.
  ~DelimitedReader();

  DelimitedReader(const DelimitedReader&) = delete;
  DelimitedReader& operator=(const DelimitedReader&) = delete;

  // Sets *chunk to the next run of whole records for ForEachDelimited: each
  // record is followed by its delimiter, except the file's last when the
  // file does not end with one (kParagraph: a chunk starts at a record's
  // first byte, or at byte 0, and ends where the next record starts, or at
  // end of file; it may hold only blank lines). Chunks of all the ranges of
  // a file, concatenated, are the file. Returns false (with *chunk empty)
  // when the range is exhausted; an I/O error from `file`, or kUsage for a
  // delimiter CheckRecordDelimiter refuses. The view is valid until the
  // next call.
  Result<bool> NextChunk(std::string_view* chunk);

  // Bytes of the file consumed so far from `begin` (chunks yielded plus the
  // skipped prefix; not the look back before `begin`): the last chunk
  // starts at begin + bytes_read() - chunk.size().
  uint64_t bytes_read() const { return bytes_read_; }

  const RecordDelimiter& delimiter() const { return delim_; }

 private:
  // A search of the buffer for record starts ("boundaries"), in buffer
  // indexes: `found` at `pos`, or none among the bytes buffered, in which
  // case none lies in [min, next_from) (what lies at or after next_from
  // needs more bytes to decide).
  struct Scan {
    bool found;
    size_t pos;
    size_t next_from;
  };
  enum class Start : uint8_t { kYes, kNo, kUndecided };

  Status SkipToFirstRecord();
  Status Fill();
  Scan FindFirst(size_t min) const;
  size_t FindLast(size_t lo, size_t hi) const;  // 0: none in [lo, hi]
  Start ParagraphStartAt(size_t q) const;

  ReadableFile& file_;
  uint64_t begin_;
  uint64_t end_;
  RecordDelimiter delim_;
  size_t lookback_;   // bytes before a record start that decide it is one
  std::string own_;   // the buffer, unless the caller lent one
  std::string& buf_;  // own_ or the caller's storage
  size_t buffer_bytes_;
  uint64_t buf_pos_ = 0;    // file offset of buf_[0]
  size_t data_begin_ = 0;   // next record start (or, while skipping, scan start)
  size_t data_end_ = 0;     // buf_[0, data_end_) holds file bytes
  uint64_t bytes_read_ = 0;
  bool started_ = false;
  bool eof_ = false;
  bool done_ = false;
};

// The first occurrence of the m >= 2 bytes at `d` in [p, end), or nullptr.
// memchr for the first byte, then memcmp: on text where that byte is rare
// it is several times faster than glibc's memmem, whose setup dominates a
// search for a short record; after 16 false starts in one call it hands
// the rest to memmem, which stays linear whatever the text.
inline const char* FindDelimiterString(const char* p, const char* end, const char* d, size_t m) {
  int false_starts = 0;
  while (static_cast<size_t>(end - p) >= m) {
    p = static_cast<const char*>(__builtin_memchr(p, static_cast<unsigned char>(d[0]),
                                                  static_cast<size_t>(end - p) - m + 1));
    if (p == nullptr) return nullptr;
    if (std::memcmp(p + 1, d + 1, m - 1) == 0) return p;
    ++p;
    if (++false_starts == 16) return static_cast<const char*>(::memmem(p, end - p, d, m));
  }
  return nullptr;
}

// Calls fn(std::string_view record, size_t offset_in_chunk) for each record
// of a chunk from DelimitedReader::NextChunk, without its delimiter (kLine:
// as ForEachLine; kParagraph: skipping blank lines, never an empty record).
// `d` must be the reader's delimiter. No allocation, one switch per chunk.
template <class Fn>
inline void ForEachDelimited(std::string_view chunk, const RecordDelimiter& d, Fn&& fn) {
  const char* const begin = chunk.data();
  const char* p = begin;
  const char* const end = p + chunk.size();
  switch (d.kind) {
    case RecordDelimiter::kLine:
    case RecordDelimiter::kByte: {
      const bool crlf = d.kind == RecordDelimiter::kLine;
      const int c = static_cast<unsigned char>(d.bytes[0]);
      while (p < end) {
        const char* hit = static_cast<const char*>(__builtin_memchr(p, c, end - p));
        const char* stop = hit ? hit : end;
        const char* text_end = crlf && stop > p && stop[-1] == '\r' ? stop - 1 : stop;
        fn(std::string_view(p, text_end - p), static_cast<size_t>(p - begin));
        p = hit ? hit + 1 : end;
      }
      break;
    }
    case RecordDelimiter::kString: {
      const size_t m = d.bytes.size();
      while (p < end) {
        const char* hit = FindDelimiterString(p, end, d.bytes.data(), m);
        const char* stop = hit ? hit : end;
        fn(std::string_view(p, stop - p), static_cast<size_t>(p - begin));
        p = hit ? hit + m : end;
      }
      break;
    }
    case RecordDelimiter::kParagraph: {
      const char* record = nullptr;      // first byte of the open record
      const char* record_end = nullptr;  // end of its last line's text
      while (p < end) {
        const char* nl = static_cast<const char*>(__builtin_memchr(p, '\n', end - p));
        const char* stop = nl ? nl : end;
        if (stop > p && stop[-1] == '\r') --stop;
        if (stop == p) {  // a blank line closes the open record
          if (record != nullptr) {
            fn(std::string_view(record, record_end - record), static_cast<size_t>(record - begin));
            record = nullptr;
          }
        } else {
          if (record == nullptr) record = p;
          record_end = stop;
        }
        p = nl ? nl + 1 : end;
      }
      if (record != nullptr) {
        fn(std::string_view(record, record_end - record), static_cast<size_t>(record - begin));
      }
      break;
    }
  }
}

}  // namespace sluice
