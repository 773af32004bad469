// The one C entry point a job plugin exports.
//
// `sluice run --plugin ./libmyjob.so` opens the file (plugin_loader.h),
// dlopen()s it, looks up sluice_plugin_descriptor, and refuses the plugin
// unless abi_version equals the host's kSluiceAbiVersion, layout_hash equals
// the host's kSluiceAbiLayoutHash (job_registration.h) and cxx_abi equals
// the host compiler's C++ ABI (the runner crosses the boundary as a C++
// object). SLUICE_JOB writes this entry point for you when the job is built
// as a plugin.
#pragma once

#include <cstdint>

// kSluiceAbiHeadersHash: generated at configure time (runtime/CMakeLists.txt)
// from the contents of every header that defines the plugin boundary.
#include <sluice/detail/plugin_abi_hash.h>

namespace sluice {
class JobRunner;
// The descriptor's own layout. Bumped only when SluicePluginDescriptor
// itself changes: everything behind it (JobRunner, JobSettings,
// TaskCounters, MapTask, the io/ and shuffle/ types they use) is covered by
// the layout hash, which the build derives, so no one has to remember.
// 3: spill store, input kinds, range cuts; 4: resume (AddSavedCounters);
// 5: layout_hash and connect (a plugin built for 4 or older is refused).
inline constexpr uint32_t kSluiceAbiVersion = 5;
}  // namespace sluice

extern "C" {

// What the host hands a plugin right after loading it, so that process-wide
// state the plugin's own copy of Sluice's static libraries would otherwise
// duplicate is the host's: fault points (io/fault_points.h).
struct SluiceHostLink {
  // The host keeps *flag equal to its own armed flag, now and whenever it
  // arms later.
  void (*share_fault_flag)(bool* flag);
  // The host's slow path of SLUICE_FAULT_POINT: the host's armed faults,
  // and the host's FileSystem::Default() for ioerror / corrupt.
  void (*hit_fault_point)(const char* point);
};

struct SluicePluginDescriptor {
  uint32_t abi_version;  // kSluiceAbiVersion the plugin was built with; always the first field
  uint32_t cxx_abi;      // __GXX_ABI_VERSION of the plugin's compiler
  uint64_t layout_hash;  // kSluiceAbiLayoutHash the plugin was built with
  const char* name;
  const char* description;
  // Returns a new runner owned by the caller (delete it through JobRunner).
  sluice::JobRunner* (*create)();
  // Called once by the host after the checks pass, before create().
  void (*connect)(const SluiceHostLink* host);
};

// The symbol every plugin exports.
typedef const SluicePluginDescriptor* (*SluicePluginEntry)();
#define SLUICE_PLUGIN_ENTRY_SYMBOL "sluice_plugin_descriptor"
}
