#include "runtime/driver/job_report.h"

#include "io/compressed_writer.h"
#include "io/output_committer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include <nlohmann/json.hpp>
#include <sluice/version.h>

#include "runtime/driver/reduce_assignment.h"
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

using Json = nlohmann::ordered_json;  // keeps keys in the order written

// Sets obj[name] = value, and for a value that is not valid UTF-8 (a path
// from a file system that stores bytes, not text) also obj[name + "_hex"]:
// the string alone holds U+FFFD in place of the bytes it cannot carry, so
// without the hex the path could not be recovered.
void PutPath(Json& obj, const std::string& name, const std::string& value) {
  obj[name] = value;
  if (!IsValidUtf8(value)) obj[name + "_hex"] = HexBytes(value);
}


// Seconds and rates to the millisecond: more digits would be noise, and a
// report diffs more cleanly without them.
double Milli(double v) { return std::round(v * 1000) / 1000; }

// The settings that decide the output's bytes, and with `resources` also
// those that only decide speed and memory. The manifest leaves the latter
// out: the default --memory depends on the ranks per node, and the manifest
// must not (it is the same for any rank count).
Json ConfigJson(const JobConfig& c, bool resources) {
  Json j = Json::object();
  j["inputs"] = c.inputs;
  const bool all_utf8 = std::all_of(c.inputs.begin(), c.inputs.end(),
                                    [](const std::string& in) { return IsValidUtf8(in); });
  if (!all_utf8) {
    // The exact bytes of each spec that is not UTF-8, null for the others:
    // see PutPath.
    Json hex = Json::array();
    for (const std::string& in : c.inputs) hex.push_back(IsValidUtf8(in) ? Json(nullptr) : Json(HexBytes(in)));
    j["inputs_hex"] = std::move(hex);
  }
  if (!c.expectations.empty()) {
    Json expect = Json::array();
    for (const Expectation& e : c.expectations) expect.push_back({{"expect", e.text}, {"level", e.warn ? "warn" : "error"}});
    j["expectations"] = std::move(expect);
  }
  Json params = Json::object();
  // A repeated --param: the last one wins, as it does for the job (params.h).
  for (const auto& [name, value] : c.settings.params) params[name] = value;
  j["params"] = std::move(params);
  j["partitions"] = c.settings.partitions;
  j["split_size"] = c.split_size;
  // Listed only when not the default, so that a default run's manifest is
  // what it was before these flags existed.
  if (c.settings.output_format != OutputFormat::kText) {
    j["output_format"] = std::string(OutputFormatName(c.settings.output_format));
  }
  if (c.settings.output_compression != OutputCompression::kNone) {
    j["output_compression"] = std::string(OutputCompressionName(c.settings.output_compression));
    j["output_compression_level"] = c.settings.output_compression_level != 0
                                        ? c.settings.output_compression_level
                                        : LevelsOf(c.settings.output_compression).fallback;
    // A compressed part holds one member per reduce task of its partition.
    if (c.settings.reduce_task_bytes != JobSettings().reduce_task_bytes) {
      j["reduce_task_size"] = c.settings.reduce_task_bytes;
    }
  }
  if (!c.settings.record_delimiter.empty()) j["record_delimiter"] = c.settings.record_delimiter;
  if (c.settings.csv_delimiter != ',' || c.settings.csv_quote != '"' || !c.settings.csv_header) {
    j["csv"] = {{"delimiter", std::string(1, c.settings.csv_delimiter)},
                {"quote", c.settings.csv_quote == 0 ? std::string("none") : std::string(1, c.settings.csv_quote)},
                {"header", c.settings.csv_header}};
  }
  if (c.incremental) j["incremental"] = true;
  if (!resources) return j;
  j["block_bytes"] = c.settings.block_bytes;
  j["compression_level"] = c.settings.compression_level;
  j["compress_node_local"] = c.settings.compress_node_local;
  j["combine_bytes"] = c.settings.combine_bytes;
  j["max_inflight_bytes"] = c.max_inflight_bytes;
  j["memory_bytes"] = c.memory_bytes;
  j["store_bytes"] = c.settings.store_bytes;
  j["sort_bytes"] = c.settings.sort_bytes;
  j["merge_factor"] = c.settings.merge_factor;
  PutPath(j, "scratch", c.scratch_root);
  return j;
}

