#include "io/compression.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace sluice {
namespace {

// zstd's frame magics (RFC 8878), as the little-endian u32 the file holds.
constexpr uint32_t kZstdMagic = 0xFD2FB528;
constexpr uint32_t kSkippableMagic = 0x184D2A50;  // low 4 bits are free
constexpr uint32_t kSkippableMask = 0xFFFFFFF0;
constexpr uint64_t kZstdMaxBlockBytes = 128 << 10;

uint32_t Load16(const uint8_t* p) { return p[0] | (uint32_t{p[1]} << 8); }
uint32_t Load32(const uint8_t* p) { return Load16(p) | (Load16(p + 2) << 16); }
uint64_t LoadLE(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i > 0; --i) v = (v << 8) | p[i - 1];
  return v;
}

constexpr uint8_t kGzipMagic[2] = {0x1f, 0x8b};
constexpr uint8_t kZstdFrameMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};

// Whether the n bytes at p match the start of `magic` (all of it, or as
// much as there is of p: a file may end inside a magic).
template <size_t N>
bool StartsWith(const uint8_t* p, size_t n, const uint8_t (&magic)[N]) {
  return std::memcmp(p, magic, std::min(n, N)) == 0;
}

bool IsZstdFrameMagic(uint32_t magic) {
  return magic == kZstdMagic || (magic & kSkippableMask) == kSkippableMagic;
}

// Reads the few bytes of each member header through a window of the file,
// so that walking thousands of members costs about one ReadAt per member
// (whose trailer and the next member's header share a window) rather than
// one per field. The window is small because members are far apart: copying
// the bytes between headers would cost more than the calls it saves (256
// bytes walk 200 MB of BGZF, 3214 blocks, in about 2 ms from the page cache;
// 4 KiB windows took 3 times as long).
class HeaderReader {
 public:
  explicit HeaderReader(ReadableFile& file) : file_(file) {}

  // Copies bytes [offset, offset + n) of the file to dst, n <= kWindow.
  // *got < n only at the end of the file.
  Status Read(uint64_t offset, size_t n, uint8_t* dst, size_t* got) {
    if (offset < start_ || offset + n > start_ + len_) {
      size_t read = 0;
      SLUICE_RETURN_IF_ERROR(
          file_.ReadAt(offset, kWindow, reinterpret_cast<char*>(window_), &read));
      start_ = offset;
      len_ = read;
    }
    const uint64_t skip = offset - start_;
    *got = static_cast<size_t>(std::min<uint64_t>(n, len_ - std::min<uint64_t>(skip, len_)));
    std::memcpy(dst, window_ + skip, *got);
    return Status::OK();
  }

 private:
  static constexpr size_t kWindow = 256;
  ReadableFile& file_;
  uint64_t start_ = 0;
  size_t len_ = 0;
  uint8_t window_[kWindow];
};

Status Broken(const ReadableFile& file, Compression c, uint64_t offset, const std::string& why) {
  return Status::BadInput("corrupt " + std::string(CompressionName(c)) + " data in '" +
                          file.path() + "' at compressed byte " + std::to_string(offset) + ": " +
                          why);
}

Status Truncated(const ReadableFile& file, Compression c, uint64_t member, uint64_t needs) {
  return Status::BadInput("'" + file.path() + "' ends in the middle of the " + CompressionName(c) +
                          " member at compressed byte " + std::to_string(member) + ": it needs " +
                          std::to_string(needs) + " bytes, the file has " +
                          std::to_string(file.size()) + ": the file is truncated");
}

// Reads exactly n bytes at `offset`, or fails naming the member that the
// file ends inside.
Status ReadField(HeaderReader& r, const ReadableFile& file, Compression c, uint64_t member,
                 uint64_t offset, size_t n, uint8_t* dst) {
  size_t got = 0;
  SLUICE_RETURN_IF_ERROR(r.Read(offset, n, dst, &got));
  if (got < n) return Truncated(file, c, member, offset + n);
  return Status::OK();
}

// The last entry, and the rule that a file with less than two members of
// data is not worth splitting.
std::vector<MemberStart> Finish(std::vector<MemberStart> members, size_t with_data,
                                uint64_t file_size, uint64_t total) {
  if (with_data < 2) return {};
  members.push_back({file_size, total});
  return members;
}

