// One JSON Lines record (a JSON value on one line), as a job's map() sees it.
//
//   void map(const sluice::JsonRecord& rec, Emitter& emit) {
//     int64_t id = rec["user"]["id"].as<int64_t>();   // BadRecord if not one
//     for (sluice::JsonValue tag : rec["tags"]) emit(tag.as<std::string_view>(), 1);
//     if (rec["score"].present()) ...
//   }
//
// A field that is missing or of the wrong type throws sluice::BadRecord
// (bad_record.h) when converted: the record is skipped and counted under
// --max-bad-records like any record Map rejects, with a message naming the
// field's path ("field 'user.id': expected int64, got string \"abc\"").
//
// Parsed by simdjson's DOM parser. Lifetimes: a JsonRecord, its JsonValues
// and every string_view they give are valid during the map() call they were
// passed to (until the next record). Accessors do not allocate, except
// text() of an object or array and the error paths.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sluice/bad_record.h"

namespace sluice {

class JsonRecord;

namespace json_detail {

// Bytes that live until the next record: the text of numbers (text()) and
// the paths of missing fields. Append-only within a record, so views into
// it stay valid; its blocks are reused for the next record.
class Arena {
 public:
  void Reset() {
    next_block_ = 0;
    left_ = 0;
  }
  char* Alloc(size_t n) {
    if (n > left_) {
      if (next_block_ == blocks_.size()) blocks_.push_back(Block{});
      Block& b = blocks_[next_block_++];
      if (b.size < n) {  // not in use this record: nothing points into it
        b.size = std::max(n, kBlockBytes);
        b.data.reset(new char[b.size]);
      }
      pos_ = b.data.get();
      left_ = b.size;
    }
    char* p = pos_;
    pos_ += n;
    left_ -= n;
    return p;
  }

 private:
  static constexpr size_t kBlockBytes = 4096;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };
  std::vector<Block> blocks_;
  size_t next_block_ = 0;  // blocks_[0, next_block_) are in use
  char* pos_ = nullptr;    // free space in the last block in use
  size_t left_ = 0;
};

// An element is a reference into its document (a tape position), so two
// elements with the same bytes are the same value. Paths for messages are
// found from the root by that identity, only when a message is needed.
static_assert(std::is_trivially_copyable_v<simdjson::dom::element> &&
              std::has_unique_object_representations_v<simdjson::dom::element>);
inline bool Same(const simdjson::dom::element& a, const simdjson::dom::element& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

inline bool FindPath(simdjson::dom::element node, const simdjson::dom::element& target,
                     std::string* path) {
  if (Same(node, target)) return true;
  const size_t keep = path->size();
  if (node.type() == simdjson::dom::element_type::OBJECT) {
    for (simdjson::dom::key_value_pair field : simdjson::dom::object(node)) {
      if (!path->empty()) *path += '.';
      *path += field.key;
      if (FindPath(field.value, target, path)) return true;
      path->resize(keep);
    }
  } else if (node.type() == simdjson::dom::element_type::ARRAY) {
    size_t i = 0;
    for (simdjson::dom::element child : simdjson::dom::array(node)) {
      *path += '[' + std::to_string(i++) + ']';
      if (FindPath(child, target, path)) return true;
      path->resize(keep);
    }
  }
  return false;
}

}  // namespace json_detail

// A value inside a JsonRecord, or a missing one (present() false): asking
// for a key an object lacks, or an index past an array's end, is not an
// error until the value is converted.
class JsonValue {
 public:
  // The member `key` of an object; missing when there is none (of a missing
  // value: missing too). Throws BadRecord when the value is not an object.
  // With duplicate keys, the first. A linear scan of the object's members.
  JsonValue operator[](std::string_view key) const;
  // Element i of an array; missing when i >= size(). Throws BadRecord when
  // the value is not an array. Linear in i: to visit every element, iterate.
  JsonValue operator[](size_t index) const;

  // The value as a T:
  //   int64_t, int32_t, uint64_t, uint32_t  a JSON integer in T's range
  //                                         (not 3.0: that is a double)
  //   double, float                         any JSON number
  //   bool                                  true or false
  //   std::string_view, std::string         a JSON string, unescaped
  // Throws BadRecord naming the field's path when the value is missing, of
  // another type, or out of range (no conversion between strings and
  // numbers: use text() for that).
  template <class T>
  T as() const;

