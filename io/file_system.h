// FileSystem: the one seam through which Sluice touches files.
//
// Production code never calls open()/fopen() directly; it asks a FileSystem.
// Tests substitute an implementation that fails chosen calls (ENOSPC, EIO,
// short reads) to prove that every failure surfaces as a Status.
//
// Thread-safety: FileSystem methods may be called concurrently. A single
// ReadableFile / WritableFile object is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/status.h"

namespace sluice {

class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at `offset` into dst and sets *got. *got < n only at
  // end of file (a short read from the OS is retried, not returned).
  virtual Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) = 0;
  // Size when the file was opened.
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

class WritableFile {
 public:
  // Destroying an unclosed file closes it and ignores errors: call Close()
  // to learn whether the data reached the filesystem.
  virtual ~WritableFile() = default;
  // Appends all of data (partial writes are retried internally).
  virtual Status Append(std::string_view data) = 0;
  // fsync: the data survives a crash once this returns OK.
  virtual Status Sync() = 0;
  // Starts writing what was appended so far to the device, and returns
  // without waiting: for a file made durable later (Sync, or one
  // FileSystem::SyncFilesystem for many files), which then has less left to
  // wait for. Only a hint, so it returns nothing: a write error it meets is
  // reported again by that later Sync or SyncFilesystem, which callers check.
  virtual void StartWriteback() {}
  virtual Status Close() = 0;
  virtual const std::string& path() const = 0;
};

enum class FileType : uint8_t { kRegular, kDirectory, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  // The inode's change time: set by the kernel on every write, rename or
  // chmod, and unlike mtime not settable by a user (touch -d).
  int64_t ctime_ns = 0;
  uint64_t device = 0;  // (device, inode) identify a file across symlinks
  uint64_t inode = 0;
  uint32_t uid = 0;       // owner
  uint32_t mode = 0;      // permission bits (st_mode & 07777)
  bool symlink = false;   // only from LinkStat: the path itself is a symlink
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The POSIX filesystem. Belongs to Sluice; never delete it.
  static FileSystem* Default();

  virtual Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) = 0;
  // Creates or truncates `path` (mode 0644). A symlink in the last
  // component is refused (O_NOFOLLOW): Sluice only creates its own files.
  virtual Result<std::unique_ptr<WritableFile>> Create(const std::string& path) = 0;
  // Follows symlinks. A missing path is kBadInput naming the path.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Like Stat, but describes a symlink itself (lstat): symlink is set.
  virtual Result<FileInfo> LinkStat(const std::string& path) = 0;
  // Entry names (not paths) of a directory, without "." and "..", sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Creates a directory and its missing parents; OK if it exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  // A directory private to this user (mode 0700) at `path`, whose parent
  // must exist. An existing `path` is taken only if it is a directory, not a
  // symlink, owned by this user (its mode is then reset to 0700); anything
  // else is kUsage naming the path and its owner, and nothing is changed.
  virtual Status CreatePrivateDir(const std::string& path) = 0;
  // renameat2(RENAME_EXCHANGE): swaps two existing paths in one atomic step.
  // false, with nothing changed, when the filesystem cannot (NFS, old kernels).
  virtual Result<bool> Exchange(const std::string& a, const std::string& b) = 0;
  // chmod of `path` itself (a symlink there is refused, never followed).
  virtual Status SetMode(const std::string& path, uint32_t mode) = 0;
  // syncfs(2) of the filesystem holding `path`: what this process wrote
  // there is on disk once it returns. One call instead of an fsync per file.
  virtual Status SyncFilesystem(const std::string& path) = 0;
  // rename(2): atomic within one filesystem; replaces an existing file.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // link(2): a second name for an existing file, on the same filesystem;
  // fails if `to` exists.
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes a file or a directory tree; OK if `path` does not exist.
  virtual Status RemoveAll(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // access(path, R_OK) without opening: false for unreadable or missing.
  virtual bool IsReadable(const std::string& path) = 0;
  // fsync of a directory: makes the renames and creations inside it survive
  // a crash (a file's own Sync does not cover its directory entry).
  virtual Status SyncDir(const std::string& path) = 0;
};

// Removes `path`, a directory Sluice made for itself (staging, work,
// scratch), only if it is this user's real directory; a symlink or another
// user's directory there is kUsage naming it and its owner, and nothing is
// touched. A missing path is OK.
Status RemoveOwnTree(FileSystem& fs, const std::string& path);
// Whether Sluice may keep its own directories in `dir` (the output's parent,
// the scratch root): refused (kUsage, saying why) when `dir` is writable by
// everyone and not sticky, since anyone could then rename Sluice's
// directories away and plant others in their place; with `owner_checked`,
// also when `dir` belongs to a user other than this one or root. A
// group-writable `dir` is accepted: the group is trusted with the output.
Status CheckSafeParent(FileSystem& fs, const std::string& dir, const std::string& what,
                       bool owner_checked);
// Reads a whole (small) file into a string.
Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path);
// xxh3 of bytes [0, end) of `file`, read in 1 MiB pieces, for files too
// large to hold at once (an executable, a saved map task). A file that
// ends before `end` is an I/O error.
Result<uint64_t> Xxh3OfFile(ReadableFile& file, uint64_t end);
// xxh3 of the whole file at `path`.
Result<uint64_t> Xxh3OfFile(FileSystem& fs, const std::string& path);
// Writes `data` to `path` with Create + Append + Sync + Close.
Status WriteStringToFile(FileSystem& fs, const std::string& path, std::string_view data);

}  // namespace sluice
