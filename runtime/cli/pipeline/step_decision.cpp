#include "runtime/cli/pipeline/step_decision.h"

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/file_system.h"
#include "runtime/driver/incremental_plan.h"
#include "runtime/driver/job_fingerprint.h"
#include "runtime/driver/job_report.h"
#include "runtime/driver/plan_maker.h"
#include <sluice/detail/job_runner.h>

namespace sluice {
namespace {

using Json = nlohmann::json;

// What differs between the committed run's manifest and a run now: config
// entries, then input files; empty when only the build can differ.
std::vector<std::string> Differences(const Json& manifest, const JobConfig& config,
                                     const std::vector<InputFile>& files) {
  std::vector<std::string> out = ConfigDifferences(manifest.value("config", Json::object()).dump(), config);
  std::map<std::string, std::pair<uint64_t, int64_t>> before;
  for (const Json& in : manifest.value("inputs", Json::array())) {
    if (in.contains("path") && in["path"].is_string()) {
      before[in["path"].get<std::string>()] = {in.value("size", uint64_t{0}), in.value("mtime_ns", int64_t{0})};
    }
  }
  for (const InputFile& f : files) {
    auto it = before.find(f.path);
    if (it == before.end()) {
      out.push_back("new input '" + f.path + "'");
      continue;
    }
    if (it->second.first != f.size) {
      out.push_back("input '" + f.path + "' changed size (" + std::to_string(it->second.first) + " -> " +
                    std::to_string(f.size) + " bytes)");
    } else if (it->second.second != f.mtime_ns) {
      out.push_back("input '" + f.path + "' was modified");
    }
    before.erase(it);
  }
  for (const auto& [path, unused] : before) out.push_back("input '" + path + "' is gone");
  return out;
}

}  // namespace

StepDecision DecideStep(const JobEntry& job, const JobConfig& config) {
  FileSystem& fs = *FileSystem::Default();
  std::unique_ptr<JobRunner> runner(job.create());
  const JobTraits traits = runner->TraitsFor(config.settings.params);
  auto files = ListPlanInputs(fs, config, traits);
  if (!files.ok()) return {true, "its inputs cannot be read now: " + files.status().message()};
  const uint64_t fingerprint = JobFingerprint(job.name, BuildXxh3(config), config, *files);
  if (HoldsResultOf(fs, config.output, fingerprint)) {
    return {false, "its output holds this result (fingerprint " + FingerprintHex(fingerprint) + ")"};
  }
  if (!fs.LinkStat(config.output).ok()) return {true, "no output yet"};
  auto text = ReadFileToString(fs, config.output + "/_manifest.json");
  if (!text.ok()) return {true, "its output holds no committed result"};
  const Json manifest = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object()) return {true, "its output's manifest is unreadable"};
  if (manifest.value("job", Json::object()).value("name", "") != std::string(job.name)) {
    return {true, "its output was written by job '" + manifest["job"].value("name", "?") + "'"};
  }
  std::vector<std::string> diffs = Differences(manifest, config, *files);
  if (diffs.empty()) return {true, "the job's build changed (sluice or the plugin was rebuilt)"};
  std::string why;
  for (size_t i = 0; i < diffs.size() && i < 3; ++i) why += (i ? "; " : "") + diffs[i];
  if (diffs.size() > 3) why += "; and " + std::to_string(diffs.size() - 3) + " more";
  return {true, why};
}

}  // namespace sluice
