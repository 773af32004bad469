#include "runtime/cli/pipeline/pipeline_file.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <toml++/toml.h>

#include "runtime/cli/job_flags.h"

namespace sluice {
namespace {

// Flags a step may not set: the pipeline sets them from the step's own keys
// (input, output, plugin, params) or decides them itself (overwrite: a
// step's output is the pipeline's to replace; force: --from).
constexpr std::string_view kPipelineOwnedFlags[] = {"input", "output", "plugin", "param", "overwrite",
                                                     "force", "help"};

class FileReader {
 public:
  // The folder is made absolute: a step's paths, and so its fingerprint,
  // must not depend on where the pipeline was started from.
  explicit FileReader(std::string path) : path_(std::move(path)) {
    std::error_code ec;
    const std::filesystem::path file = std::filesystem::absolute(path_, ec);
    folder_ = ec ? "." : file.lexically_normal().parent_path().string();
  }

  Result<Pipeline> Read() {
    toml::table doc;
    try {
      doc = toml::parse_file(path_);
    } catch (const toml::parse_error& e) {
      return Status::Usage(At(static_cast<int>(e.source().begin.line)) + std::string(e.description()));
    }
    for (auto&& [key, node] : doc) {
      if (key.str() != "steps" && key.str() != "pipeline") {
        return Status::Usage(At(node) + "unknown table '" + std::string(key.str()) +
                             "' (a pipeline file holds [pipeline] and [steps.NAME] tables)");
      }
    }
    if (const toml::node* meta = doc.get("pipeline")) {
      if (!meta->is_table()) return Status::Usage(At(*meta) + "'pipeline' must be a table");
      for (auto&& [key, node] : *meta->as_table()) {
        if (key.str() != "name") return Status::Usage(At(node) + "unknown key 'pipeline." + std::string(key.str()) + "'");
        if (!node.is_string() || node.value<std::string>()->empty()) {
          return Status::Usage(At(node) + "'pipeline.name' must be a non-empty string");
        }
        name_ = *node.value<std::string>();
      }
    }
    if (name_.empty()) name_ = std::filesystem::path(path_).stem().string();
    const toml::table* steps = doc["steps"].as_table();
    if (steps == nullptr || steps->empty()) {
      return Status::Usage(At(1) + "no steps: declare each as a [steps.NAME] table");
    }
    std::vector<Raw> raw;
    for (auto&& [key, node] : *steps) {
      if (!node.is_table()) return Status::Usage(At(node) + "step '" + std::string(key.str()) + "' must be a table");
      Raw r;
      r.step.name = std::string(key.str());
      r.step.line = static_cast<int>(node.source().begin.line);
      r.table = node.as_table();
      raw.push_back(std::move(r));
    }
    // toml++ keeps keys sorted; the file's order is the tie-break for steps
    // that do not depend on each other.
    std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) { return a.step.line < b.step.line; });
    for (Raw& r : raw) SLUICE_RETURN_IF_ERROR(ReadStep(r));
    return Order(std::move(raw));
  }

 private:
  struct Raw {
    PipelineStep step;
    const toml::table* table = nullptr;
    std::vector<std::string> reads;  // step names from "step:NAME" inputs, per input (empty: a path)
  };

  std::string At(int line) const { return path_ + ":" + std::to_string(line) + ": "; }
  std::string At(const toml::node& node) const { return At(static_cast<int>(node.source().begin.line)); }

  std::string Resolve(const std::string& p) const {
    if (p.empty() || p[0] == '/') return p;
    std::string resolved = (std::filesystem::path(folder_) / p).lexically_normal().string();
    // "logs/" stays a folder spec, as given.
    if (p.back() == '/' && !resolved.empty() && resolved.back() != '/') resolved += '/';
    return resolved;
  }

