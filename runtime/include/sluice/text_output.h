// Reduce output as text: what a job writes unless it declares another
// Output. One record per line, in the format --output-format chooses
// (JobSettings::output_format):
//   text   `key<TAB>value`. A pair or tuple is its fields joined by tabs.
//          A record this cannot show unambiguously is REFUSED (the task
//          fails, kUserCode, exit 6, naming the part, the record and the
//          key): a key field holding a tab, a line break or a carriage
//          return; a value holding a line break or ending with a carriage
//          return (a CRLF-aware reader would drop it); a field of a pair or
//          tuple value holding a tab. csv and jsonl quote all of these.
//   csv    RFC 4180: every part file is a whole CSV file with a header row;
//          a field is quoted only when it holds a comma, a double quote, a
//          CR or an LF, its quotes doubled. Rows end with LF. Bytes pass
//          through as they are (CSV has no encoding).
//   jsonl  one JSON object per line, {"key":K,"value":V}: strings
//          JSON-escaped (control characters as \n, \t, ... or \u00XX),
//          numbers and booleans bare, a pair or tuple as an array. A string
//          that is not valid UTF-8 is REFUSED like an ambiguous text record
//          (JSON cannot carry it; csv passes it through). A float that is
//          not finite is written as the string "nan", "inf" or "-inf".
// Column names, for the csv header and the jsonl members: a job may declare
//   static constexpr std::array<std::string_view, 3> kOutputColumns = {"word", "count", "share"};
// naming the key's fields then the value's (a pair or tuple counts each
// field): then every record must have that many fields, and jsonl writes
// {"word":...,"count":...,"share":...}. Without it the csv header is `key`
// (or `key_1,key_2,...` for a tuple key) then `value` (or `value_1,...`),
// taken from the first record, so a part with no record is an empty file.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "io/buffered_writer.h"
#include "io/compressed_writer.h"
#include "io/status.h"
#include <sluice/detail/job_settings.h>

namespace sluice {

// Appends the text form of a value: strings as they are, numbers in the
// shortest form that reads back exactly, bools as true/false, pairs and
// tuples as their fields separated by tabs, anything else through its
// operator<<.
template <class T>
void AppendText(std::string* out, const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out->append(std::string_view(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    out->append(v ? "true" : "false");
  } else if constexpr (std::is_same_v<T, char>) {
    out->push_back(v);
  } else if constexpr (std::is_arithmetic_v<T>) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, r.ptr);
  } else if constexpr (requires { std::tuple_size<T>::value; }) {
    std::apply(
        [out](const auto&... fields) {
          bool first = true;
          ((first ? void() : out->push_back('\t'), first = false, AppendText(out, fields)), ...);
        },
        v);
  } else {
    std::ostringstream os;
    os << v;
    out->append(os.str());
  }
}

namespace text_output_detail {

// Pairs and tuples are records of fields; anything else is one field (a
// string converts to a view first, as in AppendText).
template <class T>
constexpr bool kIsTuple = !std::is_convertible_v<const T&, std::string_view> && requires {
  std::tuple_size<T>::value;
};

// Leaf fields of a value: nested pairs and tuples are flattened.
template <class T>
constexpr size_t FieldCount() {
  if constexpr (kIsTuple<T>) {
    return []<size_t... I>(std::index_sequence<I...>) {
      return (size_t{0} + ... + FieldCount<std::tuple_element_t<I, T>>());
    }
    (std::make_index_sequence<std::tuple_size_v<T>>{});
  } else {
    return 1;
  }
}

// Calls f(leaf) for each leaf field of v, in order.
template <class T, class F>
void ForEachField(const T& v, F& f) {
  if constexpr (kIsTuple<T>) {
    std::apply([&f](const auto&... fields) { (ForEachField(fields, f), ...); }, v);
  } else {
    f(v);
  }
}

// A field whose text may hold any byte (numbers and bools never hold a
// separator, so they are not scanned).
template <class T>
constexpr bool kFreeText = std::is_same_v<T, char> || !std::is_arithmetic_v<T>;

// Which bytes a text field may not hold.
enum FieldRule : uint8_t { kNoNewline = 1, kNoTab = 2, kNoCr = 4 };

// The first byte of `s` that `rules` forbid, or 0. All three are <= '\r'
// (13), so eight bytes at a time are first tested for holding any byte
// below 14 ((x - 14 per byte) & ~x & high bits, exact as a yes/no); only
// then are bytes looked at one by one.
inline char FirstForbidden(std::string_view s, uint8_t rules) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    if (((x - kOnes * 14) & ~x & kHighs) != 0) break;
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) > '\r') continue;
    if (c == '\n' || (c == '\t' && (rules & kNoTab)) || (c == '\r' && (rules & kNoCr))) return c;
  }
  return 0;
}

