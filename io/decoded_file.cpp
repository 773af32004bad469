#include "io/decoded_file.h"

#include <bzlib.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <lzma.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace sluice {
namespace {

// Larger: fewer reads of the compressed file, more memory per open reader.
constexpr size_t kInputBytes = size_t{1} << 20;
// Where the bytes before a read's offset are decoded to be dropped.
constexpr size_t kDiscardBytes = size_t{256} << 10;
// Enough to tell whether the bytes after a member start another one.
constexpr size_t kMagicBytes = 6;
// xz's largest preset needs 674 MiB to compress but 65 MiB to decode; a
// header that asks for more than this is refused rather than obeyed.
constexpr uint64_t kXzMemLimit = uint64_t{1} << 30;

enum class Step { kOk, kMemberEnd, kError };
enum class Magic { kMatch, kNoMatch, kCutShort };

// Whether p[0, n) starts with a member that begins `magic`, where '?'
// stands for a digit 1..9. kCutShort: the n bytes start such a magic but
// end before it does.
Magic MatchMagic(const uint8_t* p, size_t n, std::string_view magic) {
  for (size_t i = 0; i < magic.size(); ++i) {
    if (i == n) return Magic::kCutShort;
    const bool ok =
        magic[i] == '?' ? (p[i] >= '1' && p[i] <= '9') : p[i] == static_cast<uint8_t>(magic[i]);
    if (!ok) return Magic::kNoMatch;
  }
  return Magic::kMatch;
}

// One format's decoder, driven by DecodedFile, which owns the buffers,
// positions and error messages.
class Codec {
 public:
  virtual ~Codec() = default;
  // Decodes from [*in, in_end) into [*out, out_end) and advances both past
  // what it consumed and produced. `input_ends`: no input follows in_end.
  // kMemberEnd: a member (gzip member, zstd frame, bzip2 stream) ended and
  // was verified; *in is just past it. kError: *reason says why (static).
  virtual Step Decode(const uint8_t** in, const uint8_t* in_end, uint8_t** out, uint8_t* out_end,
                      bool input_ends, const char** reason) = 0;
  // Whether the bytes after a member start another one.
  virtual Magic StartsMember(const uint8_t* p, size_t n) const = 0;
  // Readies the decoder for the member at the next input byte.
  virtual void StartMember() = 0;
  // Called when the input ends right after a member: why the stream must
  // not end there, or null when it may.
  virtual const char* EndProblem() const { return nullptr; }
};

// Output sizes are 32-bit in zlib-like APIs; a larger read is decoded in
// several calls.
uint32_t Clamp32(size_t n) { return static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX)); }

uint32_t Load16(const uint8_t* p) { return p[0] | (uint32_t{p[1]} << 8); }
uint32_t Load32(const uint8_t* p) { return Load16(p) | (Load16(p + 2) << 16); }

// Streams gzip through ISA-L's igzip: about 2.5 times zlib's inflate on text
// (scripts/bench-gunzip). BGZF blocks take a faster path where they can.
class GzipCodec final : public Codec {
 public:
  GzipCodec() : state_(std::make_unique<inflate_state>()), whole_(libdeflate_alloc_decompressor()) {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;  // parse the header, verify CRC-32 and ISIZE
  }
  ~GzipCodec() override { libdeflate_free_decompressor(whole_); }
  GzipCodec(const GzipCodec&) = delete;
  GzipCodec& operator=(const GzipCodec&) = delete;

  Step Decode(const uint8_t** in, const uint8_t* in_end, uint8_t** out, uint8_t* out_end,
              bool /*input_ends*/, const char** reason) override {
    uint8_t* const out_before = *out;
    if (at_member_start_) {
      at_member_start_ = false;
      // Unknown when the header is not all in the input: then not checked
      // at the end (never a false alarm).
      bgzf_member_ = in_end - *in >= 18 && IsBgzfHeader(*in);
      member_out_ = 0;
      if (DecodeWholeBgzfBlock(in, in_end, out, out_end)) {
        member_out_ += *out - out_before;
        return Step::kMemberEnd;
      }
    }
    isal_used_ = true;
    inflate_state& s = *state_;
    s.next_in = const_cast<uint8_t*>(*in);
    s.avail_in = Clamp32(in_end - *in);
    s.next_out = *out;
    s.avail_out = Clamp32(out_end - *out);
    const int r = isal_inflate(&s);
    // On return ISA-L gives back the whole bytes it had buffered but not
    // used, so next_in is exact even at the end of a member.
    *in = s.next_in;
    *out = s.next_out;
    member_out_ += *out - out_before;
    if (r != ISAL_DECOMP_OK) {
      *reason = Reason(r);
      return Step::kError;
    }
    return s.block_state == ISAL_BLOCK_FINISH ? Step::kMemberEnd : Step::kOk;
  }