  // A scalar as command-line text: strings as they are, integers and
  // booleans as written, floats in their shortest exact form.
  static bool Text(const toml::node& node, std::string* out) {
    if (auto s = node.value<std::string>(); s && node.is_string()) {
      *out = *s;
    } else if (node.is_integer()) {
      *out = std::to_string(*node.value<int64_t>());
    } else if (node.is_boolean()) {
      *out = *node.value<bool>() ? "true" : "false";
    } else if (node.is_floating_point()) {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *node.value<double>());
      if (ec != std::errc()) return false;
      *out = std::string(buf, end);
    } else {
      return false;
    }
    return true;
  }

  Status ReadStep(Raw& r) {
    PipelineStep& s = r.step;
    const std::string what = "step '" + s.name + "': ";
    for (auto&& [key, node] : *r.table) {
      const std::string k(key.str());
      if (k == "job" || k == "plugin" || k == "output") {
        if (!node.is_string() || node.value<std::string>()->empty()) {
          return Status::Usage(At(node) + what + "'" + k + "' must be a non-empty string");
        }
        const std::string v = *node.value<std::string>();
        (k == "job" ? s.job : k == "plugin" ? s.plugin : s.output) = k == "job" ? v : Resolve(v);
      } else if (k == "inputs") {
        const toml::array* inputs = node.as_array();
        if (inputs == nullptr || inputs->empty()) {
          return Status::Usage(At(node) + what + "'inputs' must be a non-empty array of strings");
        }
        for (const toml::node& in : *inputs) {
          if (!in.is_string()) return Status::Usage(At(in) + what + "each input must be a string");
          const std::string v = *in.value<std::string>();
          if (v.rfind("step:", 0) == 0) {
            r.reads.push_back(v.substr(5));
            s.inputs.emplace_back();  // the step's output, once steps are known
          } else {
            r.reads.emplace_back();
            s.inputs.push_back(Resolve(v));
          }
        }
      } else if (k == "params") {
        if (!node.is_table()) return Status::Usage(At(node) + what + "'params' must be a table: params = { name = value }");
        for (auto&& [name, value] : *node.as_table()) {
          std::string text;
          if (!Text(value, &text)) {
            return Status::Usage(At(value) + what + "param '" + std::string(name.str()) +
                                 "' must be a string, number or boolean");
          }
          s.params.emplace_back(std::string(name.str()), std::move(text));
        }
      } else if (k == "expect" || k == "expect_warn") {
        const toml::array* list = node.as_array();
        if (list == nullptr) return Status::Usage(At(node) + what + "'" + k + "' must be an array of strings");
        for (const toml::node& e : *list) {
          if (!e.is_string()) return Status::Usage(At(e) + what + "each of '" + k + "' must be a string");
          s.flags.push_back(k == "expect" ? "--expect" : "--expect-warn");
          s.flags.push_back(*e.value<std::string>());
        }
      } else if (k == "flags") {
        if (!node.is_table()) return Status::Usage(At(node) + what + "'flags' must be a table: flags = { split-size = \"64M\" }");
        for (auto&& [name, value] : *node.as_table()) SLUICE_RETURN_IF_ERROR(AddFlag(s, std::string(name.str()), value));
      } else {
        return Status::Usage(At(node) + what + "unknown key '" + k +
                             "' (a step has job or plugin, inputs, output, params, flags, expect, expect_warn)");
      }
    }
    const std::string at = At(s.line) + what;
    if (s.job.empty() == s.plugin.empty()) return Status::Usage(at + "give exactly one of 'job' and 'plugin'");
    if (s.inputs.empty()) return Status::Usage(at + "'inputs' is required");
    if (s.output.empty()) return Status::Usage(at + "'output' is required");
    return Status::OK();
  }

  Status AddFlag(PipelineStep& s, const std::string& name, const toml::node& value) {
    const std::string at = At(value) + "step '" + s.name + "': flag '" + name + "': ";
    for (std::string_view owned : kPipelineOwnedFlags) {
      if (name == owned) return Status::Usage(at + "the pipeline sets it (use the step's own keys, or --from)");
    }
    const JobFlag* flag = nullptr;
    for (const JobFlag& f : JobFlags()) {
      if (f.name == "--" + name) flag = &f;
    }
    if (flag == nullptr) return Status::Usage(at + "no such flag (see `sluice run --help`; write it without '--')");
    if (flag->value_name.empty()) {
      if (!value.is_boolean()) return Status::Usage(at + "a switch: true or false");
      if (*value.value<bool>()) s.flags.push_back("--" + name);
      return Status::OK();
    }
    std::string text;
    if (!Text(value, &text) || value.is_boolean()) return Status::Usage(at + "must be a string or number");
    s.flags.push_back("--" + name);
    s.flags.push_back(std::move(text));
    return Status::OK();
  }

  // Steps after those they read (a stable topological order: otherwise the
  // file's order); "step:NAME" becomes that step's output.
  Result<Pipeline> Order(std::vector<Raw> raw) {
    std::map<std::string, size_t> index;
    std::map<std::string, size_t> by_output;
    for (size_t i = 0; i < raw.size(); ++i) {
      index[raw[i].step.name] = i;
      auto [it, fresh] = by_output.emplace(raw[i].step.output, i);
      if (!fresh) {
        return Status::Usage(At(raw[i].step.line) + "steps '" + raw[it->second].step.name + "' and '" +
                             raw[i].step.name + "' write the same output '" + raw[i].step.output + "'");
      }
    }
    std::vector<std::vector<size_t>> reads(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      for (size_t j = 0; j < raw[i].reads.size(); ++j) {
        const std::string& name = raw[i].reads[j];
        if (name.empty()) continue;
        auto it = index.find(name);
        if (it == index.end()) {
          return Status::Usage(At(raw[i].step.line) + "step '" + raw[i].step.name + "' reads 'step:" + name +
                               "', but there is no step '" + name + "'");
        }
        if (it->second == i) return Status::Usage(At(raw[i].step.line) + "step '" + name + "' reads its own output");
        raw[i].step.inputs[j] = raw[it->second].step.output;
        reads[i].push_back(it->second);
      }
    }
    // Kahn's algorithm, always taking the first ready step in file order.
    std::vector<size_t> order;
    std::vector<bool> done(raw.size(), false);
    while (order.size() < raw.size()) {
      size_t next = raw.size();
      for (size_t i = 0; i < raw.size() && next == raw.size(); ++i) {
        if (!done[i] && std::all_of(reads[i].begin(), reads[i].end(), [&](size_t d) { return done[d]; })) next = i;
      }
      if (next == raw.size()) {
        std::string cycle;
        for (size_t i = 0; i < raw.size(); ++i) {
          if (!done[i]) cycle += (cycle.empty() ? "'" : ", '") + raw[i].step.name + "'";
        }
        return Status::Usage(path_ + ": steps " + cycle + " read each other's outputs in a cycle");
      }
      done[next] = true;
      order.push_back(next);
    }
    std::vector<size_t> position(raw.size());
    for (size_t p = 0; p < order.size(); ++p) position[order[p]] = p;
    Pipeline out;
    out.path = path_;
    out.name = name_;
    for (size_t i : order) {
      PipelineStep step = std::move(raw[i].step);
      for (size_t d : reads[i]) step.after.push_back(position[d]);
      out.steps.push_back(std::move(step));
    }
    return out;
  }

  std::string path_;
  std::string folder_;
  std::string name_;
};

}  // namespace

Result<Pipeline> ReadPipelineFile(const std::string& path) { return FileReader(path).Read(); }

Result<std::vector<bool>> StepsFrom(const Pipeline& pipeline, const std::string& step) {
  std::vector<bool> forced(pipeline.steps.size(), false);
  bool found = false;
  for (size_t i = 0; i < pipeline.steps.size(); ++i) {
    const PipelineStep& s = pipeline.steps[i];
    if (s.name == step) found = forced[i] = true;
    for (size_t d : s.after) forced[i] = forced[i] || forced[d];  // steps come after what they read
  }
  if (!found) {
    std::string names;
    for (const PipelineStep& s : pipeline.steps) names += (names.empty() ? "" : ", ") + s.name;
    return Status::Usage("--from " + step + ": no such step in " + pipeline.path + " (steps: " + names + ")");
  }
  return forced;
}

}  // namespace sluice
