#include "io/overwrite_guard.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

namespace sluice {
namespace {

// realpath(3), or empty when `path` does not resolve.
std::string Resolved(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(path.c_str(), nullptr), &std::free);
  return r ? std::string(r.get()) : std::string();
}

// `path` equals `dir` or lies under it (both resolved).
bool Within(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  if (dir == "/") return true;
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool IsRegularFile(FileSystem& fs, const std::string& path) {
  Result<FileInfo> info = fs.LinkStat(path);
  return info.ok() && !info->symlink && info->type == FileType::kRegular;
}

}  // namespace

bool IsSluiceOutput(FileSystem& fs, const std::string& dir) {
  const std::string success = dir + "/_SUCCESS";
  if (IsRegularFile(fs, success)) {
    Result<std::string> s = ReadFileToString(fs, success);
    if (s.ok() && StartsWith(*s, "job\t") && s->find("\nfingerprint\t") != std::string::npos) return true;
  }
  const std::string manifest = dir + "/_manifest.json";
  if (IsRegularFile(fs, manifest)) {
    Result<std::string> m = ReadFileToString(fs, manifest);
    if (m.ok() && m->find("\"format\": \"sluice-manifest/") != std::string::npos) return true;
  }
  return false;
}

Status CheckReplaceable(FileSystem& fs, const std::string& output_dir,
                        const std::vector<std::string>& inputs) {
  auto refuse = [&](const std::string& why) {
    return Status::Usage("refusing to replace output directory '" + output_dir + "': " + why);
  };
  SLUICE_ASSIGN_OR_RETURN(FileInfo info, fs.LinkStat(output_dir));
  if (info.symlink) return refuse("it is a symlink (give the directory it points to)");
  if (info.type != FileType::kDirectory) return refuse("it is not a directory");
  const std::string out = Resolved(output_dir);
  if (out.empty()) return refuse("it cannot be resolved");
  if (out == "/") return refuse("it is the root directory");
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    const std::string h = Resolved(home);
    if (!h.empty() && Within(h, out)) return refuse("it is or contains $HOME ('" + h + "')");
  }
  const std::string cwd = Resolved(".");
  if (!cwd.empty() && Within(cwd, out)) {
    return refuse("it is or contains the current directory ('" + cwd + "')");
  }
  for (const std::string& input : inputs) {
    const std::string in = Resolved(input);
    if (in.empty()) continue;  // a glob pattern, or a path that is gone
    if (in == out) return refuse("it is the input '" + input + "'");
    if (Within(in, out)) return refuse("it contains the input '" + input + "'");
  }
  if (!IsSluiceOutput(fs, output_dir)) {
    return refuse("it is not a Sluice output (no _SUCCESS or _manifest.json written by Sluice); "
                  "remove it yourself if it should go, or choose another --output");
  }
  return Status::OK();
}

}  // namespace sluice
