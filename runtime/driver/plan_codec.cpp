#include "runtime/driver/plan_codec.h"

#include "shuffle/serde.h"

namespace sluice {

std::string EncodePlan(const JobPlan& plan) {
  std::string out;
  PutVarint(&out, plan.files.size());
  for (const InputFile& f : plan.files) {
    Encode(&out, f.path);
    Encode(&out, f.size);
    Encode(&out, f.mtime_ns);
    Encode(&out, f.input_index);
    Encode(&out, static_cast<uint8_t>(f.compression));
    Encode(&out, f.xxh3);
    Encode(&out, f.ctime_ns);
  }
  PutVarint(&out, plan.splits.size());
  for (const Split& s : plan.splits) {
    Encode(&out, s.index);
    PutVarint(&out, s.ranges.size());
    for (const FileRange& r : s.ranges) {
      Encode(&out, r.file_index);
      Encode(&out, r.begin);
      Encode(&out, r.end);
      Encode(&out, r.data_begin);
      Encode(&out, r.data_end);
      Encode(&out, r.decode_from.compressed);
      Encode(&out, r.decode_from.uncompressed);
    }
  }
  Encode(&out, plan.total_bytes);
  Encode(&out, plan.fingerprint);
  Encode(&out, static_cast<uint8_t>(plan.already_done));
  Encode(&out, plan.run_token);
  Encode(&out, static_cast<uint8_t>(plan.incremental));
  Encode(&out, plan.previous_fingerprint);
  Encode(&out, plan.run_kind);
  return out;
}

Result<JobPlan> DecodePlan(const std::string& bytes) {
  JobPlan plan;
  ByteReader r{bytes.data(), bytes.data() + bytes.size()};
  auto bad = [] { return Status::Internal("plan broadcast is malformed"); };
  uint64_t n = 0;
  if (!GetVarint(r, &n)) return bad();
  plan.files.resize(n);
  for (InputFile& f : plan.files) {
    uint8_t compression = 0;
    if (!Decode(r, &f.path) || !Decode(r, &f.size) || !Decode(r, &f.mtime_ns) ||
        !Decode(r, &f.input_index) || !Decode(r, &compression) || !Decode(r, &f.xxh3) ||
        !Decode(r, &f.ctime_ns) ||
        compression > static_cast<uint8_t>(Compression::kXz)) {
      return bad();
    }
    f.compression = static_cast<Compression>(compression);
  }
  if (!GetVarint(r, &n)) return bad();
  plan.splits.resize(n);
  for (Split& s : plan.splits) {
    uint64_t ranges = 0;
    if (!Decode(r, &s.index) || !GetVarint(r, &ranges)) return bad();
    s.ranges.resize(ranges);
    for (FileRange& fr : s.ranges) {
      if (!Decode(r, &fr.file_index) || !Decode(r, &fr.begin) || !Decode(r, &fr.end) ||
          !Decode(r, &fr.data_begin) || !Decode(r, &fr.data_end) ||
          !Decode(r, &fr.decode_from.compressed) || !Decode(r, &fr.decode_from.uncompressed)) {
        return bad();
      }
    }
  }
  uint8_t done = 0;
  if (!Decode(r, &plan.total_bytes) || !Decode(r, &plan.fingerprint) || !Decode(r, &done) ||
      done > 1 || !Decode(r, &plan.run_token)) {
    return bad();
  }
  uint8_t incremental = 0;
  if (!Decode(r, &incremental) || incremental > 1 || !Decode(r, &plan.previous_fingerprint) ||
      !Decode(r, &plan.run_kind) || r.p != r.end) {
    return bad();
  }
  plan.incremental = incremental == 1;
  plan.already_done = done == 1;
  return plan;
}

}  // namespace sluice
