// Job parameters: `sluice run JOB --param key=value`, declared once in a
// static table of the job class and readable anywhere in the job.
//
//   class TopK : public sluice::Job<TopK, std::string, uint64_t> {
//    public:
//     static constexpr sluice::Param<uint64_t> kK{"k", 10, "items kept per key"};
//     static constexpr sluice::Param<std::string> kPattern{"pattern", "", "regex to match"};
//     static constexpr auto kParams = sluice::ParamTable(kK, kPattern);
//     ... param(kK) ...      // in the constructor, Map, Combine or Reduce
//   };
//
// T is bool, an integer type, a floating-point type or std::string. The
// table is the job's whole list: `sluice run JOB --help` prints it without
// constructing the job, and every --param is checked against it before any
// work starts. A name the table does not hold, or a value that does not
// parse as the declared type, is a usage error (exit 2) naming the
// parameter. A job that needs a value (no sensible default) throws
// JobParamError from its constructor when it is missing: also exit 2.
// Reading is a lookup by name among the declared parameters; a job that
// reads one per record keeps it in a member.
#pragma once

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice {

using JobParamList = std::vector<std::pair<std::string, std::string>>;

// Thrown for a value the job cannot take; the engine turns it into a usage
// error (exit 2).
class JobParamError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// One declared parameter. A literal type, so that a job declares it as a
// static constexpr member.
template <class T>
struct Param {
  static_assert(std::is_same_v<T, bool> || std::is_integral_v<T> || std::is_floating_point_v<T> ||
                    std::is_same_v<T, std::string>,
                "a job parameter is bool, an integer, a floating-point number or std::string");
  using Type = T;
  using Default = std::conditional_t<std::is_same_v<T, std::string>, std::string_view, T>;
  std::string_view name;
  Default default_value;
  std::string_view help;
};

// The job's parameter table: `static constexpr auto kParams = ParamTable(kA, kB);`
template <class... T>
constexpr std::tuple<Param<T>...> ParamTable(const Param<T>&... params) {
  return std::tuple<Param<T>...>(params...);
}

// A declared parameter as the command line shows it.
struct JobParamDeclaration {
  std::string name;
  std::string type;
  std::string default_text;
  std::string help;
  bool (*parses)(const std::string& text) = nullptr;  // is `text` a value of the type?
};

namespace param_detail {

template <class T>
std::string TypeName() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) return "integer";
  else if constexpr (std::is_integral_v<T>) return "unsigned integer";
  else if constexpr (std::is_floating_point_v<T>) return "number";
  else return "string";
}

template <class T>
std::string ToText(const typename Param<T>::Default& v) {
  if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
  else if constexpr (std::is_arithmetic_v<T>) return std::to_string(v);
  else return std::string(v);
}

// Parses `text` as T; false if it is not one.
template <class T>
bool Parse(const std::string& text, T* out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "1" || text == "yes") return *out = true, true;
    if (text == "false" || text == "0" || text == "no") return *out = false, true;
    return false;
  } else if constexpr (std::is_arithmetic_v<T>) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return ec == std::errc() && ptr == text.data() + text.size();
  } else {
    *out = text;
    return true;
  }
}

template <class T>
bool Parses(const std::string& text) {
  T ignored{};
  return Parse<T>(text, &ignored);
}

}  // namespace param_detail

// The declarations in a job's kParams table (none if it has no table).
template <class J>
std::vector<JobParamDeclaration> DeclaredParams() {
  std::vector<JobParamDeclaration> out;
  if constexpr (requires { J::kParams; }) {
    std::apply(
        [&out](const auto&... p) {
          auto one = [&out](const auto& param) {
            using T = typename std::remove_cvref_t<decltype(param)>::Type;
            out.push_back({std::string(param.name), param_detail::TypeName<T>(),
                           param_detail::ToText<T>(param.default_value), std::string(param.help),
                           &param_detail::Parses<T>});
          };
          (one(p), ...);
        },
        J::kParams);
  }
  return out;
}

// A job's parameter values: the declared defaults, overridden by what
// --param gave (the last one for a name wins). Built and checked once per
// job object; the job reads it through Job::param() for as long as it lives.
class JobParams {
 public:
  JobParams() = default;
  // Throws JobParamError for a name not declared or a value that does not
  // parse as its declared type.
  JobParams(std::vector<JobParamDeclaration> declared, const JobParamList& given)
      : declared_(std::move(declared)) {
    texts_.reserve(declared_.size());
    for (const JobParamDeclaration& d : declared_) texts_.push_back(d.default_text);
    for (const auto& [name, text] : given) {
      const size_t i = IndexOf(name);
      if (i == declared_.size()) throw JobParamError(UnknownMessage(name));
      if (!declared_[i].parses(text)) throw JobParamError(NotATypeMessage(declared_[i], text));
      texts_[i] = text;
    }
  }

  // The value of `p`: T, or const std::string& for a string parameter.
  template <class T>
  std::conditional_t<std::is_same_v<T, std::string>, const std::string&, T> Get(const Param<T>& p) const {
    const size_t i = IndexOf(p.name);
    if (i == declared_.size()) {
      throw JobParamError("the job reads parameter '" + std::string(p.name) +
                          "', which its kParams table does not declare");
    }
    if constexpr (std::is_same_v<T, std::string>) {
      return texts_[i];
    } else {
      T value{};
      (void)param_detail::Parse<T>(texts_[i], &value);  // checked when built
      return value;
    }
  }

  const std::vector<JobParamDeclaration>& declared() const { return declared_; }

  // The engine hands a job object its parameters while constructing it
  // (the Job base reads this in its constructor, so that member
  // initializers can already read them).
  static const JobParams*& Pending() {
    thread_local const JobParams* pending = nullptr;
    return pending;
  }

 private:
  size_t IndexOf(std::string_view name) const {
    size_t i = 0;
    while (i < declared_.size() && declared_[i].name != name) ++i;
    return i;
  }
  std::string UnknownMessage(const std::string& name) const {
    std::string known;
    for (const auto& d : declared_) known += (known.empty() ? "" : ", ") + d.name;
    return "unknown job parameter '" + name + "' (this job takes: " + (known.empty() ? "none" : known) + ")";
  }
  static std::string NotATypeMessage(const JobParamDeclaration& d, const std::string& text) {
    const bool vowel = std::string_view("aeiou").find(d.type[0]) != std::string_view::npos;
    return "parameter '" + d.name + "': '" + text + "' is not " + (vowel ? "an " : "a ") + d.type;
  }

  std::vector<JobParamDeclaration> declared_;
  std::vector<std::string> texts_;  // per declaration: the value's text
};

}  // namespace sluice
