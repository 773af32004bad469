// Sluice key-value files: how one job's output becomes the next job's input
// without text parsing. A file names the types of its keys and values, packs
// its records into compressed, checksummed block frames (block_codec.h), and
// ends with an index of those blocks so that a reader can cut it into
// byte-range splits and read each split without scanning the rest.
//
// Layout, all integers little-endian:
//   header:  "SLKV" | u32 version (1) | u32 key_type_len | u32 value_type_len |
//            key_type | value_type | u64 xxh3 of the header bytes before it
//   blocks:  block frames with partition 0, split 0, seq = block index, and
//            as payload Encode(key) then Encode(value) per record (serde.h)
//   footer:  "SLKF" | u64 block_count | block_count x (u64 offset, u32 records)
//            | u64 total_records | u64 xxh3 of the footer bytes before it
//   trailer: u64 footer_offset | u32 footer_size | "SLKE"  (the last 16 bytes)
// Every byte is covered by a check: the header and footer by their own
// checksums, each block by its frame's, and the trailer by having to name
// exactly the footer that ends where the trailer begins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "io/buffered_writer.h"
#include "io/file_system.h"
#include "io/status.h"
#include "shuffle/block_codec.h"
#include "shuffle/serde.h"

namespace sluice {

// A type name longer than this is refused by the writer and taken for
// corruption by the reader: bounds what a damaged length can make us read.
inline constexpr uint32_t kMaxKvTypeNameBytes = 64u << 10;

// The name a file records for a key or value type. Types with the same
// encoding share a name (std::string and std::string_view are "string";
// long and long long are both "i64"), so a file is readable as any type that
// decodes its bytes. Names: "string", "bool", "char", "i8".."i64",
// "u8".."u64", "f32", "f64", "pair<A,B>", "tuple<A,B,...>", and for enums
// and Cereal types "enum:" or "cereal:" + typeid(T).name(), which is only
// stable across builds of one compiler.
template <class T>
std::string KvTypeName() {
  using U = std::remove_cv_t<T>;
  if constexpr (serde_detail::kString<U>) {
    return "string";
  } else if constexpr (std::is_same_v<U, bool>) {
    return "bool";
  } else if constexpr (std::is_same_v<U, char>) {
    return "char";
  } else if constexpr (std::is_integral_v<U>) {
    return (std::is_signed_v<U> ? "i" : "u") + std::to_string(sizeof(U) * 8);
  } else if constexpr (std::is_floating_point_v<U>) {
    return "f" + std::to_string(sizeof(U) * 8);
  } else if constexpr (std::is_enum_v<U>) {
    return std::string("enum:") + typeid(U).name();
  } else if constexpr (serde_detail::IsPair<U>::value) {
    return "pair<" + KvTypeName<typename U::first_type>() + "," +
           KvTypeName<typename U::second_type>() + ">";
  } else if constexpr (serde_detail::IsTuple<U>::value) {
    return []<class... Ts>(std::type_identity<std::tuple<Ts...>>) {
      std::string name = "tuple<";
      ((name += KvTypeName<Ts>() + ","), ...);
      if constexpr (sizeof...(Ts) > 0) name.pop_back();
      return name + ">";
    }(std::type_identity<U>{});
  } else {
    return std::string("cereal:") + typeid(U).name();
  }
}

// Writes one key-value file through `out`, whatever its types: the caller
// encodes each record, Encode(key) then Encode(value), into record_buffer()
// and then calls RecordAdded(). TypedKvFileWriter below does both.
//
// Errors stick, as in BufferedWriter: the first failure (a write, a record
// over kMaxBlockRawBytes) stops all later work and is what status() and
// Finish() return, so a hot loop need not check each record.
// Not thread-safe.
class KvFileWriter {
 public:
  // Appends the header to `out` at once. `out` is not owned and must outlive
  // the writer; it must be at byte 0 of its file, since the footer records
  // block offsets from there. Type names longer than kMaxKvTypeNameBytes fail
  // the writer (kInternal).
  //   compression_level: zstd's; higher is smaller and slower to write.
  //   block_bytes: raw bytes per block (capped at kMaxBlockRawBytes); larger
  //     gives a better ratio but coarser splits and more memory per reader.
  KvFileWriter(BufferedWriter* out, std::string_view key_type, std::string_view value_type,
               int compression_level = 1, size_t block_bytes = size_t{1} << 20);
  KvFileWriter(const KvFileWriter&) = delete;
  KvFileWriter& operator=(const KvFileWriter&) = delete;

