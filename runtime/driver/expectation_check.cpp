#include "runtime/driver/expectation_check.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "io/file_system.h"
#include "runtime/driver/output_measures.h"

namespace sluice {
namespace {

using Json = nlohmann::json;

std::optional<Json> PreviousManifest(const std::string& output_dir) {
  auto text = ReadFileToString(*FileSystem::Default(), output_dir + "/_manifest.json");
  if (!text.ok()) return std::nullopt;
  Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::vector<std::string> PartFiles(const std::string& staging) {
  std::vector<std::string> parts;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(staging, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("part-", 0) == 0) parts.push_back(entry.path().string());
  }
  std::sort(parts.begin(), parts.end());
  return parts;
}

std::optional<double> CounterIn(const Json& manifest, const std::string& name) {
  for (const char* group : {"counters", "user_counters"}) {
    const Json& g = manifest.value(group, Json::object());
    if (g.contains(name) && g[name].is_number()) return g[name].get<double>();
  }
  return std::nullopt;
}

}  // namespace

std::vector<ExpectationResult> CheckExpectations(const ExpectationInputs& in) {
  std::vector<ExpectationResult> results;
  if (in.config->expectations.empty()) return results;
  std::vector<std::string> names;
  for (const Expectation& e : in.config->expectations) {
    for (std::string& n : NamesIn(e.text)) names.push_back(std::move(n));
  }
  const bool reads_previous =
      std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.rfind("previous.", 0) == 0; });
  const bool reads_output =
      std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.rfind("output.", 0) == 0; });
  std::optional<Json> previous = reads_previous ? PreviousManifest(in.output_dir) : std::nullopt;
  MeasuredOutput measured;
  std::string measure_error;
  if (reads_output) {
    const JobSettings& s = in.config->settings;
    if (s.output_format != OutputFormat::kText || s.output_compression != OutputCompression::kNone) {
      measure_error = "output.* measures read text part files: not with --output-format or --output-compression";
    } else {
      auto m = MeasureOutput(PartFiles(in.staging_dir), names, !in.map_only);
      if (m.ok()) {
        measured = std::move(*m);
      } else {
        measure_error = m.status().message();
      }
    }
  }
  const auto built_in = in.totals->ToArray();
  ValueOf value = [&](const std::string& name, std::string* why) -> std::optional<double> {
    if (name.rfind("previous.", 0) == 0) {
      if (!previous) {
        *why = "no previous run";
        return std::nullopt;
      }
      const std::string counter = name.substr(9);
      if (auto v = CounterIn(*previous, counter)) return v;
      *why = "the previous run's manifest has no counter '" + counter + "'";
      return std::nullopt;
    }
    if (name.rfind("output.", 0) == 0) {
      if (!measure_error.empty()) {
        *why = measure_error;
        return std::nullopt;
      }
      if (auto it = measured.values.find(name); it != measured.values.end()) return it->second;
      auto it = measured.why_not.find(name);
      *why = it != measured.why_not.end() ? it->second : "not measured";
      return std::nullopt;
    }
    for (size_t i = 0; i < TaskCounters::kCount; ++i) {
      if (TaskCounters::kNames[i] == name) return static_cast<double>(built_in[i]);
    }
    if (auto it = in.user->find(name); it != in.user->end()) return static_cast<double>(it->second);
    *why = "no such counter (built-in ones are input_records, output_records, bad_records, ...; the job's own "
           "are named GROUP.NAME as in the report; previous.NAME and output.* are the others)";
    return std::nullopt;
  };
  for (const Expectation& e : in.config->expectations) results.push_back(EvaluateExpectation(e, value));
  return results;
}

}  // namespace sluice
