#include "runtime/job_report.h"

#include "io/output_committer.h"

#include <algorithm>
#include <cstdio>

#include "shuffle/serde.h"

namespace sluice {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
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
  for (size_t i = 0; i < c.inputs.size(); ++i) j += (i ? ", " : "") + Quote(c.inputs[i]);
  j += "],\n";
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
  j += indent + "  \"scratch\": " + Quote(c.scratch_root) + "\n" + indent + "}";
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
  j += "  \"output\": " + Quote(r.output_dir) + ",\n";
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
    j += ", \"plugin\": " + Quote(r.plugin_path) + ", \"plugin_xxh3\": " + Hex(r.plugin_xxh3);
  }
  j += "},\n";
  // Same inputs, job build and configuration: same fingerprint (a re-run
  // with it is a no-op).
  j += "  \"fingerprint\": " + Hex(r.fingerprint) + ",\n";
  j += "  \"config\": " + ConfigJson(*r.config, "  ", /*resources=*/false) + ",\n";
  j += "  \"inputs\": [\n";
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    const InputFile& f = r.inputs[i];
    j += "    {\"path\": " + Quote(f.path) + ", \"size\": " + std::to_string(f.size) +
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
