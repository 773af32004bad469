#include "runtime/driver/job_report.h"

#include "io/output_committer.h"

#include <algorithm>
#include <cstdio>

#include "shuffle/serde.h"

namespace sluice {
namespace {

// The length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629,
// table 3-7 of the Unicode standard), or 0 when s[i] does not start one.
size_t Utf8SequenceAt(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;  // a continuation byte, C0/C1 (overlong), or F5..FF
  }
  if (s.size() - i < len) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

std::string Quote(std::string_view s) { return JsonQuote(s); }

// `"name": "value"`, and for a value that is not valid UTF-8 (a path from a
// file system that stores bytes, not text) also `"name_hex": "<bytes>"`: the
// string alone would hold U+FFFD in place of the bytes it cannot carry, so
// without the hex the path could not be recovered.
std::string PathField(std::string_view name, std::string_view value) {
  std::string j = Quote(name) + ": " + Quote(value);
  if (!IsValidUtf8(value)) j += ", " + Quote(std::string(name) + "_hex") + ": " + JsonHexBytes(value);
  return j;
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(v));
  return buf;
}

// The settings that decide the output's bytes, and with `resources` also
// those that only decide speed and memory. The manifest leaves the latter
// out: the default --memory depends on the ranks per node, and the manifest
// must not (it is the same for any rank count).
std::string ConfigJson(const JobConfig& c, const std::string& indent, bool resources) {
  std::string j = "{\n" + indent + "  \"inputs\": [";
  bool all_utf8 = true;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    j += (i ? ", " : "") + Quote(c.inputs[i]);
    all_utf8 = all_utf8 && IsValidUtf8(c.inputs[i]);
  }
  j += "],\n";
  if (!all_utf8) {
    // The exact bytes of each spec that is not UTF-8 (null for the others):
    // see PathField.
    j += indent + "  \"inputs_hex\": [";
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      j += (i ? ", " : "") + (IsValidUtf8(c.inputs[i]) ? std::string("null") : JsonHexBytes(c.inputs[i]));
    }
    j += "],\n";
  }
  j += indent + "  \"params\": {";
  for (size_t i = 0; i < c.settings.params.size(); ++i) {
    j += (i ? ", " : "") + Quote(c.settings.params[i].first) + ": " + Quote(c.settings.params[i].second);
  }
  j += "},\n";
  j += indent + "  \"partitions\": " + std::to_string(c.settings.partitions) + ",\n";
  if (!resources) {
    j += indent + "  \"split_size\": " + std::to_string(c.split_size) + "\n" + indent + "}";
    return j;
  }
  j += indent + "  \"split_size\": " + std::to_string(c.split_size) + ",\n";
  j += indent + "  \"block_bytes\": " + std::to_string(c.settings.block_bytes) + ",\n";
  j += indent + "  \"compression_level\": " + std::to_string(c.settings.compression_level) + ",\n";
  j += indent + "  \"combine_bytes\": " + std::to_string(c.settings.combine_bytes) + ",\n";
  j += indent + "  \"max_inflight_bytes\": " + std::to_string(c.max_inflight_bytes) + ",\n";
  j += indent + "  \"memory_bytes\": " + std::to_string(c.memory_bytes) + ",\n";
  j += indent + "  \"store_bytes\": " + std::to_string(c.settings.store_bytes) + ",\n";
  j += indent + "  \"sort_bytes\": " + std::to_string(c.settings.sort_bytes) + ",\n";
  j += indent + "  \"merge_factor\": " + std::to_string(c.settings.merge_factor) + ",\n";
  j += indent + "  " + PathField("scratch", c.scratch_root) + "\n" + indent + "}";
  return j;
}

std::string CountersJson(const JobReport& r) {
  std::string j = "{\n";
  const auto totals = r.totals.ToArray();
  for (size_t i = 0; i < TaskCounters::kCount; ++i) {
    j += "    " + Quote(TaskCounters::kNames[i]) + ": " + std::to_string(totals[i]) +
         (i + 1 < TaskCounters::kCount ? ",\n" : "\n");
  }
  return j + "  }";
}

