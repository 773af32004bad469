#include "runtime/cli/job_flags.h"

#include <charconv>
#include <cstdint>
#include <optional>

#include "io/compressed_writer.h"
#include "io/record_delimiter.h"
#include "runtime/driver/expectations.h"

namespace sluice {
namespace {

Result<int64_t> ParseInt(const std::string& flag, const std::string& text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::Usage("flag " + flag + ": '" + text + "' is not an integer");
  }
  return v;
}

// An integer in lo..hi; `what` opens the range message ("zstd level ").
Result<int64_t> ParseIntIn(const std::string& flag, const std::string& text, int64_t lo, int64_t hi,
                           const std::string& what = "") {
  SLUICE_ASSIGN_OR_RETURN(int64_t n, ParseInt(flag, text));
  if (n < lo || n > hi) {
    return Status::Usage("flag " + flag + ": " + what + "must be in " + std::to_string(lo) + ".." +
                         std::to_string(hi) + ", got " + text);
  }
  return n;
}

// Parses an integer in lo..hi into `*dst`.
template <class T>
Status SetIntIn(const std::string& flag, const std::string& text, int64_t lo, int64_t hi, T* dst,
                const std::string& what = "") {
  SLUICE_ASSIGN_OR_RETURN(int64_t n, ParseIntIn(flag, text, lo, hi, what));
  *dst = static_cast<T>(n);
  return Status::OK();
}

Status SetSize(const std::string& flag, const std::string& text, uint64_t* dst) {
  SLUICE_ASSIGN_OR_RETURN(*dst, ParseSize(flag, text));
  return Status::OK();
}

// A switch is given bare; CLI11 reports `--quiet=VALUE` as that value.
Status SetSwitch(const std::string& flag, const std::string& value, bool* dst) {
  if (value != "true") return Status::Usage("flag " + flag + " takes no value");
  *dst = true;
  return Status::OK();
}

Status SetLogLevel(const std::string& flag, const std::string& v, JobConfig* c) {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    if (v == level) {
      c->log_level = v;
      return Status::OK();
    }
  }
  return Status::Usage("flag " + flag + ": unknown level '" + v + "' (trace, debug, info, warn, error, off)");
}

// One byte, given as itself or by name: "\t" or "tab", "\0"; for
// --csv-delimiter and --csv-quote.
Result<char> ParseOneByte(const std::string& flag, const std::string& v) {
  if (v == "\\t" || v == "tab" || v == "\t") return '\t';
  if (v == "\\0" || v == "nul") return '\0';
  // ASCII only: the report spells it as a JSON string.
  if (v.size() == 1 && v[0] != '\n' && v[0] != '\r' && static_cast<unsigned char>(v[0]) < 0x80) return v[0];
  return Status::Usage("flag " + flag + ": '" + v +
                       "' is not one character (give one, or \\t / tab, \\0 / nul)");
}

Status SetOutputFormat(const std::string& flag, const std::string& v, JobConfig* c) {
  for (OutputFormat f : {OutputFormat::kText, OutputFormat::kCsv, OutputFormat::kJsonl}) {
    if (v == OutputFormatName(f)) {
      c->settings.output_format = f;
      return Status::OK();
    }
  }
  return Status::Usage("flag " + flag + ": unknown format '" + v + "' (text, csv, jsonl)");
}

Status AddParam(const std::string& flag, const std::string& v, JobConfig* c) {
  const size_t eq = v.find('=');
  if (eq == std::string::npos || eq == 0)
    return Status::Usage("flag " + flag + ": '" + v + "' is not key=value");
  c->settings.params.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  return Status::OK();
}

// A value that must not be empty ("flag --scratch: empty directory").
Status SetNonEmpty(const std::string& flag, const std::string& v, const char* what, std::string* into) {
  if (v.empty()) return Status::Usage("flag " + flag + ": empty " + what);
  *into = v;
  return Status::OK();
}

