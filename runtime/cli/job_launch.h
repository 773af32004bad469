// What every way of starting a job shares once the cluster is connected
// (`sluice run`, job binaries, each step of `sluice pipeline run`): the
// memory budget shared out, the plugin loaded and agreed by every rank, the
// job's parameters and the config checked. Each returns the same Status on
// every rank, so that all ranks take the same branch.
#pragma once

#include <string>

#include "cluster/communicator.h"
#include "io/status.h"
#include "runtime/cli/plugin_loader.h"
#include "runtime/driver/job_config.h"
#include <sluice/detail/job_entry.h>

namespace sluice {

// Shares the memory budget among this node's ranks (ApplyMemoryBudget) and
// caps the bytes in flight by it.
Status ApplyClusterBudget(Communicator& comm, JobConfig* config);

// config->plugin_path, loaded by every rank: the first failure, or two
// ranks holding different bytes under the same path, refuses it
// everywhere. Sets config->plugin_xxh3 (for the manifest) and *plugin.
Status LoadPluginOnEveryRank(Communicator& comm, JobConfig* config, LoadedPlugin* plugin);

// The job's parameters (a throwaway job made with them), then the config
// as a whole; every rank checks the same, so all agree.
Status CheckJobAndConfig(const JobEntry& job, const JobConfig& config);

}  // namespace sluice
