// The one C entry point a job plugin exports.
//
// `sluice run --plugin ./libmyjob.so` dlopen()s the file, looks up
// sluice_plugin_descriptor, and refuses the plugin unless abi_version equals
// the host's kSluiceAbiVersion and cxx_abi equals the host compiler's C++ ABI
// (the runner crosses the boundary as a C++ object). SLUICE_JOB writes this
// entry point for you when the job is built as a plugin.
#pragma once

#include <cstdint>

namespace sluice {
class JobRunner;
// Bump on any change to JobRunner, JobSettings, TaskCounters, MapTask, or the
// io/ types they reference.
// 3: spill store, input kinds, range cuts; 4: resume (AddSavedCounters)
inline constexpr uint32_t kSluiceAbiVersion = 4;
}  // namespace sluice

extern "C" {

struct SluicePluginDescriptor {
  uint32_t abi_version;  // kSluiceAbiVersion the plugin was built with
  uint32_t cxx_abi;      // __GXX_ABI_VERSION of the plugin's compiler
  const char* name;
  const char* description;
  // Returns a new runner owned by the caller (delete it through JobRunner).
  sluice::JobRunner* (*create)();
};

// The symbol every plugin exports.
typedef const SluicePluginDescriptor* (*SluicePluginEntry)();
#define SLUICE_PLUGIN_ENTRY_SYMBOL "sluice_plugin_descriptor"
}
