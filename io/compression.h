// What a compressed input file is, and where it may be cut.
//
// Both questions are answered from the file's own bytes: its magic number,
// then its member headers. A file's name never decides: a "log.gz" that holds
// plain text is read as text. Decoding itself is io/decoded_file.h.
#pragma once

#include <cstdint>
#include <vector>

#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

enum class Compression : uint8_t { kNone, kGzip, kZstd, kBzip2, kXz };

// "none", "gzip", "zstd", "bzip2", "xz": the word error messages use.
const char* CompressionName(Compression c);

// The format the magic bytes at offset 0 of `file` announce:
//   gzip   1f 8b
//   zstd   28 b5 2f fd, or a skippable frame 50..5f 2a 4d 18 (pzstd output
//          starts with one)
//   bzip2  "BZh" and a digit 1..9, then the magic of a block (31 41 59 26 53
//          59) or of the end of the stream (17 72 45 38 50 90): "BZh1" alone
//          is too likely in a text file to decide on
//   xz     fd 37 7a 58 5a 00
// anything else, and a file shorter than the magic, is kNone. The magic
// says what a file claims to be; whether the rest is valid shows when it is
// decoded. Fails only when `file` cannot be read (its ReadAt's Status).
Result<Compression> DetectCompression(ReadableFile& file);

// A point at which decoding may start: the start of an independent member,
// as a byte offset in the compressed file and the offset of the member's
// first decoded byte in the whole file's decoded bytes.
struct MemberStart {
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
};

// The starts of the independent members of `file` (compressed as `c`, from
// DetectCompression), when the file can be split at them:
//  - BGZF, i.e. gzip whose every member carries the 'BC' extra subfield (as
//    bgzip writes): one start per block, sizes from each block's BSIZE and
//    ISIZE fields;
//  - zstd of several data frames that each state their Frame_Content_Size
//    (the outputs of `zstd FILE` concatenated; NOT pzstd's output, whose
//    frames, written by zstd's streaming API, leave their size out). Frames
//    are walked through their block headers. Skippable frames hold no data:
//    each belongs to the member of the data frame that FOLLOWS it, so a
//    member starts where the previous data frame ended (at the first of the
//    skippable frames before its data frame, if any: pzstd's layout puts
//    one before each) and the first member starts at 0. Skippable frames
//    after the last data frame belong to the last member.
// The vector lists every member start in file order, the first being
// {0, 0}, then one final entry {file size, total decoded size}. Members
// that decode to nothing (BGZF's end-of-file block) are listed too.
//
// An EMPTY vector means "cannot be split, decode it whole": kNone, gzip
// with any member lacking the BGZF field, bzip2, xz, zstd with a data frame
// that does not state its size, and files with fewer than two members that
// decode to at least one byte.
//
// Only headers are read (a few bytes per member, through a small window);
// nothing is decoded, so a corrupt payload shows only when decoded. A header
// that does not parse, a member that runs past the end of the file, and
// bytes after the last member that start no member are kBadInput naming
// the file and the compressed offset of the member. A failed read is its
// ReadAt's Status.
Result<std::vector<MemberStart>> IndexMembers(ReadableFile& file, Compression c);

}  // namespace sluice