// Spilling depends on --memory and on how the data is spread over ranks,
// not on the inputs: the manifest, which two runs of the same job on the
// same inputs must write alike at any rank count, leaves those counters to
// the report.
bool DependsOnResources(std::string_view counter) {
  return counter.starts_with("spill_") || counter == "merge_passes";
}

Json CountersJson(const TaskCounters& totals, bool resources) {
  Json j = Json::object();
  const auto values = totals.ToArray();
  for (size_t i = 0; i < TaskCounters::kCount; ++i) {
    if (!resources && DependsOnResources(TaskCounters::kNames[i])) continue;
    j[std::string(TaskCounters::kNames[i])] = values[i];
  }
  return j;
}

Json ExpectationsJson(const std::vector<ExpectationResult>& results) {
  Json j = Json::array();
  for (const ExpectationResult& r : results) {
    j.push_back({{"expect", r.expectation.text},
                 {"level", r.expectation.warn ? "warn" : "error"},
                 {"outcome", r.outcome},
                 {"detail", r.detail}});
  }
  return j;
}

Json UserCountersJson(const std::map<std::string, uint64_t>& counters) {
  Json j = Json::object();
  for (const auto& [name, value] : counters) j[name] = value;
  return j;
}

// Invalid UTF-8 becomes U+FFFD (error_handler_t::replace) rather than
// throwing (strict: one odd file name would fail a job that ran to the end)
// or vanishing (ignore: "a\xffb" would read as "ab", another plausible and
// perhaps existing name). The replacement shows that bytes were lost, and
// PutPath's "_hex" sibling keeps them.
std::string Render(const Json& j) {
  return j.dump(2, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace) + "\n";
}

// Per phase, its steps in order and "other": the phase's clock less its
// steps (receive_wait runs on map's clock: see StepSeconds). A map-only
// job's write and checksum are map steps; a job with a reduce has none.
Json StepsJson(const RankStats& s) {
  Json steps = Json::object();
  for (const char* phase : {"map", "reduce"}) {
    Json list = Json::object();
    double sum = 0;
    for (const StepSeconds::Field& f : StepSeconds::kFields) {
      if (std::string_view(f.phase) != phase) continue;
      const double v = s.steps.*f.seconds;
      if (std::string_view(phase) == "map" && (f.seconds == &StepSeconds::map_write ||
                                                f.seconds == &StepSeconds::map_checksum) && v == 0) {
        continue;
      }
      list[f.name] = Milli(v);
      if (f.seconds != &StepSeconds::receive_wait) sum += v;
    }
    const double clock = std::string_view(phase) == "map" ? s.map_seconds - s.steps.receive_wait : s.reduce_seconds;
    list["other"] = Milli(std::max(0.0, clock - sum));
    steps[phase] = std::move(list);
  }
  return steps;
}

}  // namespace

