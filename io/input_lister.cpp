#include "io/input_lister.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <unordered_set>
#include <utility>

namespace sluice {

namespace {

bool IsGlob(const std::string& spec) { return spec.find_first_of("*?[") != std::string::npos; }

// A spec that names an existing path is that path, whatever characters its
// name holds: `a[1].txt` is the file a[1].txt, not a1.txt. lstat as well as
// Stat, so that a dangling symlink named literally is reported as itself.
bool IsLiteralPath(FileSystem& fs, const std::string& spec) {
  if (fs.Stat(spec).ok()) return true;
  struct stat st;
  return ::lstat(spec.c_str(), &st) == 0;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

// (device, inode) of one directory on the path from a spec's root down to
// the directory being walked.
struct DirId {
  uint64_t device;
  uint64_t inode;
  const std::string* path;
};

class Lister {
 public:
  explicit Lister(FileSystem& fs) : fs_(fs) {}

  // Appends the files under `path` (a file or a directory) to *out.
  Status AddPath(const std::string& path, std::vector<InputFile>* out) {
    Result<FileInfo> info = fs_.Stat(path);
    if (!info.ok()) {
      // Stat follows symlinks, so a dangling symlink lands here too.
      if (!fs_.Exists(path)) return Status::BadInput("input '" + path + "' does not exist");
      return info.status();
    }
    switch (info->type) {
      case FileType::kRegular:
        if (!fs_.IsReadable(path)) {
          return Status::BadInput("input file '" + path + "' is not readable");
        }
        // A file reached again under another name (a symlinked directory
        // beside its target, a hard link) is one input: reading it twice
        // would count its records twice. The first name in walk order
        // (sorted) stands for it.
        if (files_seen_.insert({info->device, info->inode}).second) {
          out->push_back(InputFile{path, info->size, info->mtime_ns});
        }
        return Status::OK();
      case FileType::kDirectory:
        return AddDirectory(path, *info, out);
      case FileType::kOther:
        break;
    }
    return Status::BadInput("input '" + path + "' is neither a regular file nor a directory");
  }

 private:
  Status AddDirectory(const std::string& path, const FileInfo& info, std::vector<InputFile>* out) {
    // Only the directories on the current path matter: reaching one of them
    // again means a symlink points back up. Reaching a directory twice
    // through two unrelated symlinks is not a loop and terminates.
    for (const DirId& id : stack_) {
      if (id.device == info.device && id.inode == info.inode) {
        return Status::BadInput("input directory '" + path +
                                "' is a symlink loop (it leads back to '" + *id.path + "')");
      }
    }
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.ListDir(path));
    stack_.push_back(DirId{info.device, info.inode, &path});
    Status s;
    for (const std::string& name : names) {
      if (name.empty() || name[0] == '.' || name[0] == '_') continue;
      s = AddPath(JoinPath(path, name), out);
      if (!s.ok()) break;
    }
    stack_.pop_back();
    return s;
  }

  FileSystem& fs_;
  std::vector<DirId> stack_;
  std::set<std::pair<uint64_t, uint64_t>> files_seen_;  // (device, inode)
};

Status ExpandGlob(const std::string& pattern, std::vector<std::string>* paths) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) paths->emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  switch (rc) {
    case 0:
      return Status::OK();
    case GLOB_NOMATCH:
      return Status::BadInput("input glob '" + pattern + "' matched no files");
    case GLOB_NOSPACE:
      return Status::Internal("out of memory expanding input glob '" + pattern + "'");
    default:
      return Status::IOError("cannot expand input glob '" + pattern + "': read error");
  }
}

}  // namespace

Result<std::vector<InputFile>> ListInputs(FileSystem& fs, const std::vector<std::string>& specs) {
  if (specs.empty()) return Status::Usage("no input given");
  std::vector<InputFile> result;
  std::unordered_set<std::string> seen;
  Lister lister(fs);
  for (uint32_t index = 0; index < specs.size(); ++index) {
    const std::string& spec = specs[index];
    if (spec.empty()) return Status::Usage("empty input path");
    std::vector<std::string> roots;
    if (IsGlob(spec) && !IsLiteralPath(fs, spec)) {
      SLUICE_RETURN_IF_ERROR(ExpandGlob(spec, &roots));
    } else {
      roots.push_back(spec);
    }
    std::vector<InputFile> files;
    for (const std::string& root : roots) {
      SLUICE_RETURN_IF_ERROR(lister.AddPath(root, &files));
    }
    std::sort(files.begin(), files.end(),
              [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
    for (InputFile& f : files) {
      f.input_index = index;
      if (seen.insert(f.path).second) result.push_back(std::move(f));
    }
  }
  return result;
}

}  // namespace sluice