  Magic StartsMember(const uint8_t* p, size_t n) const override {
    return MatchMagic(p, n, "\x1f\x8b");
  }

  // A BGZF file ends with an empty block (bgzip's end-of-file marker): one
  // that ends after a block holding data was cut at a block boundary (a copy
  // or a write that stopped), which every block's own CRC passes.
  const char* EndProblem() const override {
    return bgzf_member_ && member_out_ > 0
               ? "the BGZF end-of-file block is missing after the last block: the file was cut at "
                 "a block boundary (truncated); if a tool wrote it so, recompress it with bgzip"
               : nullptr;
  }

  void StartMember() override {
    at_member_start_ = true;
    if (!isal_used_) return;
    isal_inflate_reset(state_.get());
    state_->crc_flag = ISAL_GZIP;
    isal_used_ = false;
  }

 private:
  // A BGZF block (as bgzip writes it: the 'BC' subfield alone) states its
  // compressed and decoded sizes up front. When it lies whole in the input
  // and fits the output, libdeflate decodes it in one call, about 1.2 times
  // as fast as ISA-L's streaming on 64 KiB members (scripts/bench-gunzip),
  // checking CRC-32 and ISIZE just the same. Anything else, and every
  // failure, goes to ISA-L, which then says what is wrong.
  // The 18-byte header bgzip writes: gzip, deflate, FEXTRA holding the
  // 'BC' subfield alone.
  static bool IsBgzfHeader(const uint8_t* p) {
    return p[0] == 0x1f && p[1] == 0x8b && p[2] == 8 && (p[3] & 4) != 0 && Load16(p + 10) == 6 &&
           p[12] == 'B' && p[13] == 'C' && Load16(p + 14) == 2;
  }

  bool DecodeWholeBgzfBlock(const uint8_t** in, const uint8_t* in_end, uint8_t** out,
                            uint8_t* out_end) {
    constexpr size_t kHeader = 18, kTrailer = 8;
    const uint8_t* p = *in;
    const size_t avail = in_end - p;
    if (whole_ == nullptr || avail < kHeader || !IsBgzfHeader(p)) return false;
    const size_t block = Load16(p + 16) + 1;
    if (block < kHeader + kTrailer || block > avail) return false;
    const size_t decoded = Load32(p + block - 4);
    if (decoded > static_cast<size_t>(out_end - *out)) return false;
    size_t used = 0;
    // No actual_out: anything but exactly `decoded` bytes is a failure.
    if (libdeflate_gzip_decompress_ex(whole_, p, block, *out, decoded, &used, nullptr) !=
        LIBDEFLATE_SUCCESS) {
      return false;
    }
    *in = p + used;
    *out += decoded;
    return true;
  }

  static const char* Reason(int r) {
    switch (r) {
      case ISAL_INVALID_BLOCK:
        return "invalid deflate block";
      case ISAL_INVALID_SYMBOL:
        return "invalid deflate code";
      case ISAL_INVALID_LOOKBACK:
        return "invalid deflate distance";
      case ISAL_INVALID_WRAPPER:
        return "invalid gzip header";
      case ISAL_UNSUPPORTED_METHOD:
        return "unsupported compression method (not deflate)";
      case ISAL_INCORRECT_CHECKSUM:
        return "CRC-32 or length check failed: the decoded bytes are not those compressed";
      case ISAL_NEED_DICT:
        return "needs a preset dictionary";
      default:
        return "ISA-L inflate failed";
    }
  }

  std::unique_ptr<inflate_state> state_;  // large (tens of KiB): not on the stack
  libdeflate_decompressor* whole_;        // null if out of memory: ISA-L does all
  bool at_member_start_ = true;
  bool isal_used_ = false;  // state_ holds a member's progress and needs a reset
  bool bgzf_member_ = false;  // the current member has a BGZF header
  uint64_t member_out_ = 0;   // bytes the current member decoded to so far
};

class ZstdCodec final : public Codec {
 public:
  ZstdCodec() : dctx_(ZSTD_createDCtx()) {}
  ~ZstdCodec() override { ZSTD_freeDCtx(dctx_); }
  ZstdCodec(const ZstdCodec&) = delete;
  ZstdCodec& operator=(const ZstdCodec&) = delete;