  // Where the next record's bytes go.
  std::string* record_buffer() { return &raw_; }
  // Counts the record just encoded; writes a block once the buffer holds
  // block_bytes.
  void RecordAdded();
  // Writes the last block, the footer and the trailer. Does not close `out`:
  // the caller's Close() decides whether the bytes reached the disk. Call
  // once; no record may be added after it.
  Status Finish();

  uint64_t records() const { return records_; }
  // The first error so far, or OK.
  const Status& status() const { return status_; }

 private:
  void FlushBlock();
  Status WriteBlock();

  BufferedWriter* out_;
  BlockEncoder encoder_;
  size_t block_bytes_;
  std::string raw_;
  std::string frame_;
  std::string index_;  // footer entries so far: (u64 offset, u32 records) per block
  uint64_t blocks_ = 0;
  uint32_t block_records_ = 0;
  uint64_t records_ = 0;
  bool finished_ = false;
  Status status_;
};

// How Add takes a K: strings by view, so that neither a literal nor a
// substring of a line is copied on its way into the block.
template <class T>
using KvArgT = std::conditional_t<std::is_same_v<T, std::string>, std::string_view, const T&>;

// A KvFileWriter that records KvTypeName<K>() and KvTypeName<V>() as the
// file's types and encodes each record itself.
template <class K, class V>
class TypedKvFileWriter {
 public:
  explicit TypedKvFileWriter(BufferedWriter* out, int compression_level = 1,
                             size_t block_bytes = size_t{1} << 20)
      : writer_(out, KvTypeName<K>(), KvTypeName<V>(), compression_level, block_bytes) {}

  void Add(KvArgT<K> key, KvArgT<V> value) {
    Encode(writer_.record_buffer(), key);
    Encode(writer_.record_buffer(), value);
    writer_.RecordAdded();
  }
  Status Finish() { return writer_.Finish(); }
  uint64_t records() const { return writer_.records(); }
  const Status& status() const { return writer_.status(); }

 private:
  KvFileWriter writer_;
};

// One block as the footer lists it.
struct KvBlockRef {
  uint64_t offset = 0;  // of its frame in the file
  uint32_t records = 0;
  uint64_t frame_bytes = 0;  // to the next frame, or to the footer
};

// Reads a key-value file: its types and block index at Open, then any block
// on demand. Const methods may be called from several threads at once;
// ReadBlock by one thread at a time.
class KvFileReader {
 public:
  // Reads and verifies the trailer, the footer and the header; no block is
  // read. Errors:
  //  - the file neither starts with "SLKV" nor ends with "SLKE" (an empty or
  //    text file), or has a format version other than 1: kBadInput naming
  //    the path;
  //  - anything else wrong (a checksum, a truncated file, offsets out of
  //    range, unsorted or overlapping blocks, counts that disagree):
  //    kCorruption naming the path and the byte offset where it was found;
  //  - the filesystem failing: its own Status (kIOError, ...).
  static Result<std::unique_ptr<KvFileReader>> Open(FileSystem& fs, const std::string& path);
  // The same, over a file the caller has opened (and checked): the reader
  // takes it over and names it by file->path() in errors.
  static Result<std::unique_ptr<KvFileReader>> Open(std::unique_ptr<ReadableFile> file);

  const std::string& path() const { return path_; }
  const std::string& key_type() const { return key_type_; }
  const std::string& value_type() const { return value_type_; }
  uint64_t total_records() const { return total_records_; }
  // In file order; frames are contiguous from the end of the header to the
  // footer.
  const std::vector<KvBlockRef>& blocks() const { return blocks_; }
  uint64_t file_size() const { return file_size_; }

