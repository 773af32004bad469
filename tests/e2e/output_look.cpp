#include "tests/e2e/output_look.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

namespace sluice::e2e {
namespace {
constexpr size_t npos = std::string::npos;

bool ReadAt(int dir_fd, const char* name, std::string* text) {
  const int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  text->clear();
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) text->append(buf, static_cast<size_t>(n));
  close(fd);
  return n == 0;
}

}  // namespace

// Looks at `out` through one descriptor of the directory: _SUCCESS, the
// manifest and every part must be there, each part of the size the manifest
// gives. A directory renamed away (and being removed) while it is read is
// recognised as such, not counted as incomplete: a reader that started on the
// old output may see it vanish under it, which is not a torn output.
Seen LookAtOutput(const std::string& out, int partitions, std::string* fingerprint, std::string* why) {
  const int dir = open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    *why = out + ": " + std::strerror(errno);
    return Seen::kAbsent;
  }
  std::string problem, success, manifest_text;
  nlohmann::json manifest;
  if (!ReadAt(dir, "_SUCCESS", &success)) {
    problem = "the output directory exists without _SUCCESS";
  } else if (!ReadAt(dir, "_manifest.json", &manifest_text)) {
    problem = "_SUCCESS but no _manifest.json";
  } else if (manifest = nlohmann::json::parse(manifest_text, nullptr, /*allow_exceptions=*/false);
             !manifest.is_object() || !manifest.contains("outputs") || !manifest["outputs"].is_array()) {
    problem = "_manifest.json is not a manifest (no \"outputs\" list)";
  } else {
    const size_t at = success.find("fingerprint\t");
    *fingerprint = at == npos ? "" : success.substr(at, success.find('\n', at) - at);
    for (int p = 0; p < partitions && problem.empty(); ++p) {
      char name[32];
      std::snprintf(name, sizeof name, "part-%05d", p);
      struct stat st;
      if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        problem = std::string("_SUCCESS but no ") + name;
        break;
      }
      const nlohmann::json& outputs = manifest["outputs"];
      const auto entry = std::find_if(outputs.begin(), outputs.end(), [&](const nlohmann::json& o) {
        return o.is_object() && o.value("file", "") == name;
      });
      if (entry == outputs.end() || entry->value("bytes", ~uint64_t{0}) != static_cast<uint64_t>(st.st_size)) {
        problem = std::string(name) + " is not the size its manifest gives (a mix of two outputs)";
      }
    }
  }
  Seen seen = Seen::kComplete;
  if (!problem.empty()) {
    struct stat held, now;
    const bool replaced = fstat(dir, &held) != 0 || held.st_nlink == 0 || stat(out.c_str(), &now) != 0 ||
                          now.st_ino != held.st_ino || now.st_dev != held.st_dev;
    seen = replaced ? Seen::kReplacedWhileLooking : Seen::kIncomplete;
    *why = problem;
  }
  close(dir);
  return seen;
}

}  // namespace sluice::e2e
