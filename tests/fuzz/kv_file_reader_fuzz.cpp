// Fuzzes the key-value file reader (shuffle/kv_file.h): the format through
// which one job reads what another wrote, so the one whose bytes may have
// sat on a disk for months. Whatever the file, Open, ReadBlock and
// ForEachKvRecord must return data or a Status of the documented class, never
// crash or trip a sanitizer; and an opened file must keep the split contract
// (BytesOwnedBy adds up to the file).
//
// The input goes through a real file, since Open takes a FileSystem and the
// production one is what matters. Each input is tried twice: as is, and with
// the header, footer and frame checksums rewritten to match, since random
// bytes almost never pass an xxh3 check and the layout checks behind them
// would otherwise go untested.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "io/file_system.h"
#include "io/status.h"
#include "shuffle/kv_file.h"
#include "tests/fuzz/fuzz_util.h"

namespace sluice {
namespace {

// A user type, so that Cereal's decoder meets the bytes too. Its first
// finding, tests/fuzz/crashes/kv_file_reader_fuzz-1 (a 3 GiB string size
// prefix in 18 bytes), is why serde decodes through
// shuffle/bounded_binary_archive.h.
struct Reading {
  std::string sensor;
  std::vector<double> samples;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(sensor, samples);
  }
};

// A failure here is a broken contract, not a bad input: libFuzzer reports
// the trap as a crash and keeps the input.
void Require(bool condition) {
  if (!condition) __builtin_trap();
}

bool IsCorruption(const Status& s) { return s.code() == StatusCode::kCorruption; }

// Where each input is written for the reader to open: on tmpfs when there is
// one, so that the real filesystem path runs at memory speed. Named by pid
// because libFuzzer may run several processes (-jobs).
const std::string& ScratchPath() {
  static const std::string* const path = [] {
    const std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return new std::string(dir + "/sluice-kv-fuzz-" + std::to_string(::getpid()));
  }();
  return *path;
}

// Writes `bytes` to the scratch file and opens it with KvFileReader. The
// file is removed once open (the reader keeps its descriptor), so that a
// crash, which skips all cleanup, leaves nothing behind.
Result<std::unique_ptr<KvFileReader>> OpenScratch(std::string_view bytes) {
  FileSystem& fs = *FileSystem::Default();
  {
    // Not WriteStringToFile: its fsync would dominate each iteration on a disk.
    Result<std::unique_ptr<WritableFile>> file = fs.Create(ScratchPath());
    Require(file.ok());
    Require((*file)->Append(bytes).ok() && (*file)->Close().ok());
  }
  Result<std::unique_ptr<KvFileReader>> reader = KvFileReader::Open(fs, ScratchPath());
  Require(fs.RemoveFile(ScratchPath()).ok());
  return reader;
}

// The records of block i as (K, V). Records that do not decode are fine (the
// file may hold other types); what counts is how that is reported.
template <class K, class V>
void DecodeBlock(const KvFileReader& reader, size_t i, std::string_view raw) {
  uint64_t seen = 0;
  Status s = ForEachKvRecord<K, V>(reader, i, raw, [&](const auto&, const auto&) { ++seen; });
  const uint32_t records = reader.blocks()[i].records;
  Require(s.ok() ? seen == records : IsCorruption(s) && seen <= records);
}

void CheckFile(const std::string& bytes) {
  Result<std::unique_ptr<KvFileReader>> opened = OpenScratch(bytes);
  if (!opened.ok()) {
    const StatusCode code = opened.status().code();
    Require(code == StatusCode::kBadInput || code == StatusCode::kCorruption);
    return;
  }
  KvFileReader& reader = **opened;
  const uint64_t size = reader.file_size();
  const size_t blocks = reader.blocks().size();

  // Ranges that partition the file own every byte and every block once.
  Require(reader.BytesOwnedBy(0, size) == size);
  Require(reader.BlocksStartingIn(0, size) == std::make_pair(size_t{0}, blocks));
  const uint64_t a = size / 3;
  const uint64_t b = size - size / 4;
  Require(reader.BytesOwnedBy(0, a) + reader.BytesOwnedBy(a, b) + reader.BytesOwnedBy(b, size) ==
          size);

  std::string raw;
  Require(reader.ReadBlock(blocks, &raw).code() == StatusCode::kInternal);
  for (size_t i = 0; i < blocks; ++i) {
    const KvBlockRef& ref = reader.blocks()[i];
    Result<BlockInfo> header = BlockDecoder::ParseHeader(
        std::string_view(bytes).substr(ref.offset, ref.frame_bytes), "fuzz");
    if (header.ok() && header->raw_size > fuzz::kMaxFuzzRawBytes) continue;
    Status s = reader.ReadBlock(i, &raw);
    if (!s.ok()) {
      Require(IsCorruption(s));
      continue;
    }
    DecodeBlock<std::string, uint64_t>(reader, i, raw);
    DecodeBlock<std::string, std::string>(reader, i, raw);
    DecodeBlock<uint64_t, double>(reader, i, raw);
    DecodeBlock<std::pair<std::string, int32_t>, std::tuple<uint8_t, std::string>>(reader, i, raw);
    DecodeBlock<Reading, std::string>(reader, i, raw);
  }
}

}  // namespace
}  // namespace sluice

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  sluice::CheckFile(input);
  sluice::fuzz::RepairKvFileChecksums(&input);
  sluice::CheckFile(input);
  return 0;
}