  Step Decode(const uint8_t** in, const uint8_t* in_end, uint8_t** out, uint8_t* out_end,
              bool /*input_ends*/, const char** reason) override {
    if (dctx_ == nullptr) {
      *reason = "out of memory for the zstd decoder";
      return Step::kError;
    }
    ZSTD_inBuffer input{*in, static_cast<size_t>(in_end - *in), 0};
    ZSTD_outBuffer output{*out, static_cast<size_t>(out_end - *out), 0};
    const size_t r = ZSTD_decompressStream(dctx_, &output, &input);
    *in += input.pos;
    *out += output.pos;
    if (ZSTD_isError(r)) {
      *reason = ZSTD_getErrorName(r);
      return Step::kError;
    }
    // 0: a frame (data or skippable) ended and all its bytes are out.
    return r == 0 ? Step::kMemberEnd : Step::kOk;
  }

  Magic StartsMember(const uint8_t* p, size_t n) const override {
    const Magic data = MatchMagic(p, n, "\x28\xb5\x2f\xfd");
    if (data != Magic::kNoMatch) return data;
    if (n > 0 && (p[0] & 0xf0) != 0x50) return Magic::kNoMatch;
    return MatchMagic(p + std::min<size_t>(n, 1), n - std::min<size_t>(n, 1), "\x2a\x4d\x18");
  }

  // After a frame, ZSTD_decompressStream starts the next one by itself.
  void StartMember() override {}

 private:
  ZSTD_DCtx* dctx_;
};

class Bzip2Codec final : public Codec {
 public:
  Bzip2Codec() { Init(); }
  ~Bzip2Codec() override {
    if (ok_) BZ2_bzDecompressEnd(&s_);
  }
  Bzip2Codec(const Bzip2Codec&) = delete;
  Bzip2Codec& operator=(const Bzip2Codec&) = delete;

  Step Decode(const uint8_t** in, const uint8_t* in_end, uint8_t** out, uint8_t* out_end,
              bool /*input_ends*/, const char** reason) override {
    if (!ok_) {
      *reason = "out of memory for the bzip2 decoder";
      return Step::kError;
    }
    s_.next_in = const_cast<char*>(reinterpret_cast<const char*>(*in));
    s_.avail_in = Clamp32(in_end - *in);
    s_.next_out = reinterpret_cast<char*>(*out);
    s_.avail_out = Clamp32(out_end - *out);
    const int r = BZ2_bzDecompress(&s_);
    *in = reinterpret_cast<const uint8_t*>(s_.next_in);
    *out = reinterpret_cast<uint8_t*>(s_.next_out);
    switch (r) {
      case BZ_OK:
        return Step::kOk;
      case BZ_STREAM_END:
        return Step::kMemberEnd;
      case BZ_DATA_ERROR:
        *reason = "bad block or CRC mismatch";
        break;
      case BZ_DATA_ERROR_MAGIC:
        *reason = "bad stream header (not bzip2)";
        break;
      case BZ_MEM_ERROR:
        *reason = "out of memory";
        break;
      default:
        *reason = "libbz2 failed";
        break;
    }
    return Step::kError;
  }

  Magic StartsMember(const uint8_t* p, size_t n) const override { return MatchMagic(p, n, "BZh?"); }

  // libbz2 decodes one stream per bz_stream; bzcat starts a new one.
  void StartMember() override {
    if (ok_) BZ2_bzDecompressEnd(&s_);
    Init();
  }

 private:
  void Init() {
    std::memset(&s_, 0, sizeof s_);
    ok_ = BZ2_bzDecompressInit(&s_, /*verbosity=*/0, /*small=*/0) == BZ_OK;
  }

  bz_stream s_;
  bool ok_ = false;
};

class XzCodec final : public Codec {
 public:
  XzCodec() { StartMember(); }
  ~XzCodec() override { lzma_end(&s_); }
  XzCodec(const XzCodec&) = delete;
  XzCodec& operator=(const XzCodec&) = delete;