// A 64-bit hash as 16 hex digits in a string: as a JSON number above 2^53 it
// would lose bits in readers that hold numbers as doubles (JavaScript, jq).
std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8SequenceAt(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string HexBytes(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * s.size());
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string RankStats::Encode() const {
  std::string out;
  sluice::Encode(&out, host);
  sluice::Encode(&out, map_seconds);
  sluice::Encode(&out, reduce_seconds);
  sluice::Encode(&out, splits);
  sluice::Encode(&out, reused_splits);
  sluice::Encode(&out, peak_rss_bytes);
  sluice::Encode(&out, reduce_tasks);
  sluice::Encode(&out, reduce_input_bytes);
  for (const StepSeconds::Field& f : StepSeconds::kFields) sluice::Encode(&out, steps.*f.seconds);
  for (uint64_t v : counters.ToArray()) sluice::Encode(&out, v);
  for (const std::vector<PartInfo>* files : {&parts, &state_files}) {
    PutVarint(&out, files->size());
    for (const PartInfo& p : *files) {
      sluice::Encode(&out, p.partition);
      sluice::Encode(&out, p.bytes);
      sluice::Encode(&out, p.xxh3);
    }
  }
  for (const std::vector<TaskSpan>* spans : {&map_spans, &reduce_spans}) {
    PutVarint(&out, spans->size());
    for (const TaskSpan& t : *spans) {
      sluice::Encode(&out, t.start);
      sluice::Encode(&out, t.end);
      sluice::Encode(&out, t.bytes);
    }
  }
  return out;
}

bool RankStats::Decode(const std::string& bytes, RankStats* out) {
  ByteReader r{bytes.data(), bytes.data() + bytes.size()};
  std::array<uint64_t, TaskCounters::kCount> c{};
  bool ok = sluice::Decode(r, &out->host) && sluice::Decode(r, &out->map_seconds) && sluice::Decode(r, &out->reduce_seconds) &&
            sluice::Decode(r, &out->splits) && sluice::Decode(r, &out->reused_splits) &&
            sluice::Decode(r, &out->peak_rss_bytes) && sluice::Decode(r, &out->reduce_tasks) &&
            sluice::Decode(r, &out->reduce_input_bytes);
  for (const StepSeconds::Field& f : StepSeconds::kFields) ok = ok && sluice::Decode(r, &(out->steps.*f.seconds));
  for (uint64_t& v : c) ok = ok && sluice::Decode(r, &v);
  for (std::vector<PartInfo>* files : {&out->parts, &out->state_files}) {
    uint64_t n = 0;
    ok = ok && GetVarint(r, &n) && n <= r.remaining();
    if (ok) files->resize(n);
    for (PartInfo& p : *files) {
      ok = ok && sluice::Decode(r, &p.partition) && sluice::Decode(r, &p.bytes) && sluice::Decode(r, &p.xxh3);
    }
  }
  for (std::vector<TaskSpan>* spans : {&out->map_spans, &out->reduce_spans}) {
    uint64_t n = 0;
    ok = ok && GetVarint(r, &n) && n <= r.remaining();
    if (ok) spans->resize(n);
    for (TaskSpan& t : *spans) {
      ok = ok && sluice::Decode(r, &t.start) && sluice::Decode(r, &t.end) && sluice::Decode(r, &t.bytes);
    }
  }
  if (!ok || r.p != r.end) return false;
  out->counters = TaskCounters::FromArray(c);
  return true;
}

Throughput ThroughputOverTime(const JobReport& r, int slices) {
  Throughput t;
  const double total = std::max(r.total_seconds, 1e-3);
  t.slice_seconds = total / slices;
  t.map_mb_per_s.assign(slices, 0);
  t.reduce_mb_per_s.assign(slices, 0);
  auto spread = [&](double from, double to, uint64_t bytes, std::vector<double>* out) {
    const double mb = static_cast<double>(bytes) / 1e6;
    to = std::max(to, from);
    const int first = std::clamp(static_cast<int>(from / t.slice_seconds), 0, slices - 1);
    const int last = std::clamp(static_cast<int>(to / t.slice_seconds), 0, slices - 1);
    if (first == last) {
      (*out)[first] += mb / t.slice_seconds;
      return;
    }
    for (int i = first; i <= last; ++i) {
      const double overlap = std::min(to, (i + 1) * t.slice_seconds) - std::max(from, i * t.slice_seconds);
      if (overlap > 0) (*out)[i] += mb * overlap / (to - from) / t.slice_seconds;
    }
  };
  for (const RankStats& s : r.per_rank) {
    for (const TaskSpan& span : s.map_spans) {
      spread(r.plan_seconds + span.start, r.plan_seconds + span.end, span.bytes, &t.map_mb_per_s);
    }
    const double reduce_at = r.plan_seconds + s.map_seconds;
    for (const TaskSpan& span : s.reduce_spans) {
      spread(reduce_at + span.start, reduce_at + span.end, span.bytes, &t.reduce_mb_per_s);
    }
  }
  return t;
}

namespace {

Json IncrementalJson(const JobReport::Incremental& inc) {
  Json j = {{"run", inc.incremental ? "incremental" : "full"}, {"why", inc.why}};
  if (inc.incremental) j["previous_fingerprint"] = Hex64(inc.previous_fingerprint);
  j["files_read"] = inc.files_read;
  j["files_reused"] = inc.files_reused;
  Json state = Json::array();
  for (const JobReport::StateFile& f : inc.state) {
    state.push_back({{"file", f.file}, {"bytes", f.bytes}, {"xxh3", Hex64(f.xxh3)}});
  }
  j["state"] = std::move(state);
  return j;
}

Json ThroughputJson(const JobReport& r) {
  const Throughput t = ThroughputOverTime(r);
  Json map = Json::array(), reduce = Json::array();
  for (double v : t.map_mb_per_s) map.push_back(Milli(v));
  for (double v : t.reduce_mb_per_s) reduce.push_back(Milli(v));
  return {{"slice_seconds", Milli(t.slice_seconds)},
          {"map_input_mb_per_s", std::move(map)},
          {"reduce_output_mb_per_s", std::move(reduce)}};
}

}  // namespace

std::string RenderReportJson(const JobReport& r) {
  Json j = Json::object();
  j["job"] = r.job;
  j["ranks"] = r.ranks;
  PutPath(j, "output", r.output_dir);
  j["config"] = ConfigJson(*r.config, /*resources=*/true);
  j["input"] = {{"files", r.input_files}, {"bytes", r.input_bytes}, {"splits", r.splits}};
  uint64_t reused = 0;
  for (const RankStats& s : r.per_rank) reused += s.reused_splits;
  j["resume"] = {{"fingerprint", Hex64(r.fingerprint)}, {"map_tasks_reused", reused}};
  if (r.incremental.on) j["incremental"] = IncrementalJson(r.incremental);
  // Anything but a JSON array from the submitter is not ours to trust; the
  // count alone still says that this run was a retry.
  Json earlier = Json::parse(r.earlier_attempts_json, nullptr, /*allow_exceptions=*/false);
  if (!earlier.is_array()) earlier = Json::array();
  j["attempts"] = {{"this", r.attempt}, {"earlier", std::move(earlier)}};
  j["seconds"] = {{"plan", Milli(r.plan_seconds)},
                  {"commit", Milli(r.commit_seconds)},
                  {"total", Milli(r.total_seconds)}};
  j["throughput_mb_per_s"] =
      Milli(r.total_seconds > 0 ? static_cast<double>(r.input_bytes) / 1e6 / r.total_seconds : 0);
  j["throughput_over_time"] = ThroughputJson(r);
  // Slowest rank per phase: where a straggler shows.
  size_t slow_map = 0, slow_reduce = 0;
  for (size_t i = 0; i < r.per_rank.size(); ++i) {
    if (r.per_rank[i].map_seconds > r.per_rank[slow_map].map_seconds) slow_map = i;
    if (r.per_rank[i].reduce_seconds > r.per_rank[slow_reduce].reduce_seconds) slow_reduce = i;
  }
  j["slowest_rank"] = {{"map", slow_map}, {"reduce", slow_reduce}};
  Json per_rank = Json::array();
  for (size_t i = 0; i < r.per_rank.size(); ++i) {
    const RankStats& s = r.per_rank[i];
    per_rank.push_back({{"rank", i},
                        {"host", s.host},
                        {"map_seconds", Milli(s.map_seconds)},
                        {"reduce_seconds", Milli(s.reduce_seconds)},
                        {"splits", s.splits},
                        {"reused_splits", s.reused_splits},
                        {"peak_rss_bytes", s.peak_rss_bytes},
                        {"shuffle_packed_bytes", s.counters.shuffle_packed_bytes},
                        {"reduce_tasks", s.reduce_tasks},
                        {"reduce_input_bytes", s.reduce_input_bytes},
                        {"reduce_input_records", s.counters.reduce_input_records},
                        {"steps", StepsJson(s)}});
  }
  j["per_rank"] = std::move(per_rank);
  if (!r.reduce_owners.empty()) {
    // Planned (sampled bytes) next to what came (bytes received): how well
    // the sample predicted the reduce work.
    std::vector<uint64_t> received;
    for (const RankStats& s : r.per_rank) received.push_back(s.reduce_input_bytes);
    Json tasks = Json::array();
    const size_t count = std::min({r.reduce_owners.size(), r.task_weights.size(), r.task_partitions.size()});
    for (size_t t = 0; t < count; ++t) {
      // A partition's pieces are consecutive tasks.
      const bool cut = (t > 0 && r.task_partitions[t - 1] == r.task_partitions[t]) ||
                       (t + 1 < count && r.task_partitions[t + 1] == r.task_partitions[t]);
      Json task = {{"partition", r.task_partitions[t]}};
      if (cut) {
        uint32_t piece = 0;
        while (piece < t && r.task_partitions[t - piece - 1] == r.task_partitions[t]) ++piece;
        task["piece"] = piece;
      }
      task["rank"] = r.reduce_owners[t];
      task["sampled_bytes"] = r.task_weights[t];
      tasks.push_back(std::move(task));
    }
    j["reduce_assignment"] = {
        {"by", "sampled bytes per reduce task, heaviest first to the least-loaded rank; a partition the "
               "sample puts over --reduce-task-size is cut by key into pieces"},
        {"heaviest_rank_over_mean_sampled", Milli(HeaviestOverMean(r.task_weights, r.reduce_owners, r.ranks))},
        {"heaviest_rank_over_mean_received", Milli(HeaviestOverMean(received))},
        {"tasks", std::move(tasks)}};
  }
  j["counters"] = CountersJson(r.totals, /*resources=*/true);
  j["user_counters"] = UserCountersJson(r.user_counters);
  if (!r.expectations.empty()) j["expectations"] = ExpectationsJson(r.expectations);
  const uint64_t raw = r.totals.shuffle_raw_bytes, packed = r.totals.shuffle_packed_bytes;
  j["shuffle"] = {{"raw_bytes", raw},
                  {"packed_bytes", packed},
                  {"compression_ratio", Milli(packed ? static_cast<double>(raw) / static_cast<double>(packed) : 0)}};
  return Render(j);
}

std::string RenderManifestConfig(const JobConfig& config) { return ConfigJson(config, /*resources=*/false).dump(); }

std::string RenderManifestJson(const JobReport& r) {
  Json j = Json::object();
  j["format"] = "sluice-manifest/1";
  Json job = {{"name", r.job}, {"sluice_version", kSluiceVersion}};
  if (!r.plugin_path.empty()) {
    PutPath(job, "plugin", r.plugin_path);
    job["plugin_xxh3"] = Hex64(r.plugin_xxh3);
  }
  j["job"] = std::move(job);
  // Same inputs, job build and configuration: same fingerprint (a re-run
  // with it is a no-op).
  j["fingerprint"] = Hex64(r.fingerprint);
  j["config"] = ConfigJson(*r.config, /*resources=*/false);
  Json inputs = Json::array();
  for (const InputFile& f : r.inputs) {
    Json in = Json::object();
    PutPath(in, "path", f.path);
    in["size"] = f.size;
    in["mtime_ns"] = f.mtime_ns;
    // How it was read, for a file that was decoded (its size and mtime
    // are the compressed file's): lineage tools and readers of the manifest
    // learn it. Absent for plain files, so that their manifests stay as
    // they were.
    if (f.compression != Compression::kNone) in["compression"] = CompressionName(f.compression);
    // What the next --incremental run checks a file against (its bytes,
    // hashed again only when its ctime moved).
    if (r.incremental.on) {
      in["xxh3"] = Hex64(f.xxh3);
      in["ctime_ns"] = f.ctime_ns;
    }
    inputs.push_back(std::move(in));
  }
  j["inputs"] = std::move(inputs);
  if (r.incremental.on) j["incremental"] = IncrementalJson(r.incremental);
  std::vector<PartInfo> parts;
  for (const RankStats& s : r.per_rank) parts.insert(parts.end(), s.parts.begin(), s.parts.end());
  std::sort(parts.begin(), parts.end(),
            [](const PartInfo& a, const PartInfo& b) { return a.partition < b.partition; });
  Json outputs = Json::array();
  for (const PartInfo& p : parts) {
    const std::string file = OutputCommitter::PartName(static_cast<int>(p.partition)) +
                             std::string(OutputCompressionExtension(r.config->settings.output_compression));
    outputs.push_back({{"file", file},
                       {"bytes", p.bytes},
                       {"xxh3", Hex64(p.xxh3)}});
  }
  j["outputs"] = std::move(outputs);
  j["counters"] = CountersJson(r.totals, /*resources=*/false);
  j["user_counters"] = UserCountersJson(r.user_counters);
  if (!r.expectations.empty()) j["expectations"] = ExpectationsJson(r.expectations);
  return Render(j);
}

}  // namespace sluice