// The length of the valid UTF-8 sequence at s[i] (1..4), or 0 if the bytes
// there are not one (overlong forms, surrogates and code points past
// U+10FFFF are not).
inline size_t Utf8SequenceAt(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto cont = [&](size_t k) { return (at(k) & 0xc0) == 0x80; };
  const unsigned c = at(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    return at(1) >= lo && at(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    return at(1) >= lo && at(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Appends s as a JSON string. False (and `out` partly written) when s is not
// valid UTF-8; *bad_at is then the offset of the first bad byte.
inline bool AppendJsonString(std::string* out, std::string_view s, size_t* bad_at) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the bytes not yet appended, copied in one go
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t n = Utf8SequenceAt(s, i);
      if (n == 0) {
        *bad_at = i;
        return false;
      }
      i += n;
      continue;
    }
    out->append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
    run = ++i;
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
  return true;
}

// Appends s as one CSV field, quoted (its quotes doubled) only when it
// holds a comma, a quote, a CR or an LF.
inline void AppendCsvField(std::string* out, std::string_view s) {
  bool quote = false;
  for (char c : s) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// s for an error message, in double quotes: a backslash, a quote, \t, \n, \r
// and other bytes outside printable ASCII escaped (\xHH), cut at about
// max_chars with "...".
inline std::string VisibleText(std::string_view s, size_t max_chars = 80) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    if (out.size() > max_chars) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out.push_back(ch);
        } else {
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        }
    }
  }
  return out + "\"";
}

}  // namespace text_output_detail

struct TextOutputOptions {
  OutputFormat format = OutputFormat::kText;
  // csv header and jsonl member names: the key's fields then the value's.
  // Empty: key, value (key_1, ... for tuples).
  std::vector<std::string> columns;
  // The part, as error messages name it ("partition 3", "split 7").
  std::string part = "this part";
  // False for a later piece of a part another writer began: no csv header.
  bool header = true;
};

// Not thread-safe. Errors do not throw: a refused record (see the top of
// this file) is remembered, nothing is written after it, and Finish()
// returns it; a write error sticks in the BufferedWriter.
class TextOutput {
 public:
  explicit TextOutput(BufferedWriter* writer, TextOutputOptions options = {});

  template <class A, class B>
  void operator()(const A& key, const B& value) {
    if (!refusal_.ok()) return;
    line_.clear();
    bool ok = true;
    switch (format_) {
      case OutputFormat::kText:
        ok = TextLine(key, value);
        break;
      case OutputFormat::kCsv:
        ok = CsvLine(key, value);
        break;
      case OutputFormat::kJsonl:
        ok = JsonLine(key, value);
        break;
    }
    if (!ok) return;
    // The writer keeps its first error; the engine checks it once per task.
    (void)writer_->Append(line_);
    ++records_;
  }

  uint64_t records() const { return records_; }
  // The first refused record, if any (every line written before it is
  // whole). Every output format has Finish(); the engine calls it at the
  // end of a task.
  Status Finish() { return refusal_; }

