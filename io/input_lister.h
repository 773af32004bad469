// Expands the user's --input arguments into a list of files.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/compression.h"
#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

struct InputFile {
  InputFile() = default;
  InputFile(std::string p, uint64_t s, int64_t mtime, uint32_t index = 0)
      : path(std::move(p)), size(s), mtime_ns(mtime), input_index(index) {}

  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  // Which input spec (--input, or positional INPUT, 0-based) listed the
  // file: a job reading several inputs tells them apart by it (a join).
  uint32_t input_index = 0;
  // What its first bytes say it is (ProbeInputs, input_probe.h); kNone until
  // probed.
  Compression compression = Compression::kNone;
  // Where a compressed file may be split (IndexMembers, compression.h):
  // empty when it cannot be. Planning input only: not sent to other ranks.
  std::vector<MemberStart> members;
  // --incremental runs (runtime/driver/incremental_plan.h): the xxh3 of the
  // file's bytes as stored, and its ctime when they were read; 0 otherwise.
  uint64_t xxh3 = 0;
  int64_t ctime_ns = 0;
};

// input_index of the previous output's merge state in a plan (incremental
// runs): read back into the shuffle, never handed to map().
inline constexpr uint32_t kMergeStateInput = UINT32_MAX;

// Each spec is a file, a directory or a glob pattern (contains * ? or [).
// - A spec that exists as a path (file, directory, or symlink, even a
//   dangling one) is taken literally, glob characters and all: `a[1].txt`
//   names the file a[1].txt even beside a1.txt. Only a spec that does not
//   exist and contains * ? or [ is expanded as a glob.
// - A file is taken as is.
// - A directory is walked recursively; entries whose names start with '.' or
//   '_' are skipped (Hadoop's convention: _SUCCESS, .crc, staging dirs);
//   a symlink loop is detected and reported, not followed forever.
// - A glob that matches nothing, a missing path, or an unreadable file is an
//   error (kBadInput) naming the spec or the file, so mistakes surface before
//   any work starts.
// Files within one spec are sorted by path; specs keep the user's order; a
// file named twice, or reached twice under other names (a symlinked
// directory beside its target, a hard link), is listed once (first
// occurrence): its records must not count twice. Zero-byte files are
// kept (they are valid and produce no records).
Result<std::vector<InputFile>> ListInputs(FileSystem& fs, const std::vector<std::string>& specs);

}  // namespace sluice
