// Status and Result<T>: how io/ and shuffle/ report failures.
//
// Expected failures (missing files, short reads, corrupt bytes) travel up as
// values; the job driver turns the first one into a single fatal message and
// an exit code. A function that returns a non-OK Status has not logged it:
// the caller decides.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sluice {

// Each code is a class of failure with its own process exit code, so that a
// scheduler can tell "fix your flags" from "your disk is full".
enum class StatusCode : uint8_t {
  kOk = 0,
  kUsage,       // bad flag or argument: exit 2
  kBadInput,    // missing / unreadable / malformed input: exit 3
  kIOError,     // the filesystem failed (ENOSPC, EIO, ...): exit 4
  kCorruption,  // a checksum or frame check failed: exit 5
  kUserCode,    // a job's own functor threw: exit 6
  kInternal,    // a bug in Sluice or a lost peer: exit 70
};

// Process exit code for a status code (0 for kOk). Documented in README.md.
int ExitCodeFor(StatusCode code);
// Short lowercase name, e.g. "bad input".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status Usage(std::string msg) { return {StatusCode::kUsage, std::move(msg)}; }
  static Status BadInput(std::string msg) { return {StatusCode::kBadInput, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status UserCode(std::string msg) { return {StatusCode::kUserCode, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  // IOError from errno, naming the operation and the path: "open 'x': No such file".
  static Status FromErrno(std::string_view op, std::string_view path, int err);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "ok".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains its absence.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define SLUICE_RETURN_IF_ERROR(expr)             \
  do {                                           \
    ::sluice::Status sluice_status_ = (expr);    \
    if (!sluice_status_.ok()) return sluice_status_; \
  } while (0)

// `lhs = value of rexpr`, or return its Status. lhs may declare: `auto f`.
#define SLUICE_ASSIGN_OR_RETURN(lhs, rexpr)                             \
  auto SLUICE_CONCAT(sluice_result_, __LINE__) = (rexpr);               \
  if (!SLUICE_CONCAT(sluice_result_, __LINE__).ok())                    \
    return SLUICE_CONCAT(sluice_result_, __LINE__).status();            \
  lhs = std::move(SLUICE_CONCAT(sluice_result_, __LINE__)).value()
