#include "runtime/driver/expectations.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>

namespace sluice {
namespace {

// A recursive-descent parser that evaluates as it goes (or only collects
// names): expectations are short, parsed once per job.
class Parser {
 public:
  Parser(const std::string& text, const ValueOf* value) : s_(text), value_(value) {}

  // The comparison's truth; *error set on a syntax error or missing value.
  bool Comparison(std::string* error, std::string* detail) {
    double lhs = Sum();
    Skip();
    std::string op;
    for (const char* candidate : {"<=", ">=", "==", "!=", "<", ">"}) {
      if (s_.compare(at_, std::string(candidate).size(), candidate) == 0) {
        op = candidate;
        break;
      }
    }
    if (op.empty() && error_.empty()) Fail("expected a comparison (<= >= < > == !=)");
    at_ += op.size();
    double rhs = Sum();
    Skip();
    if (at_ != s_.size() && error_.empty()) Fail("unexpected '" + s_.substr(at_, 1) + "'");
    if (!error_.empty()) {
      *error = error_;
      return false;
    }
    if (!missing_.empty()) {
      *error = missing_;
      return false;
    }
    *detail = Show(lhs) + " " + op + " " + Show(rhs) + (values_.empty() ? "" : " (" + values_ + ")");
    if (op == "<=") return lhs <= rhs;
    if (op == ">=") return lhs >= rhs;
    if (op == "<") return lhs < rhs;
    if (op == ">") return lhs > rhs;
    if (op == "==") return lhs == rhs;
    return lhs != rhs;
  }
  const std::vector<std::string>& names() const { return names_; }
  bool not_checked() const { return not_checked_; }

 private:
  // Whole numbers as integers ("1000000", not "1e+06"); others shortest.
  static std::string Show(double v) {
    if (v == std::trunc(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "?";
  }
  void Skip() {
    while (at_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[at_]))) ++at_;
  }
  void Fail(const std::string& what) {
    if (error_.empty()) error_ = "'" + s_ + "': " + what + " at character " + std::to_string(at_ + 1);
  }
  double Sum() {
    double v = Product();
    for (Skip(); at_ < s_.size() && (s_[at_] == '+' || s_[at_] == '-'); Skip()) {
      const char op = s_[at_++];
      const double r = Product();
      v = op == '+' ? v + r : v - r;
    }
    return v;
  }
  double Product() {
    double v = Factor();
    for (Skip(); at_ < s_.size() && (s_[at_] == '*' || s_[at_] == '/'); Skip()) {
      const char op = s_[at_++];
      const double r = Factor();
      v = op == '*' ? v * r : (r == 0 ? NAN : v / r);
    }
    return v;
  }
  double Factor() {
    Skip();
    if (at_ >= s_.size()) {
      Fail("expected a number or a name");
      return 0;
    }
    const char c = s_[at_];
    if (c == '(') {
      ++at_;
      const double v = Sum();
      Skip();
      if (at_ < s_.size() && s_[at_] == ')') {
        ++at_;
      } else {
        Fail("expected ')'");
      }
      return v;
    }
    if (c == '-') {
      ++at_;
      return -Factor();
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      double v = 0;
      auto [end, ec] = std::from_chars(s_.data() + at_, s_.data() + s_.size(), v);
      if (ec != std::errc()) {
        Fail("not a number");
        return 0;
      }
      at_ = static_cast<size_t>(end - s_.data());
      return v;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = at_;
      while (at_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[at_])) || s_[at_] == '_' ||
                                 s_[at_] == '.' || s_[at_] == '-')) {
        // '-' only inside a name ("group.my-counter"), never before a digit
        // or space: "a-b" reads as a name, "a - b" as a difference.
        if (s_[at_] == '-' && (at_ + 1 >= s_.size() || !std::isalpha(static_cast<unsigned char>(s_[at_ + 1])))) break;
        ++at_;
      }
      const std::string name = s_.substr(start, at_ - start);
      names_.push_back(name);
      if (value_ == nullptr) return 0;
      std::string why;
      std::optional<double> v = (*value_)(name, &why);
      if (!v) {
        if (why == "no previous run") {
          not_checked_ = true;
          if (missing_.empty()) missing_ = "not checked: " + name + ": no previous committed run to compare with";
        } else if (missing_.empty() || not_checked_) {
          not_checked_ = false;
          missing_ = name + ": " + why;
        }
        return 0;
      }
      values_ += (values_.empty() ? "" : ", ") + name + " = " + Show(*v);
      return *v;
    }
    Fail("unexpected '" + std::string(1, c) + "'");
    return 0;
  }

  const std::string& s_;
  const ValueOf* value_;
  size_t at_ = 0;
  std::string error_;
  std::string missing_;
  bool not_checked_ = false;
  std::string values_;
  std::vector<std::string> names_;
};

}  // namespace

Status CheckExpectationSyntax(const std::string& text) {
  Parser p(text, nullptr);
  std::string error, detail;
  p.Comparison(&error, &detail);
  return error.empty() ? Status::OK() : Status::Usage("expectation " + error);
}

std::vector<std::string> NamesIn(const std::string& text) {
  Parser p(text, nullptr);
  std::string error, detail;
  p.Comparison(&error, &detail);
  return p.names();
}

ExpectationResult EvaluateExpectation(const Expectation& e, const ValueOf& value) {
  ExpectationResult r;
  r.expectation = e;
  Parser p(e.text, &value);
  std::string error, detail;
  const bool holds = p.Comparison(&error, &detail);
  if (!error.empty()) {
    r.outcome = p.not_checked() ? "not checked" : "failed";
    r.detail = error;
    return r;
  }
  r.outcome = holds ? "passed" : "failed";
  r.detail = detail;
  return r;
}

}  // namespace sluice