  // False for a missing value.
  bool present() const { return present_; }
  bool is_null() const { return present_ && el_.type() == simdjson::dom::element_type::NULL_VALUE; }
  bool is_string() const { return present_ && el_.type() == simdjson::dom::element_type::STRING; }
  bool is_bool() const { return present_ && el_.type() == simdjson::dom::element_type::BOOL; }
  bool is_number() const { return present_ && el_.is_number(); }
  bool is_object() const { return present_ && el_.type() == simdjson::dom::element_type::OBJECT; }
  bool is_array() const { return present_ && el_.type() == simdjson::dom::element_type::ARRAY; }

  // The value as text, for grouping or output whatever its type: a string's
  // text (unescaped); a number printed shortest (an integer in decimal, a
  // double as std::to_chars gives it, so 1.50 is "1.5" and 1e2 is "100");
  // "true", "false", "null"; an object or array as minified JSON (which
  // allocates). Empty for a missing value. Valid until the next record.
  std::string_view text() const;

  // Elements of an array or members of an object; throws BadRecord for
  // other values and missing ones.
  size_t size() const;

  // The elements of an array, in order: `for (JsonValue v : rec["tags"])`.
  // Throws BadRecord when the value is not an array (or is missing).
  class Iterator {
   public:
    JsonValue operator*() const { return JsonValue(*it_, rec_); }
    Iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return it_ != other.it_; }
    bool operator==(const Iterator& other) const { return !(it_ != other.it_); }

   private:
    friend class JsonValue;
    Iterator(simdjson::dom::array::iterator it, const JsonRecord* rec) : it_(it), rec_(rec) {}
    simdjson::dom::array::iterator it_;
    const JsonRecord* rec_;
  };
  Iterator begin() const { return Iterator(Array().begin(), rec_); }
  Iterator end() const { return Iterator(Array().end(), rec_); }

  // Where the value is in its record, for messages: "user.id", "tags[2]";
  // "" for the record's top-level value. Searches the record: not for hot
  // loops.
  std::string path() const;

 private:
  friend class JsonRecord;
  JsonValue(simdjson::dom::element el, const JsonRecord* rec) : el_(el), rec_(rec) {}
  JsonValue(simdjson::dom::element anchor, const JsonRecord* rec, std::string_view missing)
      : el_(anchor), rec_(rec), missing_(missing), present_(false) {}

  simdjson::dom::array Array() const;
  // A missing value below this one, `sep` + `name` further down.
  JsonValue Missing(char sep, std::string_view name) const;
  // "field 'user.id'" or "the record".
  std::string Describe() const;
  // "string \"abc\"", "int64 12", "object", ...
  static std::string Show(simdjson::dom::element el);
  [[noreturn, gnu::cold]] void ThrowExpected(const char* type, const char* note = "") const;

  // The value, or for a missing one its nearest present ancestor.
  simdjson::dom::element el_;
  const JsonRecord* rec_;
  // A missing value's path below el_ ("id", "user.id", "[3]"), in the
  // record's arena.
  std::string_view missing_;
  bool present_ = true;
};

// The top-level value of one JSON Lines record, and the line itself. Made by
// JsonParser; passed to map().
class JsonRecord {
 public:
  JsonRecord() = default;
  JsonRecord(const JsonRecord&) = delete;
  JsonRecord& operator=(const JsonRecord&) = delete;

  // The top-level value. Throws BadRecord when the line did not parse (the
  // engine never passes such a record to map()).
  JsonValue value() const {
    if (error_ != nullptr) [[unlikely]]
      ThrowUnparsed();
    return JsonValue(root_, this);
  }
  JsonValue operator[](std::string_view key) const { return value()[key]; }
  JsonValue operator[](size_t index) const { return value()[index]; }
  template <class T>
  T as() const {
    return value().template as<T>();
  }
  std::string_view text() const { return value().text(); }
  bool is_null() const { return value().is_null(); }
  JsonValue::Iterator begin() const { return value().begin(); }
  JsonValue::Iterator end() const { return value().end(); }

  // The raw line, without its line ending.
  std::string_view record() const { return record_; }
  // nullptr when the line parsed; else simdjson's reason (malformed JSON,
  // invalid UTF-8, nesting too deep, ...). The engine counts such a record
  // as bad and never passes it to map().
  const char* parse_error() const { return error_; }

