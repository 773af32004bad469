// The fields of a CSV record (RFC 4180), as a job's map() sees them.
//
//   void map(const sluice::CsvRow& row, Emitter& emit) {
//     std::string_view city = row["city"].as<std::string_view>();
//     int64_t amount = row["amount"].as<int64_t>();  // BadRecord if it is not one
//     ...
//   }
//
// Columns are numbered from 0, in the order of the record. A field that does
// not convert throws sluice::BadRecord (bad_record.h): the record is skipped
// and counted under --max-bad-records like any record Map rejects.
//
// Quoting: a field that starts with the quote is quoted; it ends at the
// next single quote, which must be followed by the delimiter or the end of
// the record; a doubled quote inside it is one quote. A field that does not
// start with the quote may not contain one. Anything else is a malformed
// record (CsvRow::parse_error), which never reaches map(). Spaces are data:
// `a, "b"` is malformed (the second field starts with a space, then holds a
// quote), and ` 12` is not an int64.
//
// Lifetimes: a CsvRow, its Fields and every string_view they give are valid
// during the map() call they were passed to (until the next record).
#pragma once

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "io/csv_reader.h"
#include "sluice/bad_record.h"

namespace sluice {

// The column names of one CSV file, from its first record.
class CsvHeader {
 public:
  static constexpr size_t npos = static_cast<size_t>(-1);

  CsvHeader() : serial_(NextSerial()) {}
  explicit CsvHeader(std::vector<std::string> names) : names_(std::move(names)), serial_(NextSerial()) {}

  // A number no other header made in this process has (copies share it).
  // A job that caches a column's index per file can key the cache on it:
  // a header's address may be reused by the next file's header.
  uint64_t serial() const { return serial_; }

  size_t size() const { return names_.size(); }
  // The name of column i < size().
  std::string_view name(size_t i) const { return names_[i]; }
  // The first column named `name`, or npos. A linear scan: headers are short.
  size_t find(std::string_view name) const {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i].size() == name.size() && std::string_view(names_[i]) == name) return i;
    }
    return npos;
  }
  // "a, b, c" (quoted names, for messages).
  std::string ToString() const {
    std::string out;
    for (size_t i = 0; i < names_.size(); ++i) {
      if (i > 0) out += ", ";
      out += '\'';
      out += names_[i];
      out += '\'';
    }
    return names_.empty() ? "no columns" : out;
  }

 private:
  static uint64_t NextSerial() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  std::vector<std::string> names_;
  uint64_t serial_;
};

// One field of a CsvRow: its text, unquoted and unescaped.
class Field {
 public:
  // The text; empty for a missing field.
  std::string_view text() const { return text_; }
  // False for a column the row does not have (a row shorter than others).
  bool present() const { return present_; }
  size_t index() const { return index_; }

  // The field as a T, one of: std::string_view, std::string, int64_t,
  // int32_t, uint64_t, uint32_t, double, float, bool. Numbers are read by
  // std::from_chars: the whole text must be the number (no surrounding
  // spaces, no '+', no thousands separators), in decimal, in T's range; bool
  // is exactly "true", "false", "1" or "0". An empty field is text like any
  // other: "" as a number is an error, as a string it is "". Throws BadRecord
  // ("column 'amount' (3): 'abc' is not an int64") when the text is not a T
  // or the field is missing.
  template <class T>
  T as() const;

 private:
  friend class CsvRow;
  Field(std::string_view text, size_t index, size_t row_size, const CsvHeader* header, bool present)
      : text_(text), index_(index), row_size_(row_size), header_(header), present_(present) {}

  // Throws BadRecord: "column 'x' (3): 'abc' <problem> a(n) <type>", or
  // that the field is missing.
  [[noreturn, gnu::cold]] void ThrowNotA(const char* type, const char* problem) const;
  template <class T>
  T AsNumber(const char* type) const;

  std::string_view text_;
  size_t index_;
  size_t row_size_;
  const CsvHeader* header_;
  bool present_;
};