  // The split rule: a byte range [begin, end) owns the blocks whose frames
  // START in it. Returns their indices as [first, last).
  std::pair<size_t, size_t> BlocksStartingIn(uint64_t begin, uint64_t end) const;
  // The bytes of the file that belong to [begin, end): the frames starting
  // in it, plus the header if the range holds offset 0, plus the footer and
  // trailer if it holds the footer's offset. Summed over ranges that
  // partition [0, file_size()) this is file_size(): each split's progress is
  // counted against the bytes it really reads, and the whole adds up.
  uint64_t BytesOwnedBy(uint64_t begin, uint64_t end) const;

  // Reads, verifies and decompresses block i into *raw (replaced). Besides
  // the frame's own checks, its seq, partition, split and record count must
  // match the footer. Corruption names the path, the block and its offset:
  // "key-value file 'x' block 3 at offset 4096: payload checksum mismatch".
  // i must be < blocks().size() (kInternal otherwise).
  Status ReadBlock(size_t i, std::string* raw);

  // "key-value file '<path>' block <i> at offset <offset>": the prefix of
  // every error about block i.
  std::string DescribeBlock(size_t i) const;

 private:
  KvFileReader(std::unique_ptr<ReadableFile> file, std::string path);
  Status Load();
  Status LoadFooter(uint64_t footer_size);
  Status LoadHeader(std::string_view fixed);
  Status CheckBlockLayout();
  Status ReadExact(uint64_t offset, size_t n, std::string* out);
  Status CorruptAt(uint64_t offset, std::string_view what) const;

  std::unique_ptr<ReadableFile> file_;
  std::string path_;
  uint64_t file_size_ = 0;
  uint64_t header_bytes_ = 0;
  uint64_t footer_offset_ = 0;
  uint64_t total_records_ = 0;
  std::string key_type_;
  std::string value_type_;
  std::vector<KvBlockRef> blocks_;
  BlockDecoder decoder_;
  std::string frame_;
};

// OK if the file holds (key_type, value_type) records; otherwise kBadInput:
// "key-value file 'x' holds (string, u64) records but the job reads
// (string, string)".
Status CheckKvTypeNames(const KvFileReader& reader, std::string_view key_type,
                        std::string_view value_type);

template <class K, class V>
Status CheckKvTypes(const KvFileReader& reader) {
  return CheckKvTypeNames(reader, KvTypeName<K>(), KvTypeName<V>());
}

// Calls fn(key, value) for each record of block i, whose bytes ReadBlock put
// in `raw`. Keys and values arrive as ViewOfT<K> and ViewOfT<V>: strings are
// views into `raw`, valid while it is. A record that does not decode as
// (K, V), bytes left after the footer's count of records, are kCorruption
// naming the block and its offset; fn has then seen the records before it.
// Checksums have passed by now, so this means the file was written with
// other types than it names, and CheckKvTypes should have caught that.
template <class K, class V, class Fn>
Status ForEachKvRecord(const KvFileReader& reader, size_t i, std::string_view raw, Fn&& fn) {
  ByteReader in{raw.data(), raw.data() + raw.size()};
  const uint32_t records = reader.blocks()[i].records;
  for (uint32_t n = 0; n < records; ++n) {
    // Fresh objects per record: a Cereal type need not clear itself on load.
    ViewOfT<K> key{};
    ViewOfT<V> value{};
    if (!Decode(in, &key) || !Decode(in, &value)) {
      return Status::Corruption(reader.DescribeBlock(i) + ": record " + std::to_string(n) +
                                " does not decode as (" + KvTypeName<K>() + ", " + KvTypeName<V>() +
                                ")");
    }
    fn(key, value);
  }
  if (in.p != in.end) {
    return Status::Corruption(reader.DescribeBlock(i) + ": " + std::to_string(in.remaining()) +
                              " bytes left after its " + std::to_string(records) + " records");
  }
  return Status::OK();
}

}  // namespace sluice
