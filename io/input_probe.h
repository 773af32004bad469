// Looks inside input files before they are planned: what their first bytes
// say they are, and where a compressed one may be split.
#pragma once

#include <string>
#include <vector>

#include "io/file_system.h"
#include "io/input_lister.h"
#include "io/status.h"

namespace sluice {

// Sets each file's `compression` from its magic bytes (never from its name:
// a .gz that is really text is read as text, a gzip file named .log is
// decoded) and, for a compressed file larger than `split_size`, its
// `members` (IndexMembers): the only places it can be cut. Runs on the one
// rank that plans; costs one small read per file, plus a walk over the
// member headers of large BGZF / multi-frame zstd files.
// An unreadable file, or a member header that does not parse, is kBadInput
// naming the file.
Status ProbeInputs(FileSystem& fs, uint64_t split_size, std::vector<InputFile>* files);

// For inputs read as binary (fixed-size records, key-value files), which are
// never decoded: a file whose name ends in a compression suffix (.gz .bgz
// .zst .zstd .bz2 .xz) and whose first bytes agree is kBadInput naming it
// and its codec, rather than the confusing failure (or garbage records)
// reading its compressed bytes would give. `what` names the input kind for
// the message. Binary data can begin with a magic by chance, so a name
// without such a suffix is never looked into.
Status RefuseCompressedBinaryInputs(FileSystem& fs, const std::vector<InputFile>& files,
                                    const std::string& what);

}  // namespace sluice