// One CSV record split into fields. Made by CsvParser; passed to map().
class CsvRow {
 public:
  // Fields in this record (it may differ from the header's count: a short
  // row's missing fields are Fields whose present() is false).
  size_t size() const { return size_; }
  // Field i (0-based); a Field that is not present() when i >= size().
  Field operator[](size_t i) const {
    return i < size_ ? Field(fields_[i], i, size_, header_, true)
                     : Field({}, i, size_, header_, false);
  }
  // The field in the column the file's header names `name`. A name the
  // header lacks, or any name when the input is read without a header, is a
  // bug in the job, not bad data: throws std::invalid_argument naming the
  // column and listing the header (the job fails, exit 6).
  Field operator[](std::string_view name) const {
    const size_t i = header_ != nullptr ? header_->find(name) : CsvHeader::npos;
    if (i == CsvHeader::npos) ThrowNoColumn(name);
    return (*this)[i];
  }
  // The raw bytes of the record, quotes and all, without its line ending.
  std::string_view record() const { return record_; }
  // nullptr when the record parsed; else why not (an unbalanced quote, a
  // quote inside an unquoted field, text after a closing quote). The engine
  // counts such a record as bad and never passes it to map(); size() is 0.
  const char* parse_error() const { return error_; }
  // The header of the record's file; nullptr when read without one.
  const CsvHeader* header() const { return header_; }

 private:
  friend class CsvParser;
  [[noreturn, gnu::cold, gnu::noinline]] void ThrowNoColumn(std::string_view name) const {
    if (header_ == nullptr) {
      throw std::invalid_argument("CSV column '" + std::string(name) +
                                  "' asked for by name, but the input is read without a header "
                                  "(CsvOptions::header is false): ask by index");
    }
    throw std::invalid_argument("CSV column '" + std::string(name) +
                                "' is not in the file's header: " + header_->ToString());
  }

  std::string_view record_;
  const std::string_view* fields_ = nullptr;
  size_t size_ = 0;
  const CsvHeader* header_ = nullptr;
  const char* error_ = nullptr;
};

// Splits records into fields (the rules at the top of this file), reusing
// its memory: no allocation per record once its buffers have grown to the
// longest record. The CsvRow that Parse returns points into the record and
// into the parser, and is valid until the next Parse.
class CsvParser {
 public:
  // `header` (may be null) must outlive the parser. quote 0: no quoting.
  CsvParser(char delimiter, char quote, const CsvHeader* header)
      : delimiter_(delimiter), quote_(quote) {
    row_.header_ = header;
  }
  CsvParser(const CsvParser&) = delete;
  CsvParser& operator=(const CsvParser&) = delete;

  // `record` without its line ending; it must stay valid while the row is used.
  const CsvRow& Parse(std::string_view record) {
    fields_.clear();
    if (SplitUnquoted(record)) {
      row_.record_ = record;
      row_.error_ = nullptr;
      row_.fields_ = fields_.data();
      row_.size_ = fields_.size();
      return row_;
    }
    fields_.clear();
    // Unescaped text is never longer than the record, so the scratch never
    // reallocates while views into it are handed out.
    if (scratch_.size() < record.size())
      scratch_.resize(std::max(record.size(), 2 * scratch_.size()));
    char* out = scratch_.data();
    const char* p = record.data();
    const char* const end = p + record.size();
    const char delimiter = delimiter_;  // locals: stores through char* could alias members
    const char quote = quote_;
    const char* error = nullptr;
    while (true) {
      if (quote != 0 && p < end && *p == quote) {
        const char* segment = p + 1;  // text not yet copied, if copying
        const char* q = segment;
        char* copy = nullptr;  // where the unescaped text starts in scratch_
        while (true) {
          const char* c =
              static_cast<const char*>(std::memchr(q, quote, static_cast<size_t>(end - q)));
          if (c == nullptr) {
            error = "unbalanced quote: a quoted field is not closed";
            break;
          }
          if (c + 1 < end && c[1] == quote) {  // "" is one quote
            if (copy == nullptr) copy = out;
            std::memcpy(out, segment, static_cast<size_t>(c + 1 - segment));
            out += c + 1 - segment;
            segment = q = c + 2;
            continue;
          }
          if (copy == nullptr) {
            fields_.emplace_back(segment, static_cast<size_t>(c - segment));
          } else {
            std::memcpy(out, segment, static_cast<size_t>(c - segment));
            out += c - segment;
            fields_.emplace_back(copy, static_cast<size_t>(out - copy));
          }
          p = c + 1;
          break;
        }
        if (error != nullptr) break;
        if (p == end) break;
        if (*p != delimiter) {
          error = "text after a closing quote (a quoted field must end at a delimiter)";
          break;
        }
        ++p;
      } else {
        // The field's end and any quote in it, in one pass (quote 0: the
        // delimiter twice, so no quote is ever found).
        const char* hit = csv_detail::FindEither(p, end, delimiter, quote != 0 ? quote : delimiter);
        if (hit != nullptr && *hit != delimiter) {
          error = "a quote inside an unquoted field (quote the field and double the quote)";
          break;
        }
        const char* field_end = hit != nullptr ? hit : end;
        fields_.emplace_back(p, static_cast<size_t>(field_end - p));
        if (hit == nullptr) break;
        p = field_end + 1;
      }
    }
    row_.record_ = record;
    row_.error_ = error;
    row_.fields_ = fields_.data();
    row_.size_ = error == nullptr ? fields_.size() : 0;
    return row_;
  }