 private:
  friend class JsonParser;
  friend class JsonValue;
  [[noreturn, gnu::cold, gnu::noinline]] void ThrowUnparsed() const {
    throw BadRecord(std::string("the line is not JSON: ") + error_);
  }

  simdjson::dom::element root_;
  std::string_view record_;
  const char* error_ = "no line parsed";
  mutable json_detail::Arena arena_;
};

// Parses one JSON text at a time, reusing its memory: no allocation per
// record once its buffers have grown to the longest line. The JsonRecord
// that Parse returns points into the parser and is valid until the next
// Parse. Not copyable or movable (the record points into it).
class JsonParser {
 public:
  JsonParser() = default;
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  const JsonRecord& Parse(std::string_view text) {
    // simdjson reads up to SIMDJSON_PADDING bytes past the data, so it is
    // parsed from a copy with room after it, not from the read buffer.
    const size_t need = text.size() + simdjson::SIMDJSON_PADDING;
    if (padded_.size() < need) padded_.resize(std::max(need, 2 * padded_.size()));
    if (!text.empty()) std::memcpy(padded_.data(), text.data(), text.size());
    std::memset(padded_.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    record_.arena_.Reset();
    record_.record_ = text;
    simdjson::dom::element root;
    const simdjson::error_code error =
        parser_.parse(padded_.data(), text.size(), /*realloc_if_needed=*/false).get(root);
    record_.error_ = error != simdjson::SUCCESS ? simdjson::error_message(error) : nullptr;
    record_.root_ = error != simdjson::SUCCESS ? simdjson::dom::element() : root;
    return record_;
  }

 private:
  simdjson::dom::parser parser_;
  std::string padded_;
  JsonRecord record_;
};

// ---------------------------------------------------------------------------
// Implementation.

inline JsonValue JsonValue::Missing(char sep, std::string_view name) const {
  const bool nested = !present_;
  const size_t n = (nested ? missing_.size() + 1 : 0) + name.size() + (sep == '[' ? 2 : 0);
  char* out = rec_->arena_.Alloc(n);
  char* p = out;
  if (nested) {
    std::memcpy(p, missing_.data(), missing_.size());
    p += missing_.size();
    if (sep == '.') *p++ = '.';
  }
  if (sep == '[') *p++ = '[';
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  if (sep == '[') *p++ = ']';
  return JsonValue(el_, rec_, std::string_view(out, static_cast<size_t>(p - out)));
}

inline JsonValue JsonValue::operator[](std::string_view key) const {
  if (!present_) return Missing('.', key);
  simdjson::dom::object object;
  if (el_.get(object) != simdjson::SUCCESS) ThrowExpected("object");
  simdjson::dom::element child;
  if (object.at_key(key).get(child) != simdjson::SUCCESS) return Missing('.', key);
  return JsonValue(child, rec_);
}

inline JsonValue JsonValue::operator[](size_t index) const {
  char digits[24];
  if (present_) {
    simdjson::dom::array array;
    if (el_.get(array) != simdjson::SUCCESS) ThrowExpected("array");
    simdjson::dom::element child;
    if (array.at(index).get(child) == simdjson::SUCCESS) return JsonValue(child, rec_);
  }
  const char* end = std::to_chars(digits, digits + sizeof digits, index).ptr;
  return Missing('[', std::string_view(digits, static_cast<size_t>(end - digits)));
}

inline simdjson::dom::array JsonValue::Array() const {
  simdjson::dom::array array;
  if (!present_ || el_.get(array) != simdjson::SUCCESS) ThrowExpected("array");
  return array;
}

inline size_t JsonValue::size() const {
  if (present_) {
    simdjson::dom::array array;
    if (el_.get(array) == simdjson::SUCCESS) return array.size();
    simdjson::dom::object object;
    if (el_.get(object) == simdjson::SUCCESS) return object.size();
  }
  ThrowExpected("array or object");
}

inline std::string_view JsonValue::text() const {
  using simdjson::dom::element_type;
  if (!present_) return {};
  switch (el_.type()) {
    case element_type::STRING:
      return el_.get_string().value_unsafe();
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: {
      constexpr size_t kMaxDigits = 32;  // "-1.2345678901234567e-308" and all integers fit
      char* out = rec_->arena_.Alloc(kMaxDigits);
      std::to_chars_result r{};
      if (el_.type() == element_type::INT64) {
        r = std::to_chars(out, out + kMaxDigits, el_.get_int64().value_unsafe());
      } else if (el_.type() == element_type::UINT64) {
        r = std::to_chars(out, out + kMaxDigits, el_.get_uint64().value_unsafe());
      } else {
        r = std::to_chars(out, out + kMaxDigits, el_.get_double().value_unsafe());
      }
      return std::string_view(out, static_cast<size_t>(r.ptr - out));
    }
    case element_type::BOOL:
      return el_.get_bool().value_unsafe() ? "true" : "false";
    case element_type::NULL_VALUE:
      return "null";
    case element_type::ARRAY:
    case element_type::OBJECT:
      break;
  }
  const std::string json = simdjson::minify(el_);
  char* out = rec_->arena_.Alloc(json.size());
  std::memcpy(out, json.data(), json.size());
  return std::string_view(out, json.size());
}

inline std::string JsonValue::path() const {
  std::string path;
  json_detail::FindPath(rec_->root_, el_, &path);
  if (!present_) {
    if (!path.empty() && (missing_.empty() || missing_.front() != '[')) path += '.';
    path += missing_;
  }
  return path;
}

inline std::string JsonValue::Describe() const {
  const std::string where = path();
  return where.empty() ? "the record" : "field '" + where + "'";
}

inline std::string JsonValue::Show(simdjson::dom::element el) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::STRING: {
      constexpr size_t kShown = 64;
      const std::string_view s = el.get_string().value_unsafe();
      return "string \"" + std::string(s.substr(0, kShown)) + (s.size() > kShown ? "...\"" : "\"");
    }
    case element_type::INT64:
      return "int64 " + std::to_string(el.get_int64().value_unsafe());
    case element_type::UINT64:
      return "uint64 " + std::to_string(el.get_uint64().value_unsafe());
    case element_type::DOUBLE: {
      char buf[32];
      char* end = std::to_chars(buf, buf + sizeof buf, el.get_double().value_unsafe()).ptr;
      return "double " + std::string(buf, end);
    }
    case element_type::BOOL:
      return el.get_bool().value_unsafe() ? "bool true" : "bool false";
    case element_type::NULL_VALUE:
      return "null";
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
  }
  return "?";
}

