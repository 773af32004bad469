#include "runtime/driver/incremental_plan.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "runtime/driver/job_report.h"

namespace sluice {
namespace {

using Json = nlohmann::json;

std::string Short(const Json& v) {
  std::string s = v.is_null() ? "(none)" : v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// A manifest's path field: the "_hex" sibling holds the exact bytes of a
// path that is not UTF-8 (job_report.h, PutPath).
std::string PathOf(const Json& obj, const std::string& name) {
  if (obj.contains(name + "_hex") && obj[name + "_hex"].is_string()) {
    const std::string hex = obj[name + "_hex"].get<std::string>();
    std::string bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      unsigned value = 0;
      std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
      bytes.push_back(static_cast<char>(value));
    }
    return bytes;
  }
  return obj.contains(name) && obj[name].is_string() ? obj[name].get<std::string>() : std::string();
}

uint64_t HexValue(const Json& v) {
  if (!v.is_string()) return 0;
  const std::string s = v.get<std::string>();
  uint64_t out = 0;
  std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return out;
}

// The file's xxh3 and ctime, read now. The ctime is taken first: a write
// after it moves it, so the next run hashes the file again.
Status Checksum(FileSystem& fs, InputFile* f) {
  SLUICE_ASSIGN_OR_RETURN(FileInfo info, fs.Stat(f->path));
  f->ctime_ns = info.ctime_ns;
  SLUICE_ASSIGN_OR_RETURN(f->xxh3, Xxh3OfFile(fs, f->path));
  return Status::OK();
}

struct PreviousInput {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t xxh3 = 0;
  int64_t ctime_ns = 0;
};

struct PreviousState {
  std::string file;  // in the output
  uint64_t bytes = 0;
  uint64_t xxh3 = 0;
};

struct Previous {
  uint64_t fingerprint = 0;
  int64_t written_ns = 0;  // the manifest's mtime: after every input was hashed
  std::map<std::string, PreviousInput> inputs;
  std::vector<PreviousState> state;
  std::string config_json;
};

// The previous run as its manifest records it, or why it cannot be
// built on (a full run, with that reason).
std::string ReadPrevious(FileSystem& fs, const std::string& output_dir, std::string_view job_name,
                         Previous* out) {
  if (!fs.LinkStat(output_dir).ok()) return "no output yet";
  auto text = ReadFileToString(fs, output_dir + "/_manifest.json");
  if (!text.ok()) return "the output holds no committed result (no _manifest.json)";
  if (auto written = fs.Stat(output_dir + "/_manifest.json"); written.ok()) out->written_ns = written->mtime_ns;
  const Json m = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object()) return "the output's _manifest.json is unreadable";
  const std::string job = m.value("job", Json::object()).value("name", "");
  if (job != job_name) return "the output was written by job '" + job + "'";
  const Json inc = m.value("incremental", Json());
  if (!inc.is_object() || !inc.contains("state") || !inc["state"].is_array()) {
    return "the output was not written by an --incremental run (it holds no merge state)";
  }
  out->fingerprint = HexValue(m.value("fingerprint", Json()));
  out->config_json = m.value("config", Json::object()).dump();
  for (const Json& in : m.value("inputs", Json::array())) {
    if (!in.is_object()) return "the output's manifest lists an input it does not describe";
    PreviousInput p;
    p.size = in.value("size", uint64_t{0});
    p.mtime_ns = in.value("mtime_ns", int64_t{0});
    p.xxh3 = HexValue(in.value("xxh3", Json()));
    p.ctime_ns = in.value("ctime_ns", int64_t{0});
    if (p.xxh3 == 0) return "the output's manifest has no checksum of input '" + PathOf(in, "path") + "'";
    out->inputs[PathOf(in, "path")] = p;
  }
  for (const Json& s : inc["state"]) {
    if (!s.is_object() || !s.contains("file") || !s["file"].is_string()) {
      return "the output's manifest lists merge state it does not describe";
    }
    out->state.push_back({s["file"].get<std::string>(), s.value("bytes", uint64_t{0}), HexValue(s.value("xxh3", Json()))});
  }
  return "";
}

}  // namespace

std::string MergeStateFileName(uint32_t task) {
  char name[32];
  std::snprintf(name, sizeof name, "task-%05u", task);
  return std::string(kMergeStateDir) + "/" + name;
}

std::vector<std::string> ConfigDifferences(const std::string& manifest_config_json, const JobConfig& config) {
  std::vector<std::string> out;
  const Json now = Json::parse(RenderManifestConfig(config));
  const Json parsed = Json::parse(manifest_config_json, nullptr, /*allow_exceptions=*/false);
  const Json then = parsed.is_object() ? parsed : Json::object();
  for (const auto& [key, value] : now.items()) {
    if (!then.contains(key) || then[key] != value) {
      out.push_back("'" + key + "' was " + Short(then.contains(key) ? then[key] : Json()) + ", now " + Short(value));
    }
  }
  for (const auto& [key, value] : then.items()) {
    if (!now.contains(key)) out.push_back("'" + key + "' was " + Short(value) + ", now not set");
  }
  return out;
}