 private:
  template <class A, class B>
  bool TextLine(const A& key, const B& value) {
    using namespace text_output_detail;
    // Each text field is scanned as it is appended: the bytes are in cache
    // and nothing is scanned twice.
    char bad = 0;
    bool first = true;
    auto key_field = [&](const auto& f) {
      if (!first) line_.push_back('\t');
      first = false;
      const size_t at = line_.size();
      AppendText(&line_, f);
      if constexpr (kFreeText<std::decay_t<decltype(f)>>) {
        if (bad == 0)
          bad = FirstForbidden(std::string_view(line_).substr(at), kNoNewline | kNoTab | kNoCr);
      }
    };
    ForEachField(key, key_field);
    if (bad != 0) return Refuse(RefusedKeyByte(bad), line_.size());
    const size_t key_end = line_.size();
    line_.push_back('\t');
    // The value may hold tabs: a reader splits a line at its first tab, and
    // the rest is the value. (A pair or tuple value's fields are joined by
    // tabs for the eye; jobs such as join put whole tab-separated records
    // in them, and a reader that needs the fields back asks for csv or
    // jsonl.)
    constexpr uint8_t kValueRules = kNoNewline;
    first = true;
    auto value_field = [&](const auto& f) {
      if (!first) line_.push_back('\t');
      first = false;
      const size_t at = line_.size();
      AppendText(&line_, f);
      if constexpr (kFreeText<std::decay_t<decltype(f)>>) {
        if (bad == 0) bad = FirstForbidden(std::string_view(line_).substr(at), kValueRules);
      }
    };
    ForEachField(value, value_field);
    if (bad != 0) {
      return Refuse("its value holds a line break", key_end);
    }
    if (line_.back() == '\r') {
      return Refuse(
          "its value ends with a carriage return, which CRLF-aware readers drop with the "
          "line break",
          key_end);
    }
    line_.push_back('\n');
    return true;
  }

  template <class A, class B>
  bool CsvLine(const A& key, const B& value) {
    using namespace text_output_detail;
    constexpr size_t kKeyFields = FieldCount<A>(), kFields = kKeyFields + FieldCount<B>();
    if (!CheckFieldCount(kKeyFields, kFields)) return false;
    if (!header_written_) WriteCsvHeader();
    bool first = true;
    auto field = [&](const auto& f) {
      if (!first) line_.push_back(',');
      first = false;
      using F = std::decay_t<decltype(f)>;
      if constexpr (std::is_convertible_v<const F&, std::string_view>) {
        AppendCsvField(&line_, std::string_view(f));
      } else if constexpr (kFreeText<F>) {
        scratch_.clear();
        AppendText(&scratch_, f);
        AppendCsvField(&line_, scratch_);
      } else {
        AppendText(&line_, f);
      }
    };
    ForEachField(key, field);
    ForEachField(value, field);
    line_.push_back('\n');
    return true;
  }

  template <class A, class B>
  bool JsonLine(const A& key, const B& value) {
    using namespace text_output_detail;
    // Without column names each object names its own members, so records
    // may differ in shape; with them, every field needs its name.
    constexpr size_t kKeyFields = FieldCount<A>(), kFields = kKeyFields + FieldCount<B>();
    if (!columns_.empty() && !CheckFieldCount(kKeyFields, kFields)) return false;
    bad_utf8_ = false;
    if (columns_.empty()) {
      line_.append("{\"key\":");
      AppendJson(key);
      if (bad_utf8_) return RefuseUtf8("key");
      line_.append(",\"value\":");
      AppendJson(value);
      if (bad_utf8_) return RefuseUtf8("value");
    } else {
      size_t i = 0;
      auto field = [&](const auto& f) {
        line_.append(member_prefixes_[i++]);
        AppendJson(f);
      };
      ForEachField(key, field);
      if (bad_utf8_) return RefuseUtf8("key");
      ForEachField(value, field);
      if (bad_utf8_) return RefuseUtf8("value");
    }
    line_.append("}\n");
    return true;
  }

