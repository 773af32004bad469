// What the map side reads its records through: one source per input kind
// (line_source.h, fixed_record_source.h, row_source.h, kv_record_source.h),
// one FileRange each. TypedRunner's single map loop is a template over the
// source type, so the per-record path (record_offset(), counters, Map,
// bad records) is written once and each source's record loop is inlined
// into it: no virtual call per record.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>

#include "io/status.h"

namespace sluice {

// A source hands out its range's records a chunk at a time; the engine polls
// the shuffle and checks its limits between chunks, never inside one.
//
//   Status Start()              first: opens and checks the input
//                               (kBadInput or kCorruption naming the file).
//   Result<bool> NextChunk()    loads the next chunk; false at the end.
//   uint64_t TakeBytesRead()    input bytes consumed since the last call, for
//                               the input_bytes counter (called after Start
//                               and after each chunk).
//   Status ForEachRecord(fn)    calls fn(offset, fields...) for each record of
//                               the chunk, where fields are what the job's Map
//                               takes before its emitter; an error (a record
//                               that does not decode) after the records
//                               before it. What fn throws propagates.
//   std::string Where(offset)   the record at `offset`, for an error message:
//                               "the line at byte 12 of 'a.txt'".
//   const std::string& path()   the file, for the bad-record log.
//   kInFile                     whether offsets are bytes of path(), which
//                               Job::record_offset() then reports.
template <class S>
concept RecordSource = requires(S& source, const S& cs, uint64_t offset) {
  { source.Start() } -> std::same_as<Status>;
  { source.NextChunk() } -> std::same_as<Result<bool>>;
  { source.TakeBytesRead() } -> std::same_as<uint64_t>;
  { cs.Where(offset) } -> std::same_as<std::string>;
  { cs.path() } -> std::same_as<const std::string&>;
  { S::kInFile } -> std::convertible_to<bool>;
};

}  // namespace sluice