Status AddExpectation(const std::string& flag, const std::string& text, bool warn, JobConfig* c) {
  Status syntax = CheckExpectationSyntax(text);
  if (!syntax.ok()) return Status::Usage("flag " + flag + ": " + syntax.message());
  c->expectations.push_back(Expectation{text, warn});
  return Status::OK();
}

}  // namespace

const std::vector<JobFlag>& JobFlags() {
  using S = const std::string&;
  static const auto* flags = new std::vector<JobFlag>{
      {"--input", "", "PATH", "(required)",
       "a file, a directory (walked recursively; names starting with `.` or `_` are skipped), or a quoted "
       "glob; a path that exists is taken literally even if it holds `*`, `?` or `[` (only one that does not "
       "exist is globbed); repeatable",
       [](S, S v, JobConfig* c) {
         c->inputs.push_back(v);
         return Status::OK();
       }},
      {"--output", "", "DIR", "(required)", "output directory; refused if it exists, unless `--overwrite`",
       [](S, S v, JobConfig* c) {
         c->output = v;
         return Status::OK();
       }},
      {"--overwrite", "", "", "off",
       "replace `DIR` atomically at commit; only a Sluice output, never one that is or holds an input, `/`, "
       "`$HOME` or the current directory (see [Sharing a machine]"
       "(#sharing-a-machine-locks-private-directories-safe-replace))",
       [](S f, S v, JobConfig* c) { return SetSwitch(f, v, &c->overwrite); }},
      {"--force", "", "", "off",
       "run even if `DIR` already holds this job's result, and redo every map task instead of resuming "
       "(replaces `DIR`, under the same rules as `--overwrite`)",
       [](S f, S v, JobConfig* c) { return SetSwitch(f, v, &c->force); }},
      {"--incremental", "", "", "off",
       "for jobs declared mergeable (`wordcount`, `weblog`, `aggregate`, `topk`): map only the input files "
       "`DIR`'s previous `--incremental` run did not read and fold its merge state (`DIR/_state/`) in; "
       "the parts are byte-identical to a full run's. A changed or removed file, or another "
       "configuration, makes it a full run, said in the log. Replaces `DIR` as `--overwrite` does (see "
       "[Incremental runs](#incremental-runs))",
       [](S f, S v, JobConfig* c) { return SetSwitch(f, v, &c->incremental); }},
      {"--output-format", "", "FORMAT", "text",
       "how a job with text output (the default) writes records: `text` (`key<TAB>value` lines; a record "
       "they cannot show unambiguously fails the job), `csv` (a header row, RFC 4180 quoting) or `jsonl` (a "
       "JSON object per line); see [Output formats](#output-formats-and-compression)",
       SetOutputFormat},
      {"--output-compression", "", "CODEC", "none",
       "compress part files with `zstd` (`part-NNNNN.zst`) or `gzip` (BGZF, `part-NNNNN.gz`), in "
       "independent blocks that `zstd -d`, `zcat` or `bgzip -d` read whole and Sluice can split; the "
       "manifest lists the compressed files. Not for `KeyValueOutput` jobs",
       [](S f, S v, JobConfig* c) {
         std::optional<OutputCompression> codec = ParseOutputCompression(v);
         if (!codec) return Status::Usage("flag " + f + ": unknown codec '" + v + "' (none, zstd, gzip)");
         c->settings.output_compression = *codec;
         return Status::OK();
       }},
      {"--output-compression-level", "", "N", "zstd 3, gzip 1",
       "level of `--output-compression`: zstd -7..22, gzip 1..12 (higher: smaller and slower)",
       [](S f, S v, JobConfig* c) {
         return SetIntIn(f, v, -7, 22, &c->settings.output_compression_level);
       }},
      {"--max-bad-records", "", "N", "0",
       "skip up to `N` records the job rejects as unparsable, listing each in `DIR/_bad_records`; fail past "
       "`N`",
       [](S f, S v, JobConfig* c) {
         SLUICE_ASSIGN_OR_RETURN(int64_t n, ParseInt(f, v));
         if (n < 0) return Status::Usage("flag " + f + ": must be >= 0, got " + v);
         c->settings.max_bad_records = static_cast<uint64_t>(n);
         return Status::OK();
       }},
      {"--partitions", "", "N", "16",
       "reduce partitions, one `part-NNNNN` each; independent of the rank count",
       [](S f, S v, JobConfig* c) { return SetIntIn(f, v, 1, 1'000'000, &c->settings.partitions); }},
      {"--reduce-task-size", "", "SIZE", "256M",
       "a partition whose reduce input the key sample puts above `SIZE` is reduced in key-range pieces of about "
       "`SIZE` on several ranks and joined into its one part; `0`: never cut",
       [](S f, S v, JobConfig* c) {
         if (v == "0") {
           c->settings.reduce_task_bytes = 0;
           return Status::OK();
         }
         return SetSize(f, v, &c->settings.reduce_task_bytes);
       }},
      {"--split-size", "", "SIZE", "64M",
       "input bytes per map task (a file up to a tenth over it is one task)",
       [](S f, S v, JobConfig* c) { return SetSize(f, v, &c->split_size); }},
      {"--record-delimiter", "", "SPEC", "a newline",
       "text input: what ends a record instead of a newline: one byte (`;`, `\\0`, `\\x1e`, `\\t`), a string "
       "that cannot overlap itself (`<END>`), or `paragraph` (blank lines between records)",
       [](S f, S v, JobConfig* c) {
         auto d = ParseRecordDelimiter(v);
         if (!d.ok()) return Status::Usage("flag " + f + ": " + d.status().message());
         // Spelled back in printable ASCII: the report and the fingerprint
         // see one spelling per delimiter; the default stays empty.
         c->settings.record_delimiter = d->kind == RecordDelimiter::kLine ? "" : RecordDelimiterSpec(*d);
         return Status::OK();
       }},
      {"--csv-delimiter", "", "CHAR", "`,`", "CSV input: the field delimiter (`tab` or `\\t` for TSV)",
       [](S f, S v, JobConfig* c) {
         SLUICE_ASSIGN_OR_RETURN(c->settings.csv_delimiter, ParseOneByte(f, v));
         if (c->settings.csv_quote != 0 && c->settings.csv_delimiter == c->settings.csv_quote) {
           return Status::Usage("flag " + f + ": the delimiter cannot be the quote character");
         }
         return Status::OK();
       }},
      {"--csv-quote", "", "CHAR", "`\"`", "CSV input: the quote character, or `none` (fields are never quoted)",
       [](S f, S v, JobConfig* c) {
         if (v == "none") {
           c->settings.csv_quote = 0;
           return Status::OK();
         }
         SLUICE_ASSIGN_OR_RETURN(c->settings.csv_quote, ParseOneByte(f, v));
         if (c->settings.csv_quote == c->settings.csv_delimiter) {
           return Status::Usage("flag " + f + ": the quote character cannot be the delimiter");
         }
         return Status::OK();
       }},
      {"--csv-header", "", "yes/no", "yes",
       "CSV input: whether each file's first record names its columns (`row[\"name\"]`) rather than holding data",
       [](S f, S v, JobConfig* c) {
         if (v != "yes" && v != "no") return Status::Usage("flag " + f + ": 'yes' or 'no', got '" + v + "'");
         c->settings.csv_header = v == "yes";
         return Status::OK();
       }},
      {"--compression-level", "", "N", "1", "zstd level of shuffle blocks that leave the node, and of spill runs (-7..22)",
       [](S f, S v, JobConfig* c) {
         return SetIntIn(f, v, -7, 22, &c->settings.compression_level, "zstd level ");
       }},
      {"--compress-node-local", "", "yes/no", "yes",
       "`no`: shuffle blocks that stay on this node are not compressed: less CPU, but more memory, spills and "
       "bytes saved for resume (see [Performance](docs/performance.md))",
       [](S f, S v, JobConfig* c) {
         if (v != "yes" && v != "no") return Status::Usage("flag " + f + ": 'yes' or 'no', got '" + v + "'");
         c->settings.compress_node_local = v == "yes";
         return Status::OK();
       }},
      {"--block-size", "", "SIZE", "1M", "serialized bytes per shuffle block (1K..64M)",
       [](S f, S v, JobConfig* c) { return SetSize(f, v, &c->settings.block_bytes); }},
      {"--combine-memory", "", "SIZE", "64M", "map-side combiner table, flushed when full (64K..2G)",
       [](S f, S v, JobConfig* c) { return SetSize(f, v, &c->settings.combine_bytes); }},
      {"--max-inflight", "", "SIZE", "64M", "shuffle bytes in flight per rank (at most MEMORY/8)",
       [](S f, S v, JobConfig* c) { return SetSize(f, v, &c->max_inflight_bytes); }},
      {"--memory", "", "SIZE", "half of RAM / ranks per node",
       "memory budget per rank, at least 4M; beyond it shuffle data spills to `--scratch` (see [Data larger "
       "than memory](#data-larger-than-memory))",
       [](S f, S v, JobConfig* c) { return SetSize(f, v, &c->memory_bytes); }},
      {"--scratch", "", "DIR", "`$TMPDIR` or `/tmp`",
       "node-local directory for spill runs: each rank makes its own `DIR/sluice-<random>` (mode 0700) per "
       "run, at its first spill",
       [](S f, S v, JobConfig* c) { return SetNonEmpty(f, v, "directory", &c->scratch_root); }},
      {"--merge-factor", "", "N", "64", "most spill runs merged at once; more merge in passes",
       [](S f, S v, JobConfig* c) { return SetIntIn(f, v, 2, 4096, &c->settings.merge_factor); }},
      {"--param", "", "KEY=VALUE", "none",
       "a job parameter, typed and checked by the job (`sluice run JOB --help` lists them); repeatable",
       AddParam},
      {"--plugin", "", "PATH", "none",
       "`sluice run` only: run the job in this plugin (a `.so` built with `sluice_add_job`) instead of a "
       "built-in one",
       [](S f, S v, JobConfig* c) { return SetNonEmpty(f, v, "path", &c->plugin_path); }},
      {"--report", "", "PATH", "none",
       "also write the JSON job report to `PATH` (written before the output is published: if it cannot be, "
       "nothing is; one is always in `DIR/_report.json`)",
       [](S, S v, JobConfig* c) {
         c->report_path = v;
         return Status::OK();
       }},
      {"--expect", "", "EXPR", "none",
       "a data-quality expectation, checked before the output is published, e.g. "
       "`bad_records <= 0.001 * input_records`; false: the job fails (exit 7) and publishes nothing; "
       "repeatable (see [Data-quality expectations](#data-quality-expectations))",
       [](S f, S v, JobConfig* c) { return AddExpectation(f, v, /*warn=*/false, c); }},
      {"--expect-warn", "", "EXPR", "none",
       "as `--expect`, but a false one is logged and recorded in the report and manifest, and the output "
       "is published; repeatable",
       [](S f, S v, JobConfig* c) { return AddExpectation(f, v, /*warn=*/true, c); }},
      {"--lineage", "", "FILE", "none",
       "append OpenLineage run events (START, then COMPLETE or FAIL; inputs and output as datasets with "
       "sizes, row count and part checksums) to `FILE`, one JSON object per line",
       [](S f, S v, JobConfig* c) { return SetNonEmpty(f, v, "path", &c->lineage_path); }},
      {"--log-level", "", "LEVEL", "info", "trace, debug, info, warn, error, off", SetLogLevel},
      {"--log-dir", "", "DIR", "none", "also log each rank to `DIR/rank-N.log` (created if missing)",
       [](S, S v, JobConfig* c) {
         c->log_dir = v;
         return Status::OK();
       }},
      {"--quiet", "-q", "", "off", "only errors on stderr",
       [](S f, S v, JobConfig* c) { return SetSwitch(f, v, &c->quiet); }},
      {"--help", "-h", "", "", "these flags, then the job's parameters", nullptr},
  };
  return *flags;
}

}  // namespace sluice
