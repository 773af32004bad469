// Job parameters: `sluice run JOB --param key=value` reaches the job's
// constructor, typed and validated.
//
//   class Grep : public sluice::Job<Grep, std::string, uint64_t> {
//     std::regex pattern_{param<std::string>("pattern", "", "regular expression to match")};
//     uint64_t limit_ = param<uint64_t>("limit", 10, "matches kept per file");
//   };
//
// A value that does not parse as the declared type, or a parameter the job
// does not declare, is a usage error (exit 2) naming the parameter. A job
// that needs a value (no sensible default) throws JobParamError from its
// constructor when it is missing: also exit 2. `sluice run JOB --help` lists
// the declarations.
#pragma once

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice {

using JobParamList = std::vector<std::pair<std::string, std::string>>;

// Thrown by param() for a value the job cannot take; the engine turns it into
// a usage error.
class JobParamError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct JobParamDeclaration {
  std::string name;
  std::string type;
  std::string default_text;
  std::string help;
};

// What a job object reads its parameters from, and what it declared.
class JobParams {
 public:
  JobParams() = default;
  explicit JobParams(JobParamList given) : given_(std::move(given)) {}

  template <class T>
  T Get(std::string_view name, T default_value, std::string_view help) {
    declared_.push_back({std::string(name), TypeName<T>(), ToText(default_value), std::string(help)});
    const std::string* text = nullptr;
    for (const auto& [k, v] : given_) {
      if (k == name) text = &v;  // the last --param for a name wins
    }
    if (text == nullptr) return default_value;
    return Parse<T>(name, *text);
  }

  const std::vector<JobParamDeclaration>& declared() const { return declared_; }
  const JobParamList& given() const { return given_; }

  // The names given that the job never asked for ("" when none).
  std::string Undeclared() const {
    std::string out;
    for (const auto& [k, v] : given_) {
      bool known = false;
      for (const auto& d : declared_) known = known || d.name == k;
      if (!known) out += (out.empty() ? "" : ", ") + k;
    }
    return out;
  }

  // The engine sets this around constructing a job (the Job base reads it).
  static JobParams*& Pending() {
    thread_local JobParams* pending = nullptr;
    return pending;
  }

 private:
  template <class T>
  static std::string TypeName() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) return "integer";
    else if constexpr (std::is_integral_v<T>) return "unsigned integer";
    else if constexpr (std::is_floating_point_v<T>) return "number";
    else return "string";
  }
  template <class T>
  static std::string ToText(const T& v) {
    if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
    else if constexpr (std::is_arithmetic_v<T>) return std::to_string(v);
    else return std::string(v);
  }
  template <class T>
  static T Parse(std::string_view name, const std::string& text) {
    auto fail = [&] {
      return JobParamError("parameter '" + std::string(name) + "': '" + text + "' is not " +
                           (std::string("aeiou").find(TypeName<T>()[0]) != std::string::npos ? "an " : "a ") + TypeName<T>());
    };
    if constexpr (std::is_same_v<T, bool>) {
      if (text == "true" || text == "1" || text == "yes") return true;
      if (text == "false" || text == "0" || text == "no") return false;
      throw fail();
    } else if constexpr (std::is_arithmetic_v<T>) {
      T v{};
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size()) throw fail();
      return v;
    } else {
      return T(text);
    }
  }

  JobParamList given_;
  std::vector<JobParamDeclaration> declared_;
};

}  // namespace sluice