  Step Decode(const uint8_t** in, const uint8_t* in_end, uint8_t** out, uint8_t* out_end,
              bool input_ends, const char** reason) override {
    if (!ok_) {
      *reason = "out of memory for the xz decoder";
      return Step::kError;
    }
    s_.next_in = *in;
    s_.avail_in = in_end - *in;
    s_.next_out = *out;
    s_.avail_out = out_end - *out;
    // With LZMA_CONCATENATED only LZMA_FINISH tells that no stream follows.
    const lzma_ret r = lzma_code(&s_, input_ends ? LZMA_FINISH : LZMA_RUN);
    *in = s_.next_in;
    *out = s_.next_out;
    switch (r) {
      case LZMA_OK:
      case LZMA_BUF_ERROR:  // no progress possible: DecodedFile sees it stall
        return Step::kOk;
      case LZMA_STREAM_END:
        return Step::kMemberEnd;
      case LZMA_MEMLIMIT_ERROR:
        *reason = "needs more than 1 GiB of memory to decode";
        break;
      case LZMA_FORMAT_ERROR:
        *reason = "not an xz stream";
        break;
      case LZMA_OPTIONS_ERROR:
        *reason = "unsupported xz options";
        break;
      case LZMA_DATA_ERROR:
        *reason = "corrupt data or failed check";
        break;
      case LZMA_MEM_ERROR:
        *reason = "out of memory";
        break;
      default:
        *reason = "liblzma failed";
        break;
    }
    return Step::kError;
  }

  Magic StartsMember(const uint8_t* p, size_t n) const override {
    return MatchMagic(p, n, std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6));
  }

  // LZMA_CONCATENATED: liblzma itself goes from stream to stream and skips
  // stream padding, and ends only with the input, so this runs once per
  // file in practice.
  void StartMember() override {
    ok_ = lzma_stream_decoder(&s_, kXzMemLimit, LZMA_CONCATENATED) == LZMA_OK;
  }

 private:
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool ok_ = false;
};

std::unique_ptr<Codec> MakeCodec(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return std::make_unique<GzipCodec>();
    case Compression::kZstd:
      return std::make_unique<ZstdCodec>();
    case Compression::kBzip2:
      return std::make_unique<Bzip2Codec>();
    case Compression::kXz:
      return std::make_unique<XzCodec>();
    case Compression::kNone:
      break;
  }
  return nullptr;
}