Result<IncrementalDecision> DecideIncremental(
    FileSystem& fs, const std::string& output_dir, std::string_view job_name, const JobConfig& config,
    std::vector<InputFile> files, const std::function<uint64_t(const std::vector<InputFile>&)>& fingerprint_of) {
  IncrementalDecision d;
  d.read.assign(files.size(), true);
  // A full run: every input read, and hashed for the next run's manifest
  // (but for those hashed already, or vouched for by their stamps, below).
  auto full = [&](std::string why) -> Result<IncrementalDecision> {
    for (InputFile& f : files) {
      if (f.xxh3 == 0) SLUICE_RETURN_IF_ERROR(Checksum(fs, &f));
    }
    d.incremental = false;
    d.why = "a full run: " + why;
    d.files = std::move(files);
    d.read.assign(d.files.size(), true);
    d.files_reused = 0;
    return std::move(d);
  };
  if (config.force) return full("--force");
  Previous prev;
  if (std::string why = ReadPrevious(fs, output_dir, job_name, &prev); !why.empty()) return full(why);

  // Each file the previous run read, as it is now.
  std::vector<InputFile> old_files;
  uint64_t rehashed = 0;  // old files read again to compare their bytes
  std::map<std::string, size_t> listed;
  for (size_t i = 0; i < files.size(); ++i) listed[files[i].path] = i;
  for (const auto& [path, was] : prev.inputs) {
    auto it = listed.find(path);
    if (it == listed.end()) return full("input '" + path + "', read by the previous run, is gone");
    InputFile& f = files[it->second];
    if (f.size != was.size) {
      return full("input '" + path + "' changed size (" + std::to_string(was.size) + " -> " +
                  std::to_string(f.size) + " bytes)");
    }
    SLUICE_ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
    // A file changed less than 2 s before the previous run wrote its
    // manifest may have been written again within the same tick of a
    // coarse clock (1 s on ext3 and some NFS servers, 2 s on FAT) after it
    // was hashed, leaving both stamps as they were: its bytes decide (git's
    // "racily clean" rule).
    const bool racy = prev.written_ns - was.ctime_ns < 2'000'000'000;
    if (!racy && f.mtime_ns == was.mtime_ns && info.ctime_ns == was.ctime_ns) {
      f.xxh3 = was.xxh3;
      f.ctime_ns = was.ctime_ns;
    } else {
      // Touched, copied again, or written back as it was: the bytes decide.
      SLUICE_RETURN_IF_ERROR(Checksum(fs, &f));
      ++rehashed;
      if (f.xxh3 != was.xxh3) {
        return full("input '" + path + "' changed: same size, other bytes (its xxh3 differs)");
      }
    }
    // The fingerprint check below compares with the previous run's, which
    // saw this file's old mtime; the bytes are the same.
    InputFile as_read = f;
    as_read.mtime_ns = was.mtime_ns;
    old_files.push_back(std::move(as_read));
    d.read[it->second] = false;
  }
  // In listing order, as the previous run's fingerprint took them.
  std::sort(old_files.begin(), old_files.end(),
            [&](const InputFile& a, const InputFile& b) { return listed[a.path] < listed[b.path]; });
  if (fingerprint_of(old_files) != prev.fingerprint) {
    std::vector<std::string> diffs = ConfigDifferences(prev.config_json, config);
    if (diffs.empty()) return full("the job's build changed since the previous run");
    std::string why = "its configuration changed: " + diffs[0];
    if (diffs.size() > 1) why += " (and " + std::to_string(diffs.size() - 1) + " more)";
    return full(why);
  }
  // The merge state, as listed: a missing file, a symlink in its place or
  // other bytes cannot be folded in. (Its blocks are checksummed again as
  // they are read.)
  std::vector<InputFile> state;
  for (const auto& [file, bytes, xxh3] : prev.state) {
    if (file.rfind(std::string(kMergeStateDir) + "/", 0) != 0 || file.find("..") != std::string::npos) {
      return full("the manifest names merge state outside " + std::string(kMergeStateDir) + "/: '" + file + "'");
    }
    const std::string path = output_dir + "/" + file;
    auto info = fs.LinkStat(path);
    if (!info.ok() || info->symlink || info->type != FileType::kRegular || info->size != bytes) {
      return full("merge state file '" + path + "' is missing or changed");
    }
    SLUICE_ASSIGN_OR_RETURN(uint64_t now, Xxh3OfFile(fs, path));
    if (now != xxh3) return full("merge state file '" + path + "' is damaged (its xxh3 differs)");
    InputFile f(path, info->size, info->mtime_ns, kMergeStateInput);
    state.push_back(std::move(f));
  }
  uint64_t new_files = 0, new_bytes = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!d.read[i]) continue;
    SLUICE_RETURN_IF_ERROR(Checksum(fs, &files[i]));
    ++new_files;
    new_bytes += files[i].size;
  }
  d.incremental = true;
  d.files_new = new_files;
  d.previous_fingerprint = prev.fingerprint;
  d.files_reused = old_files.size();
  d.why = "incremental: " + std::to_string(new_files) + " new input file(s) (" + std::to_string(new_bytes) +
          " bytes) mapped, " + std::to_string(old_files.size()) + " unchanged file(s) of the previous run " +
          "not mapped again" +
          (rehashed > 0 ? " (" + std::to_string(rehashed) + " of them read to check their bytes)" : std::string()) +
          "; its merge state (" + std::to_string(state.size()) + " file(s)) folded in";
  d.files = std::move(files);
  for (InputFile& f : state) {
    d.files.push_back(std::move(f));
    d.read.push_back(true);
  }
  return d;
}

}  // namespace sluice
