// The decoded bytes of a compressed file, read like any other file.
#pragma once

#include <memory>

#include "io/compression.h"
#include "io/file_system.h"

namespace sluice {

// A ReadableFile over the decoded bytes of `file`, compressed as `c`
// (DetectCompression), decoding from the member start `from` (an entry of
// IndexMembers, or {0, 0} for the whole file; the final entry, where the
// file ends, gives an empty stream). The result owns `file`.
//
// Offsets given to ReadAt are offsets in the decoded bytes of the WHOLE file,
// so that a split that starts decoding at a member still sees the offsets a
// whole-file read would. The file is a stream, read forwards:
//  - reads must come at non-decreasing offsets, none before
//    from.uncompressed; a read behind the decoder (offset < end of the
//    previous read) is kInternal, a bug in the caller, and changes nothing;
//  - a read ahead of the decoder decodes and drops the bytes in between;
//  - *got < n only where the decoded stream ends; a read at or past its end
//    returns *got == 0;
//  - size() is UINT64_MAX: the decoded size is not known until the end.
// path() is `file`'s path.
//
// Decodes as the format's own tool does with its whole-file command: every
// gzip member one after another (zcat), every zstd frame (skippable frames
// skipped, checksums verified), every bzip2 stream (bzcat), every xz stream
// (xz -d, stream padding allowed). Bytes after the last member that do not
// start another are an error, not ignored with a warning as zcat does: the
// REASON below says "trailing garbage" (for xz, liblzma's own words).
//
// Failures are kBadInput (exit 3), naming the file, the compressed offset
// where decoding stopped (for a truncated file: where it ends) and how many
// decoded bytes came before it:
//   corrupt gzip data in 'PATH' at compressed byte X (after uncompressed byte Y): REASON
//   'PATH' ends in the middle of a gzip member at compressed byte X
//       (after uncompressed byte Y): the file is truncated
// (each one line, the second wrapped here; "gzip" is the format's
// CompressionName). A failed CRC-32, ISIZE or checksum counts as corrupt
// data. A failed read of `file` is its ReadAt's Status, unchanged. Once a
// read has failed, every later read fails the same way.
//
// Memory is bounded whatever the file: a 1 MiB input buffer, 256 KiB more
// once a read skips ahead, and the decoder's state, up to the format's
// window: zstd frames that need more than 128 MiB (zstd --long=28 and up)
// and xz streams that need more than 1 GiB are refused as corrupt, with
// the library's reason. ReadAt allocates nothing but that and error
// messages. Not thread-safe (like any ReadableFile).
//
// `c` must not be kNone; for kNone the result fails every read (kInternal).
std::unique_ptr<ReadableFile> OpenDecoded(std::unique_ptr<ReadableFile> file, Compression c,
                                          MemberStart from);

}  // namespace sluice
