// SLUICE_JOB(Class, "name", "description"): makes a job class runnable.
//
// Built normally, it registers the job with the built-in registry (the
// `sluice` command and job binaries find it by name). Built with
// SLUICE_BUILDING_PLUGIN defined (sluice_add_job does this for the .so), it
// exports the plugin entry point instead.
#pragma once

#include <string_view>

#include "runtime/plugin_api.h"
#include "runtime/typed_runner.h"

namespace sluice {

struct JobEntry {
  std::string_view name;
  std::string_view description;
  JobRunner* (*create)();
};

// Returns true; called from static initializers of built-in jobs.
bool RegisterBuiltinJob(const JobEntry& entry);

template <class J>
JobRunner* CreateRunner() {
  return new TypedRunner<J>();
}

}  // namespace sluice

#ifdef SLUICE_BUILDING_PLUGIN
#define SLUICE_JOB(Class, name, description)                                           \
  extern "C" __attribute__((visibility("default"))) const SluicePluginDescriptor*      \
  sluice_plugin_descriptor() {                                                         \
    static const SluicePluginDescriptor kDescriptor = {                                \
        ::sluice::kSluiceAbiVersion, __GXX_ABI_VERSION, name, description,             \
        &::sluice::CreateRunner<Class>};                                               \
    return &kDescriptor;                                                               \
  }
#else
#define SLUICE_JOB(Class, name, description)                                           \
  [[maybe_unused]] static const bool SLUICE_CONCAT(sluice_registered_, __LINE__) =     \
      ::sluice::RegisterBuiltinJob({name, description, &::sluice::CreateRunner<Class>});
#endif