// BGZF (SAM/BAM specification, section 4.1): gzip members of at most 64 KiB,
// each with an extra subfield 'B' 'C' of 2 bytes holding the member's size
// minus 1.
Result<std::vector<MemberStart>> IndexBgzf(ReadableFile& file) {
  constexpr Compression c = Compression::kGzip;
  constexpr uint8_t kFextra = 4;
  constexpr size_t kFixedHeader = 12;  // through XLEN
  constexpr size_t kTrailer = 8;       // CRC32, ISIZE
  HeaderReader r(file);
  const uint64_t size = file.size();
  std::vector<MemberStart> members;
  uint64_t at = 0;
  uint64_t total = 0;
  size_t with_data = 0;
  while (at < size) {
    uint8_t h[kFixedHeader] = {};
    size_t got = 0;
    SLUICE_RETURN_IF_ERROR(r.Read(at, kFixedHeader, h, &got));
    if (!StartsWith(h, got, kGzipMagic)) {
      return Broken(file, c, at, "trailing garbage: no gzip member starts here");
    }
    if (got < kFixedHeader) return Truncated(file, c, at, at + kFixedHeader);
    if (h[2] != 8)
      return Broken(file, c, at, "unsupported compression method " + std::to_string(h[2]));
    if ((h[3] & kFextra) == 0) return std::vector<MemberStart>{};  // plain gzip
    const uint64_t xlen = Load16(h + 10);
    const uint64_t extra_end = at + kFixedHeader + xlen;
    uint64_t block_bytes = 0;
    for (uint64_t sub = at + kFixedHeader; sub < extra_end;) {
      uint8_t s[4] = {};
      if (sub + 4 > extra_end) return Broken(file, c, at, "malformed gzip extra field");
      SLUICE_RETURN_IF_ERROR(ReadField(r, file, c, at, sub, 4, s));
      const uint64_t slen = Load16(s + 2);
      if (sub + 4 + slen > extra_end) return Broken(file, c, at, "malformed gzip extra field");
      if (s[0] == 'B' && s[1] == 'C' && slen == 2) {
        uint8_t bsize[2] = {};
        SLUICE_RETURN_IF_ERROR(ReadField(r, file, c, at, sub + 4, 2, bsize));
        block_bytes = uint64_t{Load16(bsize)} + 1;
      }
      sub += 4 + slen;
    }
    if (block_bytes == 0) return std::vector<MemberStart>{};  // gzip with another extra field
    if (block_bytes < kFixedHeader + xlen + kTrailer) {
      return Broken(
          file, c, at,
          "BGZF block size " + std::to_string(block_bytes) + " is smaller than its header");
    }
    if (at + block_bytes > size) return Truncated(file, c, at, at + block_bytes);
    uint8_t isize[4] = {};
    SLUICE_RETURN_IF_ERROR(ReadField(r, file, c, at, at + block_bytes - 4, 4, isize));
    members.push_back({at, total});
    total += Load32(isize);
    if (Load32(isize) > 0) ++with_data;
    at += block_bytes;
  }
  return Finish(std::move(members), with_data, size, total);
}

