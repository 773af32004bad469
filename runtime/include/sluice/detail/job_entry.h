// A job as the host knows it: its name, its description and how to make its
// runner. Kept apart from <sluice/registration.h>, which pulls in the whole
// typed engine, so that the driver and the command line (which only hold
// entries) do not compile that engine in every file.
#pragma once

#include <string_view>

namespace sluice {

class JobRunner;

struct JobEntry {
  std::string_view name;
  std::string_view description;
  JobRunner* (*create)();
};

// Returns true; called from static initializers of built-in jobs.
bool RegisterBuiltinJob(const JobEntry& entry);

}  // namespace sluice