  template <class T>
  void AppendJson(const T& v) {
    using namespace text_output_detail;
    if constexpr (kIsTuple<T>) {
      line_.push_back('[');
      std::apply(
          [this](const auto&... fields) {
            bool first = true;
            ((first ? void() : line_.push_back(','), first = false, AppendJson(fields)), ...);
          },
          v);
      line_.push_back(']');
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, char>) {  // bool too
      AppendText(&line_, v);
    } else if constexpr (std::is_floating_point_v<T>) {
      if (std::isfinite(v)) {
        AppendText(&line_, v);
      } else {
        line_.append(std::isnan(v) ? "\"nan\"" : v > 0 ? "\"inf\"" : "\"-inf\"");
      }
    } else {
      std::string_view text;
      if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        text = std::string_view(v);
      } else {
        scratch_.clear();
        AppendText(&scratch_, v);
        text = scratch_;
      }
      size_t bad_at = 0;
      if (!AppendJsonString(&line_, text, &bad_at) && !bad_utf8_) {
        bad_utf8_ = true;
        bad_text_.assign(text);
        bad_at_ = bad_at;
      }
    }
  }

  static const char* RefusedKeyByte(char c) {
    return c == '\t'   ? "its key holds a tab, the key/value separator"
           : c == '\n' ? "its key holds a line break"
                       : "its key holds a carriage return, which CRLF-aware readers drop";
  }

  // Remembers the refusal of the record being written (its key is
  // line_[0, key_end)); false, so that the caller writes nothing.
  bool Refuse(const char* why, size_t key_end) {
    refusal_ = Status::UserCode(
        "output record " + std::to_string(records_ + 1) + " of " + part_ + " (key " +
        text_output_detail::VisibleText(std::string_view(line_).substr(0, key_end)) +
        ") cannot be written as text: " + why +
        "; --output-format csv or --output-format jsonl quote it");
    return false;
  }
  bool RefuseUtf8(const char* which) {
    refusal_ = Status::UserCode(
        "output record " + std::to_string(records_ + 1) + " of " + part_ +
        " cannot be written as " + "JSON: its " + which + " holds " +
        text_output_detail::VisibleText(bad_text_) + ", which is not UTF-8 (bad byte at offset " +
        std::to_string(bad_at_) + "); --output-format csv or text pass any bytes through");
    return false;
  }
  // Every record has as many fields as the columns, or as the first record.
  bool CheckFieldCount(size_t key_fields, size_t fields) {
    if (fields == fields_) return true;
    if (fields_ == 0) {
      fields_ = fields;
      key_fields_ = key_fields;
      return true;
    }
    refusal_ = Status::UserCode(
        "output record " + std::to_string(records_ + 1) + " of " + part_ + " has " +
        std::to_string(fields) + " fields (key and value), but " +
        (columns_.empty() ? "the records before it have " + std::to_string(fields_)
                          : "the job's kOutputColumns names " + std::to_string(fields_)) +
        ": every row of a " + (format_ == OutputFormat::kCsv ? "CSV" : "JSON Lines") +
        " file has the same columns");
    return false;
  }
  void WriteCsvHeader();

  BufferedWriter* writer_;
  OutputFormat format_;
  std::vector<std::string> columns_;
  std::vector<std::string> member_prefixes_;  // jsonl: {"name": then ,"name":
  std::string part_;
  std::string line_;
  std::string scratch_;
  size_t fields_ = 0;  // fields per record, once known (0: not yet)
  size_t key_fields_ = 0;
  bool header_written_ = false;
  bool bad_utf8_ = false;
  std::string bad_text_;
  size_t bad_at_ = 0;
  uint64_t records_ = 0;
  Status refusal_;
};