 private:
  // The common record, with no quote in it: its fields are the text
  // between delimiters, found 16 bytes at a time (SSE2) in one pass over
  // the record, where the general loop below calls FindEither per field.
  // False as soon as a quote is seen (fields_ then holds a prefix): the
  // general loop parses the record instead.
  bool SplitUnquoted(std::string_view record) {
    const char* const p = record.data();
    const size_t n = record.size();
    const char delimiter = delimiter_;
    const char quote = quote_;
    size_t start = 0;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i vd = _mm_set1_epi8(delimiter);
    const __m128i vq = _mm_set1_epi8(quote);
    const int quotes_mask = quote != 0 ? 0xFFFF : 0;  // quote 0: none
    for (; i + 16 <= n; i += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      if ((_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq)) & quotes_mask) != 0) return false;
      auto delimiters = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, vd)));
      while (delimiters != 0) {
        const size_t at = i + static_cast<size_t>(__builtin_ctz(delimiters));
        fields_.emplace_back(p + start, at - start);
        start = at + 1;
        delimiters &= delimiters - 1;
      }
    }
#endif
    for (; i < n; ++i) {
      if (p[i] == quote && quote != 0) return false;
      if (p[i] == delimiter) {
        fields_.emplace_back(p + start, i - start);
        start = i + 1;
      }
    }
    fields_.emplace_back(p + start, n - start);
    return true;
  }

  char delimiter_;
  char quote_;
  std::vector<std::string_view> fields_;
  std::string scratch_;  // fields unescaped from doubled quotes
  CsvRow row_;
};

// ---------------------------------------------------------------------------
// Implementation.

inline void Field::ThrowNotA(const char* type, const char* problem) const {
  std::string where = "column ";
  if (header_ != nullptr && index_ < header_->size()) {
    where += '\'';
    where += header_->name(index_);
    where += "' (" + std::to_string(index_) + ")";
  } else {
    where += std::to_string(index_);
  }
  if (!present_) {
    throw BadRecord("row has " + std::to_string(row_size_) + " columns, " + where +
                    " is missing (expected " + type + ")");
  }
  // Long fields are cut: the message names the record's offset anyway.
  constexpr size_t kShown = 64;
  std::string shown(text_.substr(0, kShown));
  if (text_.size() > kShown) shown += "...";
  const char* article = type[0] == 'i' ? " an " : " a ";
  throw BadRecord(where + ": '" + shown + "' " + problem + article + type);
}

template <class T>
inline T Field::AsNumber(const char* type) const {
  if (!present_) ThrowNotA(type, "");
  T value{};
  const char* first = text_.data();
  const char* last = first + text_.size();
  const std::from_chars_result r = std::from_chars(first, last, value);
  if (r.ec == std::errc::result_out_of_range) ThrowNotA(type, "is out of range for");
  if (r.ec != std::errc() || r.ptr != last) ThrowNotA(type, "is not");
  return value;
}

template <class T>
inline T Field::as() const {
  if constexpr (std::is_same_v<T, std::string_view>) {
    if (!present_) ThrowNotA("string", "");
    return text_;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!present_) ThrowNotA("string", "");
    return std::string(text_);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return AsNumber<int64_t>("int64");
  } else if constexpr (std::is_same_v<T, int32_t>) {
    return AsNumber<int32_t>("int32");
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    return AsNumber<uint64_t>("uint64");
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    return AsNumber<uint32_t>("uint32");
  } else if constexpr (std::is_same_v<T, double>) {
    return AsNumber<double>("double");
  } else if constexpr (std::is_same_v<T, float>) {
    return AsNumber<float>("float");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!present_) ThrowNotA("bool", "");
    if (text_ == "true" || text_ == "1") return true;
    if (text_ == "false" || text_ == "0") return false;
    ThrowNotA("bool (true, false, 1 or 0)", "is not");
  } else {
    static_assert(!sizeof(T),
                  "Field::as<T>: T must be std::string_view, std::string, int64_t, int32_t, "
                  "uint64_t, uint32_t, double, float or bool");
  }
}

}  // namespace sluice
