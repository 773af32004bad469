#include "io/status.h"

#include <cerrno>
#include <cstring>

namespace sluice {

int ExitCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 0;
    case StatusCode::kUsage: return 2;
    case StatusCode::kBadInput: return 3;
    case StatusCode::kIOError: return 4;
    case StatusCode::kCorruption: return 5;
    case StatusCode::kUserCode: return 6;
    case StatusCode::kInternal: return 70;
  }
  return 70;
}

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kUsage: return "usage error";
    case StatusCode::kBadInput: return "bad input";
    case StatusCode::kIOError: return "I/O error";
    case StatusCode::kCorruption: return "data corruption";
    case StatusCode::kUserCode: return "job code failed";
    case StatusCode::kInternal: return "internal error";
  }
  return "internal error";
}

Status Status::FromErrno(std::string_view op, std::string_view path, int err) {
  std::string msg;
  msg.append(op).append(" '").append(path).append("': ").append(std::strerror(err));
  // A path that is missing or forbidden is the user's input problem, not a
  // failing disk: report it as such so the exit code says "fix your input".
  if (err == ENOENT || err == EACCES || err == ENOTDIR || err == ELOOP) {
    return BadInput(std::move(msg));
  }
  return IOError(std::move(msg));
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(StatusCodeName(code_));
  s.append(": ").append(message_);
  return s;
}

}  // namespace sluice
