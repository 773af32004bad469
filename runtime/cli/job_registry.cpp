#include "runtime/cli/job_registry.h"

#include <algorithm>

namespace sluice {
namespace {

// A function-local static: registration runs from other translation units'
// static initializers, whose order relative to ours is unspecified.
std::vector<JobEntry>& Registry() {
  static std::vector<JobEntry> jobs;
  return jobs;
}

}  // namespace

bool RegisterBuiltinJob(const JobEntry& entry) {
  auto& jobs = Registry();
  jobs.push_back(entry);
  std::sort(jobs.begin(), jobs.end(),
            [](const JobEntry& a, const JobEntry& b) { return a.name < b.name; });
  return true;
}

const std::vector<JobEntry>& BuiltinJobs() { return Registry(); }

const JobEntry* FindBuiltinJob(std::string_view name) {
  for (const JobEntry& e : Registry()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace sluice