inline TextOutput::TextOutput(BufferedWriter* writer, TextOutputOptions options)
    : writer_(writer),
      format_(options.format),
      columns_(std::move(options.columns)),
      part_(std::move(options.part)),
      fields_(columns_.size()),
      header_written_(!options.header) {
  if (format_ == OutputFormat::kJsonl) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      std::string prefix = i == 0 ? "{" : ",";
      size_t bad_at = 0;
      if (!text_output_detail::AppendJsonString(&prefix, columns_[i], &bad_at)) {
        refusal_ = Status::UserCode("the job's kOutputColumns name " +
                                    text_output_detail::VisibleText(columns_[i]) +
                                    " is not UTF-8, so it cannot name a JSON member");
      }
      member_prefixes_.push_back(prefix + ":");
    }
  }
  // With the columns known, even a part with no record is a whole CSV file.
  if (format_ == OutputFormat::kCsv && !columns_.empty() && options.header) WriteCsvHeader();
}

inline void TextOutput::WriteCsvHeader() {
  header_written_ = true;
  std::string header;
  auto add = [&](std::string_view name) {
    if (!header.empty()) header.push_back(',');
    text_output_detail::AppendCsvField(&header, name);
  };
  if (!columns_.empty()) {
    for (const std::string& name : columns_) add(name);
  } else {
    auto numbered = [&](std::string_view base, size_t n) {
      if (n == 1) return add(base);
      for (size_t i = 1; i <= n; ++i) add(std::string(base) + "_" + std::to_string(i));
    };
    numbered("key", key_fields_);
    numbered("value", fields_ - key_fields_);
  }
  header.push_back('\n');
  (void)writer_->Append(header);  // an error sticks in the writer
}

template <class K, class V>
class KeyValueOutput;  // kv_output.h

namespace text_output_detail {
template <class T>
constexpr bool kIsKeyValueOutput = false;
template <class K, class V>
constexpr bool kIsKeyValueOutput<KeyValueOutput<K, V>> = true;

inline Status RefusedSetting(const JobSettings& settings, bool key_value_output) {
  if (settings.output_format != OutputFormat::kText) {
    return Status::Usage("--output-format " +
                         std::string(OutputFormatName(settings.output_format)) +
                         " applies only to jobs whose Output is TextOutput (the default); this job "
                         "declares another Output (RecordOutput, KeyValueOutput or its own), whose "
                         "files have a format of their own");
  }
  if (key_value_output && settings.output_compression != OutputCompression::kNone) {
    return Status::Usage(
        "--output-compression " + std::string(OutputCompressionName(settings.output_compression)) +
        ": this job writes Sluice key-value files (KeyValueOutput), which are compressed block by "
        "block already and which KeyValueInput reads by seeking to their index; compressed again "
        "they could not be read back. Drop --output-compression");
  }
  return Status::OK();
}
}  // namespace text_output_detail

// How the engine (typed_runner.h) makes the Output of a task that writes
// `part` ("partition 3", "split 7"): a TextOutput in the format the
// settings choose, with the job's kOutputColumns if it declares them. Any
// other Output is made as before, from the writer alone; a setting it cannot
// honour (a format other than text; compression of KeyValueOutput files,
// which KeyValueInput reads by seeking) fails the writer with kUsage, so the
// task fails and nothing is published. The engine calls it unqualified:
// argument-dependent lookup finds it wherever a job's Output is defined.
template <class J, class Output>
Output MakeOutput(BufferedWriter* writer, const JobSettings& settings, std::string part) {
  if constexpr (std::is_same_v<Output, TextOutput>) {
    TextOutputOptions options;
    options.format = settings.output_format;
    options.part = std::move(part);
    options.header = !settings.continues_part;
    if constexpr (requires { J::kOutputColumns; }) {
      for (std::string_view name : J::kOutputColumns) options.columns.emplace_back(name);
    }
    return TextOutput(writer, std::move(options));
  } else {
    Status refused =
        text_output_detail::RefusedSetting(settings, text_output_detail::kIsKeyValueOutput<Output>);
    if (!refused.ok()) writer->Fail(std::move(refused));
    return Output(writer);
  }
}

}  // namespace sluice
