// Loads a job plugin (.so) given on the command line.
#pragma once

#include <string>

#include "io/status.h"
#include "runtime/job_registration.h"

namespace sluice {

struct LoadedPlugin {
  JobEntry entry;
  std::string path;
  void* handle = nullptr;  // dlopen handle; the plugin stays loaded for the process
};

// Refuses, with a kUsage error naming the path and the reason:
// - a path without '/' (no library search path is ever consulted: pass
//   ./libjob.so), a missing file, or one writable by group or others (as is
//   its folder): someone else could swap the code;
// - a file that is not a loadable shared object (dlerror's text);
// - a library that does not export sluice_plugin_descriptor;
// - a descriptor whose ABI version or C++ ABI differs from this host's.
// The plugin's static initializers run during dlopen, before the checks.
Result<LoadedPlugin> LoadPlugin(const std::string& path);

}  // namespace sluice
