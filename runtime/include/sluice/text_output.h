// Reduce output as text: one `key\tvalue\n` line per emitted record.
#pragma once

#include <charconv>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "io/buffered_writer.h"

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

// What reduce() writes to by default (a job's Output): one text line per
// record. Not thread-safe.
class TextOutput {
 public:
  explicit TextOutput(BufferedWriter* writer) : writer_(writer) {}

  template <class A, class B>
  void operator()(const A& key, const B& value) {
    line_.clear();
    AppendText(&line_, key);
    line_.push_back('\t');
    AppendText(&line_, value);
    line_.push_back('\n');
    // The writer keeps its first error; the engine checks it once per task.
    (void)writer_->Append(line_);
    ++records_;
  }

  uint64_t records() const { return records_; }
  // Nothing to finish: every line is whole once written. (Every output
  // format has Finish(); the engine calls it at the end of a task.)
  Status Finish() { return Status::OK(); }

 private:
  BufferedWriter* writer_;
  std::string line_;
  uint64_t records_ = 0;
};

}  // namespace sluice
