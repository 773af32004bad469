#include "runtime/driver/map_task_store.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include <unistd.h>

#include "shuffle/block_codec.h"
#include "shuffle/little_endian.h"
#include "shuffle/serde.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {
namespace {

// Whether `path` ends in a folder named as the driver names scratch:
// "sluice-" and 16 lowercase hex digits (job_driver.cpp). Only such a
// folder is ever removed on a record's word, so a record pointing at, say,
// /data/sluice-src or a folder inside /tmp/sluice-scratch/ removes nothing.
bool IsScratchDirPath(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view name = path.substr(slash + 1);
  constexpr std::string_view kPrefix = "sluice-";
  if (name.size() != kPrefix.size() + 16 || name.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : name.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The last 24 bytes of a saved task: u64 trailer size (the encoded stats
// before these 24 bytes), u64 xxh3 of every byte before this field, magic.
constexpr size_t kTailBytes = 24;
constexpr char kMagic[9] = "SLMTASK3";  // 2: the split in the trailer; 3: the reduce task table

XXH3_state_t* State(void* p) { return static_cast<XXH3_state_t*>(p); }

std::string EncodeStats(uint32_t split, const SavedTaskStats& stats) {
  std::string out;
  Encode(&out, split);
  for (uint64_t v : stats.counters.ToArray()) Encode(&out, v);
  PutVarint(&out, stats.user.size());
  for (const auto& [name, value] : stats.user) {
    Encode(&out, name);
    Encode(&out, value);
  }
  Encode(&out, stats.part_bytes);
  Encode(&out, stats.part_xxh3);
  PutVarint(&out, stats.bad_records.size());
  for (const BadRecordInfo& r : stats.bad_records) {
    Encode(&out, r.file);
    Encode(&out, r.offset);
    Encode(&out, r.reason);
  }
  Encode(&out, stats.reduce_tasks);
  return out;
}

bool DecodeStats(std::string_view bytes, uint32_t* split, SavedTaskStats* stats) {
  ByteReader r{bytes.data(), bytes.data() + bytes.size()};
  if (!Decode(r, split)) return false;
  std::array<uint64_t, TaskCounters::kCount> values{};
  for (uint64_t& v : values) {
    if (!Decode(r, &v)) return false;
  }
  stats->counters = TaskCounters::FromArray(values);
  uint64_t n = 0;
  if (!GetVarint(r, &n) || n > bytes.size()) return false;
  stats->user.resize(n);
  for (auto& [name, value] : stats->user) {
    if (!Decode(r, &name) || !Decode(r, &value)) return false;
  }
  if (!Decode(r, &stats->part_bytes) || !Decode(r, &stats->part_xxh3)) return false;
  if (!GetVarint(r, &n) || n > bytes.size()) return false;
  stats->bad_records.resize(n);
  for (BadRecordInfo& b : stats->bad_records) {
    if (!Decode(r, &b.file) || !Decode(r, &b.offset) || !Decode(r, &b.reason)) return false;
  }
  if (!Decode(r, &stats->reduce_tasks)) return false;
  return r.p == r.end;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

MapTaskStore::MapTaskStore(FileSystem& fs, std::string work_root, uint64_t fingerprint, int rank)
    : fs_(fs), root_(std::move(work_root)), rank_(rank), hash_state_(XXH3_createState()) {
  char name[24];
  std::snprintf(name, sizeof name, "/%016llx", static_cast<unsigned long long>(fingerprint));
  dir_ = root_ + name;
  if (hash_state_ == nullptr) throw std::bad_alloc();
}

MapTaskStore::~MapTaskStore() { XXH3_freeState(State(hash_state_)); }

std::string MapTaskStore::TaskPath(uint32_t split) const {
  char name[32];
  std::snprintf(name, sizeof name, "/map-%08u", split);
  return dir_ + name;
}

constexpr char kScratchRecords[] = "/scratch";

Status MapTaskStore::Prepare() {
  SLUICE_RETURN_IF_ERROR(fs_.CreatePrivateDir(root_));  // refuses another user's, or a symlink
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> entries, fs_.ListDir(root_));
  for (const std::string& entry : entries) {
    const std::string path = root_ + "/" + entry;
    // Scratch records outlive a fingerprint: they name what to clean up.
    if (path != dir_ && path != root_ + kScratchRecords) SLUICE_RETURN_IF_ERROR(fs_.RemoveAll(path));
  }
  SLUICE_RETURN_IF_ERROR(fs_.CreatePrivateDir(root_ + kScratchRecords));
  if (fs_.Exists(dir_)) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> entries, fs_.ListDir(dir_));
    for (const std::string& entry : entries) {
      if (EndsWith(entry, ".tmp")) SLUICE_RETURN_IF_ERROR(fs_.RemoveFile(dir_ + "/" + entry));
    }
  }
  return fs_.CreatePrivateDir(dir_);
}

Status MapTaskStore::RemoveAll() { return fs_.RemoveAll(root_); }

Status MapTaskStore::BeginTask(uint32_t split) {
  temp_path_ = TaskPath(split) + ".r" + std::to_string(rank_) + ".tmp";
  SLUICE_ASSIGN_OR_RETURN(file_, fs_.Create(temp_path_));
  temp_exists_ = true;
  XXH3_64bits_reset(State(hash_state_));
  write_status_ = Status::OK();
  return Status::OK();
}

void MapTaskStore::Append(std::string_view frame) {
  if (!write_status_.ok()) return;
  XXH3_64bits_update(State(hash_state_), frame.data(), frame.size());
  write_status_ = file_->Append(frame);
}

Status MapTaskStore::KeepPart(uint32_t split, const std::string& committed_part) {
  const std::string kept = TaskPath(split) + ".part";
  (void)fs_.RemoveFile(kept);  // a killed run's link: link(2) will not replace it
  return fs_.Link(committed_part, kept);
}

Status MapTaskStore::CommitTask(uint32_t split, const SavedTaskStats& stats) {
  std::unique_ptr<WritableFile> file = std::move(file_);
  SLUICE_RETURN_IF_ERROR(write_status_);
  std::string tail = EncodeStats(split, stats);
  const uint64_t trailer_size = tail.size();
  Put64(&tail, trailer_size);
  XXH3_64bits_update(State(hash_state_), tail.data(), tail.size());
  Put64(&tail, XXH3_64bits_digest(State(hash_state_)));
  tail.append(kMagic, 8);
  SLUICE_RETURN_IF_ERROR(file->Append(tail));
  // No fsync: a task lost with its node is mapped again, and a torn file
  // fails the check in Check() rather than being used.
  SLUICE_RETURN_IF_ERROR(file->Close());
  SLUICE_RETURN_IF_ERROR(fs_.Rename(temp_path_, TaskPath(split)));
  temp_exists_ = false;
  return Status::OK();
}

Status MapTaskStore::AbandonOpenTask() {
  file_.reset();  // closed, whatever state its writes left it in
  if (!temp_exists_) return Status::OK();
  temp_exists_ = false;
  return fs_.RemoveFile(temp_path_);
}

bool MapTaskStore::Check(uint32_t split, bool map_only, SavedTaskStats* stats, std::string* why) {
  const std::string path = TaskPath(split);
  if (!fs_.Exists(path)) {
    *why = "not saved";
    return false;
  }
  auto fail = [&](std::string reason) {
    *why = "saved task '" + path + "' " + reason;
    return false;
  };
  auto opened = fs_.OpenForRead(path);
  if (!opened.ok()) return fail("cannot be read: " + opened.status().ToString());
  ReadableFile& file = **opened;
  const uint64_t size = file.size();
  if (size < kTailBytes) return fail("is truncated");
  char tail[kTailBytes];
  size_t got = 0;
  Status s = file.ReadAt(size - kTailBytes, kTailBytes, tail, &got);
  if (!s.ok() || got != kTailBytes) return fail("cannot be read: " + s.ToString());
  if (std::memcmp(tail + 16, kMagic, 8) != 0) return fail("has no trailer");
  const uint64_t trailer_size = Load64(tail);
  if (trailer_size > size - kTailBytes) return fail("has a bad trailer size");
  // One pass over every byte before the checksum field.
  Result<uint64_t> digest = Xxh3OfFile(file, size - 16);
  if (!digest.ok()) return fail("cannot be read: " + digest.status().ToString());
  if (*digest != Load64(tail + 8)) return fail("fails its checksum");
  std::string trailer;
  const uint64_t trailer_begin = size - kTailBytes - trailer_size;
  trailer.resize(trailer_size);
  s = file.ReadAt(trailer_begin, trailer_size, trailer.data(), &got);
  uint32_t saved_split = 0;
  if (!s.ok() || got != trailer_size || !DecodeStats(trailer, &saved_split, stats)) {
    return fail("has a malformed trailer");
  }
  if (saved_split != split) {
    return fail("belongs to split " + std::to_string(saved_split) + ", not " + std::to_string(split) +
                " (copied or renamed)");
  }
  if (map_only) {
    const std::string part = path + ".part";
    auto opened_part = fs_.OpenForRead(part);
    if (!opened_part.ok()) return fail("has no readable part file: " + opened_part.status().ToString());
    if ((*opened_part)->size() != stats->part_bytes) {
      return fail("has a part file of " + std::to_string((*opened_part)->size()) + " bytes, not the " +
                  std::to_string(stats->part_bytes) + " it was saved with");
    }
    Result<uint64_t> part_digest = Xxh3OfFile(**opened_part, stats->part_bytes);
    if (!part_digest.ok()) return fail("has an unreadable part file: " + part_digest.status().ToString());
    if (*part_digest != stats->part_xxh3) return fail("has a part file that fails its checksum");
  }
  replay_frames_end_ = trailer_begin;
  return true;
}

Status MapTaskStore::OpenForReplay(uint32_t split) {
  SLUICE_ASSIGN_OR_RETURN(replay_, fs_.OpenForRead(TaskPath(split)));
  replay_offset_ = 0;
  return Status::OK();
}

Result<bool> MapTaskStore::NextFrame(BlockInfo* info_out, std::string* frame) {
  if (replay_offset_ >= replay_frames_end_) return false;
  const std::string origin = "saved task '" + replay_->path() + "' at offset " +
                             std::to_string(replay_offset_);
  char header[kBlockHeaderBytes];
  size_t got = 0;
  SLUICE_RETURN_IF_ERROR(replay_->ReadAt(replay_offset_, sizeof header, header, &got));
  if (got != sizeof header) return Status::Corruption(origin + ": truncated block header");
  SLUICE_ASSIGN_OR_RETURN(BlockInfo info, BlockDecoder::ParseHeader({header, sizeof header}, origin));
  const uint64_t frame_bytes = kBlockHeaderBytes + info.packed_size;
  if (frame_bytes > replay_frames_end_ - replay_offset_) {
    return Status::Corruption(origin + ": block runs past the saved frames");
  }
  frame->resize(frame_bytes);
  SLUICE_RETURN_IF_ERROR(replay_->ReadAt(replay_offset_, frame_bytes, frame->data(), &got));
  if (got != frame_bytes) return Status::Corruption(origin + ": truncated block");
  replay_offset_ += frame_bytes;
  *info_out = info;
  return true;
}

Status MapTaskStore::RestorePart(uint32_t split, const std::string& part_path) {
  (void)fs_.RemoveFile(part_path);
  return fs_.Link(TaskPath(split) + ".part", part_path);
}

Status MapTaskStore::RegisterScratch(const std::string& host, const std::string& run_token,
                                     const std::string& scratch_dir) {
  scratch_record_ = root_ + kScratchRecords + "/" + host + "@" + run_token + ".r" +
                    std::to_string(rank_);
  return WriteStringToFile(fs_, scratch_record_, scratch_dir);
}

void MapTaskStore::UnregisterScratch() {
  if (!scratch_record_.empty()) (void)fs_.RemoveFile(scratch_record_);
  scratch_record_.clear();
}

std::vector<std::string> MapTaskStore::RemoveStaleScratch(const std::string& host,
                                                          const std::string& run_token) {
  std::vector<std::string> failed;
  const std::string records = root_ + kScratchRecords;
  auto entries = fs_.ListDir(records);
  if (!entries.ok()) return failed;
  const std::string prefix = host + "@";  // no host name holds an @
  for (const std::string& entry : *entries) {
    if (entry.compare(0, prefix.size(), prefix) != 0 || EndsWith(entry, ".claimed")) continue;
    // This run's own records (other ranks on this host) are not stale.
    if (entry.compare(prefix.size(), run_token.size() + 1, run_token + ".") == 0) continue;
    // Claim it by renaming: of several ranks on this host, one wins.
    const std::string claimed = records + "/" + entry + "." + std::to_string(::getpid()) + ".claimed";
    if (!fs_.Rename(records + "/" + entry, claimed).ok()) continue;
    auto dir = ReadFileToString(fs_, claimed);
    // Only a directory of our own, named as Sluice names scratch: a record
    // cannot make us remove anything else.
    if (dir.ok() && IsScratchDirPath(*dir)) {
      Status removed = RemoveOwnTree(fs_, *dir);
      if (!removed.ok()) failed.push_back(*dir + ": " + removed.ToString());
    }
    (void)fs_.RemoveFile(claimed);
  }
  return failed;
}

}  // namespace sluice
