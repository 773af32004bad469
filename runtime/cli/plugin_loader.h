// Loads a job plugin (.so) given on the command line.
#pragma once

#include <cstdint>
#include <string>

#include "io/status.h"
#include <sluice/detail/job_entry.h>

namespace sluice {

struct LoadedPlugin {
  JobEntry entry;
  std::string path;
  // xxh3 of the bytes that were loaded (read from the same open file that
  // dlopen loaded): the manifest's plugin_xxh3 and the cross-rank check.
  uint64_t xxh3 = 0;
  void* handle = nullptr;  // dlopen handle; the plugin stays loaded for the process
};

// Code loaded into this process runs with its privileges, so the file and
// every folder above it must be beyond the reach of anyone but this user
// and root. LoadPlugin resolves the path (realpath), then walks it from "/"
// one component at a time with openat(O_NOFOLLOW), checking each opened
// folder with fstat:
// - owned by root or by this user (geteuid());
// - not writable by group or others, except a sticky folder (like /tmp)
//   whose next component is owned by this user;
// then opens the file itself the same way and checks the open file: a
// regular file, owned by this user or root, not writable by group or
// others. It hashes and dlopen()s that open file (/proc/self/fd/N), so what
// was checked is what runs, whatever happens to the names meanwhile.
//
// Refuses, with a kUsage error naming the exact path, its owner and mode,
// and what to do:
// - a path without '/' (no library search path is ever consulted: pass
//   ./libjob.so), or a missing file;
// - any folder or file failing the rules above;
// - a file that is not a loadable shared object (dlerror's text);
// - a library that does not export sluice_plugin_descriptor;
// - a descriptor whose ABI version, layout hash or C++ ABI differs from
//   this host's (plugin_api.h): rebuild the plugin.
// The plugin's static initializers run during dlopen, before the
// descriptor checks, but only once the file and its folders have passed.
Result<LoadedPlugin> LoadPlugin(const std::string& path);

}  // namespace sluice