// zstd (RFC 8878, section 3.1): walks each data frame through its block
// headers, which give every block's compressed size.
Result<std::vector<MemberStart>> IndexZstd(ReadableFile& file) {
  constexpr Compression c = Compression::kZstd;
  HeaderReader r(file);
  const uint64_t size = file.size();
  std::vector<MemberStart> members;
  uint64_t at = 0;
  uint64_t member_start = 0;  // after the previous data frame: see the header
  uint64_t total = 0;
  size_t with_data = 0;
  while (at < size) {
    uint8_t h[4] = {};
    size_t got = 0;
    SLUICE_RETURN_IF_ERROR(r.Read(at, 4, h, &got));
    if (got < 4) {
      uint8_t skippable[4] = {h[0], 0x2a, 0x4d, 0x18};  // any of the 16
      if (!StartsWith(h, got, kZstdFrameMagic) &&
          !((h[0] & 0xf0) == 0x50 && StartsWith(h, got, skippable))) {
        return Broken(file, c, at, "trailing garbage: no zstd frame starts here");
      }
      return Truncated(file, c, at, at + 4);
    }
    const uint32_t magic = Load32(h);
    if ((magic & kSkippableMask) == kSkippableMagic) {
      SLUICE_RETURN_IF_ERROR(ReadField(r, file, c, at, at + 4, 4, h));
      const uint64_t frame_bytes = 8 + uint64_t{Load32(h)};
      if (at + frame_bytes > size) return Truncated(file, c, at, at + frame_bytes);
      at += frame_bytes;
      continue;
    }
    if (magic != kZstdMagic)
      return Broken(file, c, at, "trailing garbage: no zstd frame starts here");

    uint8_t fhd = 0;
    SLUICE_RETURN_IF_ERROR(ReadField(r, file, c, at, at + 4, 1, &fhd));
    const unsigned fcs_flag = fhd >> 6;
    const bool single_segment = (fhd & 0x20) != 0;
    if ((fhd & 0x08) != 0) return Broken(file, c, at, "reserved bit set in the frame header");
    const bool has_checksum = (fhd & 0x04) != 0;
    static constexpr size_t kDictIdBytes[4] = {0, 1, 2, 4};
    static constexpr size_t kFcsBytes[4] = {0, 2, 4, 8};
    const size_t fcs_bytes = fcs_flag == 0 && single_segment ? 1 : kFcsBytes[fcs_flag];
    if (fcs_bytes == 0) return std::vector<MemberStart>{};  // size unknown: cannot place members
    uint64_t pos = at + 5 + (single_segment ? 0 : 1) + kDictIdBytes[fhd & 3];
    uint8_t fcs[8] = {};
    SLUICE_RETURN_IF_ERROR(ReadField(r, file, c, at, pos, fcs_bytes, fcs));
    uint64_t content = LoadLE(fcs, fcs_bytes);
    if (fcs_bytes == 2) content += 256;
    pos += fcs_bytes;

    for (bool last = false; !last;) {
      uint8_t b[3] = {};
      SLUICE_RETURN_IF_ERROR(ReadField(r, file, c, at, pos, 3, b));
      const uint32_t block = b[0] | (uint32_t{b[1]} << 8) | (uint32_t{b[2]} << 16);
      last = (block & 1) != 0;
      const unsigned type = (block >> 1) & 3;
      const uint64_t block_size = block >> 3;
      if (type == 3) {
        return Broken(file, c, pos,
                      "reserved block type in the frame at compressed byte " + std::to_string(at));
      }
      if (block_size > kZstdMaxBlockBytes) {
        return Broken(file, c, pos,
                      "block of " + std::to_string(block_size) + " bytes, more than zstd allows");
      }
      pos += 3 + (type == 1 ? 1 : block_size);  // an RLE block stores one byte
      if (pos > size) return Truncated(file, c, at, pos);
    }
    if (has_checksum) pos += 4;
    if (pos > size) return Truncated(file, c, at, pos);

    members.push_back({member_start, total});
    total += content;
    if (content > 0) ++with_data;
    at = pos;
    member_start = pos;
  }
  return Finish(std::move(members), with_data, size, total);
}

}  // namespace

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kXz:
      return "xz";
  }
  return "unknown";
}

Result<Compression> DetectCompression(ReadableFile& file) {
  uint8_t m[10] = {};
  size_t got = 0;
  SLUICE_RETURN_IF_ERROR(file.ReadAt(0, sizeof m, reinterpret_cast<char*>(m), &got));
  static constexpr uint8_t kXz[6] = {0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00};
  static constexpr uint8_t kBzipBlock[6] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
  static constexpr uint8_t kBzipEnd[6] = {0x17, 0x72, 0x45, 0x38, 0x50, 0x90};
  if (got >= 2 && m[0] == 0x1f && m[1] == 0x8b) return Compression::kGzip;
  if (got >= 4 && IsZstdFrameMagic(Load32(m))) return Compression::kZstd;
  if (got >= 6 && std::memcmp(m, kXz, 6) == 0) return Compression::kXz;
  if (got >= 10 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h' && m[3] >= '1' && m[3] <= '9' &&
      (std::memcmp(m + 4, kBzipBlock, 6) == 0 || std::memcmp(m + 4, kBzipEnd, 6) == 0)) {
    return Compression::kBzip2;
  }
  return Compression::kNone;
}

Result<std::vector<MemberStart>> IndexMembers(ReadableFile& file, Compression c) {
  switch (c) {
    case Compression::kGzip:
      return IndexBgzf(file);
    case Compression::kZstd:
      return IndexZstd(file);
    case Compression::kNone:
    case Compression::kBzip2:
    case Compression::kXz:
      break;
  }
  return std::vector<MemberStart>{};
}

}  // namespace sluice