class DecodedFile final : public ReadableFile {
 public:
  DecodedFile(std::unique_ptr<ReadableFile> file, Compression c, MemberStart from)
      : file_(std::move(file)),
        compression_(c),
        codec_(MakeCodec(c)),
        in_(std::make_unique_for_overwrite<uint8_t[]>(kInputBytes)),
        in_offset_(from.compressed),
        pos_(from.uncompressed) {
    if (codec_ == nullptr) {
      error_ = Status::Internal(std::string("OpenDecoded of '") + file_->path() +
                                "' with compression " + CompressionName(c));
    }
  }

  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    *got = 0;
    if (!error_.ok()) return error_;
    if (offset < pos_) {
      return Status::Internal("read of decoded '" + file_->path() + "' at byte " +
                              std::to_string(offset) + ", behind the decoder at byte " +
                              std::to_string(pos_) + ": decoded files are read forwards");
    }
    while (pos_ < offset && !done_) {
      if (discard_ == nullptr) discard_ = std::make_unique_for_overwrite<uint8_t[]>(kDiscardBytes);
      size_t dropped = 0;
      SLUICE_RETURN_IF_ERROR(
          Decode(discard_.get(), std::min<uint64_t>(offset - pos_, kDiscardBytes), &dropped));
    }
    if (pos_ < offset) return Status::OK();
    return Decode(reinterpret_cast<uint8_t*>(dst), n, got);
  }

  uint64_t size() const override { return UINT64_MAX; }
  const std::string& path() const override { return file_->path(); }

 private:
  // Decodes up to n bytes into out, fewer only at the end of the stream,
  // and advances pos_ by *produced. A failure is kept for every later call.
  Status Decode(uint8_t* out, size_t n, size_t* produced) {
    Status s = DecodeLoop(out, n, produced);
    pos_ += *produced;
    if (!s.ok()) error_ = s;
    return s;
  }

  Status DecodeLoop(uint8_t* const out, size_t n, size_t* produced) {
    *produced = 0;
    if (!started_) {
      started_ = true;
      SLUICE_RETURN_IF_ERROR(Refill());
      // Decoding from the final entry of IndexMembers, {file size, total}:
      // an empty stream. (From 0, an empty file is a truncated one.)
      if (in_len_ == 0 && in_offset_ > 0) done_ = true;
    }
    uint8_t* o = out;
    uint8_t* const o_end = out + n;
    while (o < o_end && !done_) {
      if (in_pos_ == in_len_ && !input_ends_) SLUICE_RETURN_IF_ERROR(Refill());
      const uint8_t* i = in_.get() + in_pos_;
      const uint8_t* const i_before = i;
      uint8_t* const o_before = o;
      const char* reason = "";
      const Step step = codec_->Decode(&i, in_.get() + in_len_, &o, o_end, input_ends_, &reason);
      in_pos_ = i - in_.get();
      *produced = o - out;
      if (step == Step::kError) return Corrupt(reason, pos_ + *produced);
      if (i != i_before) member_ends_unread_ = 0;
      if (step == Step::kMemberEnd) {
        // Every member holds at least a header: a decoder that ends members
        // without reading input would do so forever.
        if (++member_ends_unread_ > 1) {
          return Corrupt("the decoder ended a member without reading it", pos_ + *produced);
        }
        SLUICE_RETURN_IF_ERROR(NextMember(pos_ + *produced));
        continue;
      }
      if (i != i_before || o != o_before) continue;
      // The decoder can go no further with the input it has.
      if (input_ends_) return Truncated(pos_ + *produced);
      if (in_pos_ == 0 && in_len_ == kInputBytes) {
        return Corrupt("the decoder stalled on a full input buffer", pos_ + *produced);
      }
      SLUICE_RETURN_IF_ERROR(Refill());
    }
    *produced = o - out;
    return Status::OK();
  }

  // Moves the unconsumed input to the front of the buffer and reads more
  // after it, until the buffer is full or the file ends.
  Status Refill() {
    const size_t keep = in_len_ - in_pos_;
    std::memmove(in_.get(), in_.get() + in_pos_, keep);
    in_offset_ += in_pos_;
    in_pos_ = 0;
    in_len_ = keep;
    size_t got = 0;
    SLUICE_RETURN_IF_ERROR(file_->ReadAt(in_offset_ + in_len_, kInputBytes - in_len_,
                                         reinterpret_cast<char*>(in_.get() + in_len_), &got));
    in_len_ += got;
    if (in_len_ < kInputBytes) input_ends_ = true;
    return Status::OK();
  }

  // After a member: the stream ends with the file, or another member starts.
  Status NextMember(uint64_t decoded) {
    if (in_len_ - in_pos_ < kMagicBytes && !input_ends_) SLUICE_RETURN_IF_ERROR(Refill());
    const size_t left = in_len_ - in_pos_;
    if (left == 0) {
      if (const char* why = codec_->EndProblem()) return Corrupt(why, decoded);
      done_ = true;
      return Status::OK();
    }
    switch (codec_->StartsMember(in_.get() + in_pos_, left)) {
      case Magic::kMatch:
        codec_->StartMember();
        return Status::OK();
      case Magic::kCutShort:
        in_pos_ = in_len_;
        return Truncated(decoded);
      case Magic::kNoMatch:
        break;
    }
    return Corrupt(std::string("trailing garbage: the bytes after a complete member do not start "
                               "another ") +
                       CompressionName(compression_) + " member",
                   decoded);
  }

  uint64_t compressed() const { return in_offset_ + in_pos_; }

  Status Corrupt(const std::string& reason, uint64_t decoded) const {
    return Status::BadInput("corrupt " + std::string(CompressionName(compression_)) + " data in '" +
                            file_->path() + "' at compressed byte " + std::to_string(compressed()) +
                            " (after uncompressed byte " + std::to_string(decoded) +
                            "): " + reason);
  }

  Status Truncated(uint64_t decoded) const {
    return Status::BadInput("'" + file_->path() + "' ends in the middle of a " +
                            CompressionName(compression_) + " member at compressed byte " +
                            std::to_string(in_offset_ + in_len_) + " (after uncompressed byte " +
                            std::to_string(decoded) + "): the file is truncated");
  }

  std::unique_ptr<ReadableFile> file_;
  Compression compression_;
  std::unique_ptr<Codec> codec_;
  std::unique_ptr<uint8_t[]> in_;       // compressed bytes [in_offset_, in_offset_ + in_len_)
  std::unique_ptr<uint8_t[]> discard_;  // allocated on the first skip ahead
  uint64_t in_offset_;
  size_t in_pos_ = 0;  // next unconsumed byte of in_
  size_t in_len_ = 0;
  bool input_ends_ = false;     // the file ends at in_offset_ + in_len_
  bool started_ = false;        // the first read of the file was made
  bool done_ = false;           // the last member ended with the file
  int member_ends_unread_ = 0;  // member ends since input was last consumed
  uint64_t pos_;                // decoded offset of the next byte to produce
  Status error_;
};

}  // namespace

std::unique_ptr<ReadableFile> OpenDecoded(std::unique_ptr<ReadableFile> file, Compression c,
                                          MemberStart from) {
  return std::make_unique<DecodedFile>(std::move(file), c, from);
}

}  // namespace sluice