inline void JsonValue::ThrowExpected(const char* type, const char* note) const {
  if (!present_) throw BadRecord(Describe() + " is missing (expected " + type + ")");
  throw BadRecord(Describe() + ": expected " + type + ", got " + Show(el_) + note);
}

template <class T>
inline T JsonValue::as() const {
  if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, int32_t>) {
    constexpr const char* kType = std::is_same_v<T, int64_t> ? "int64" : "int32";
    int64_t v = 0;
    const simdjson::error_code e = present_ ? el_.get(v) : simdjson::INCORRECT_TYPE;
    if (e == simdjson::NUMBER_OUT_OF_RANGE) ThrowExpected(kType, " (out of range)");
    if (e != simdjson::SUCCESS) ThrowExpected(kType);
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      ThrowExpected(kType, " (out of range)");
    }
    return static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, uint64_t> || std::is_same_v<T, uint32_t>) {
    constexpr const char* kType = std::is_same_v<T, uint64_t> ? "uint64" : "uint32";
    uint64_t v = 0;
    const simdjson::error_code e = present_ ? el_.get(v) : simdjson::INCORRECT_TYPE;
    if (e == simdjson::NUMBER_OUT_OF_RANGE) ThrowExpected(kType, " (out of range)");
    if (e != simdjson::SUCCESS) ThrowExpected(kType);
    if (v > std::numeric_limits<T>::max()) ThrowExpected(kType, " (out of range)");
    return static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    double v = 0;
    if (!present_ || el_.get(v) != simdjson::SUCCESS) {
      ThrowExpected(std::is_same_v<T, double> ? "double" : "float");
    }
    return static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    bool v = false;
    if (!present_ || el_.get(v) != simdjson::SUCCESS) ThrowExpected("bool");
    return v;
  } else if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, std::string>) {
    std::string_view v;
    if (!present_ || el_.get(v) != simdjson::SUCCESS) ThrowExpected("string");
    return T(v);
  } else {
    static_assert(!sizeof(T),
                  "JsonValue::as<T>: T must be int64_t, int32_t, uint64_t, uint32_t, double, "
                  "float, bool, std::string_view or std::string");
  }
}

}  // namespace sluice