std::string UserCountersJson(const JobReport& r) {
  std::string j = "{";
  size_t n = 0;
  for (const auto& [name, value] : r.user_counters) {
    j += std::string(n++ ? ", " : "") + Quote(name) + ": " + std::to_string(value);
  }
  return j + "}";
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

std::string JsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceAt(s, i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, per invalid byte
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8SequenceAt(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string JsonHexBytes(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  out += '"';
  return out;
}

std::string RankStats::Encode() const {
  std::string out;
  sluice::Encode(&out, map_seconds);
  sluice::Encode(&out, reduce_seconds);
  sluice::Encode(&out, splits);
  sluice::Encode(&out, reused_splits);
  sluice::Encode(&out, peak_rss_bytes);
  for (uint64_t v : counters.ToArray()) sluice::Encode(&out, v);
  PutVarint(&out, parts.size());
  for (const PartInfo& p : parts) {
    sluice::Encode(&out, p.partition);
    sluice::Encode(&out, p.bytes);
    sluice::Encode(&out, p.xxh3);
  }
  return out;
}

bool RankStats::Decode(const std::string& bytes, RankStats* out) {
  ByteReader r{bytes.data(), bytes.data() + bytes.size()};
  std::array<uint64_t, TaskCounters::kCount> c{};
  bool ok = sluice::Decode(r, &out->map_seconds) && sluice::Decode(r, &out->reduce_seconds) &&
            sluice::Decode(r, &out->splits) && sluice::Decode(r, &out->reused_splits) &&
            sluice::Decode(r, &out->peak_rss_bytes);
  for (uint64_t& v : c) ok = ok && sluice::Decode(r, &v);
  uint64_t nparts = 0;
  ok = ok && GetVarint(r, &nparts) && nparts <= r.remaining();
  if (ok) out->parts.resize(nparts);
  for (PartInfo& p : out->parts) {
    ok = ok && sluice::Decode(r, &p.partition) && sluice::Decode(r, &p.bytes) && sluice::Decode(r, &p.xxh3);
  }
  if (!ok || r.p != r.end) return false;
  out->counters = TaskCounters::FromArray(c);
  return true;
}

std::string RenderReportJson(const JobReport& r) {
  const JobConfig& c = *r.config;
  std::string j = "{\n";
  j += "  \"job\": " + Quote(r.job) + ",\n";
  j += "  \"ranks\": " + std::to_string(r.ranks) + ",\n";
  j += "  " + PathField("output", r.output_dir) + ",\n";
  j += "  \"config\": " + ConfigJson(c, "  ", /*resources=*/true) + ",\n";
  j += "  \"input\": {\"files\": " + std::to_string(r.input_files) +
       ", \"bytes\": " + std::to_string(r.input_bytes) + ", \"splits\": " + std::to_string(r.splits) +
       "},\n";
  uint64_t reused = 0;
  for (const RankStats& s : r.per_rank) reused += s.reused_splits;
  j += "  \"resume\": {\"fingerprint\": " + Hex(r.fingerprint) +
       ", \"map_tasks_reused\": " + std::to_string(reused) + "},\n";
  j += "  \"seconds\": {\"plan\": " + Num(r.plan_seconds) + ", \"commit\": " + Num(r.commit_seconds) +
       ", \"total\": " + Num(r.total_seconds) + "},\n";
  j += "  \"throughput_mb_per_s\": " +
       Num(r.total_seconds > 0 ? static_cast<double>(r.input_bytes) / 1e6 / r.total_seconds : 0) + ",\n";
  // Slowest rank per phase: where a straggler shows.
  size_t slow_map = 0, slow_reduce = 0;
  for (size_t i = 0; i < r.per_rank.size(); ++i) {
    if (r.per_rank[i].map_seconds > r.per_rank[slow_map].map_seconds) slow_map = i;
    if (r.per_rank[i].reduce_seconds > r.per_rank[slow_reduce].reduce_seconds) slow_reduce = i;
  }
  j += "  \"slowest_rank\": {\"map\": " + std::to_string(slow_map) +
       ", \"reduce\": " + std::to_string(slow_reduce) + "},\n";
  j += "  \"per_rank\": [\n";
  for (size_t i = 0; i < r.per_rank.size(); ++i) {
    const RankStats& s = r.per_rank[i];
    j += "    {\"rank\": " + std::to_string(i) + ", \"map_seconds\": " + Num(s.map_seconds) +
         ", \"reduce_seconds\": " + Num(s.reduce_seconds) + ", \"splits\": " + std::to_string(s.splits) +
         ", \"reused_splits\": " + std::to_string(s.reused_splits) +
         ", \"peak_rss_bytes\": " + std::to_string(s.peak_rss_bytes) +
         ", \"shuffle_packed_bytes\": " + std::to_string(s.counters.shuffle_packed_bytes) +
         ", \"reduce_input_records\": " + std::to_string(s.counters.reduce_input_records) + "}" +
         (i + 1 < r.per_rank.size() ? "," : "") + "\n";
  }
  j += "  ],\n  \"counters\": " + CountersJson(r) + ",\n";
  j += "  \"user_counters\": " + UserCountersJson(r) + ",\n";
  const uint64_t raw = r.totals.shuffle_raw_bytes, packed = r.totals.shuffle_packed_bytes;
  j += "  \"shuffle\": {\"raw_bytes\": " + std::to_string(raw) + ", \"packed_bytes\": " +
       std::to_string(packed) + ", \"compression_ratio\": " +
       Num(packed ? static_cast<double>(raw) / static_cast<double>(packed) : 0) + "}\n";
  j += "}\n";
  return j;
}

std::string RenderManifestJson(const JobReport& r) {
  std::string j = "{\n";
  j += "  \"format\": \"sluice-manifest/1\",\n";
  j += "  \"job\": {\"name\": " + Quote(r.job) + ", \"sluice_version\": \"0.1.0\"";
  if (!r.plugin_path.empty()) {
    j += ", " + PathField("plugin", r.plugin_path) + ", \"plugin_xxh3\": " + Hex(r.plugin_xxh3);
  }
  j += "},\n";
  // Same inputs, job build and configuration: same fingerprint (a re-run
  // with it is a no-op).
  j += "  \"fingerprint\": " + Hex(r.fingerprint) + ",\n";
  j += "  \"config\": " + ConfigJson(*r.config, "  ", /*resources=*/false) + ",\n";
  j += "  \"inputs\": [\n";
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    const InputFile& f = r.inputs[i];
    j += "    {" + PathField("path", f.path) + ", \"size\": " + std::to_string(f.size) +
         ", \"mtime_ns\": " + std::to_string(f.mtime_ns) + "}" + (i + 1 < r.inputs.size() ? "," : "") + "\n";
  }
  j += "  ],\n  \"outputs\": [\n";
  std::vector<PartInfo> parts;
  for (const RankStats& s : r.per_rank) parts.insert(parts.end(), s.parts.begin(), s.parts.end());
  std::sort(parts.begin(), parts.end(),
            [](const PartInfo& a, const PartInfo& b) { return a.partition < b.partition; });
  for (size_t i = 0; i < parts.size(); ++i) {
    j += "    {\"file\": " + Quote(OutputCommitter::PartName(static_cast<int>(parts[i].partition))) + ", \"bytes\": " + std::to_string(parts[i].bytes) +
         ", \"xxh3\": " + Hex(parts[i].xxh3) + "}" + (i + 1 < parts.size() ? "," : "") + "\n";
  }
  j += "  ],\n  \"counters\": " + CountersJson(r) + ",\n";
  j += "  \"user_counters\": " + UserCountersJson(r) + "\n}\n";
  return j;
}

}  // namespace sluice
