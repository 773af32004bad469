#include "runtime/cli/job_launch.h"

#include <memory>

#include "cluster/rank_agreement.h"
#include <sluice/detail/job_runner.h>

namespace sluice {

Status ApplyClusterBudget(Communicator& comm, JobConfig* config) {
  SLUICE_RETURN_IF_ERROR(ApplyMemoryBudget(config, comm.ranks_on_node()));
  TransportOptions transport;
  transport.max_inflight_bytes = config->max_inflight_bytes;  // capped by the budget
  comm.SetTransportOptions(transport);
  return Status::OK();
}

// The hash is of the bytes each rank loaded (LoadPlugin hashes the open
// file it dlopen()s), never of whatever the path names by now.
Status LoadPluginOnEveryRank(Communicator& comm, JobConfig* config, LoadedPlugin* plugin) {
  // Loading depends on each node's filesystem, so ranks can disagree; all
  // ranks must take the same branch or the others would wait forever.
  auto loaded = LoadPlugin(config->plugin_path);
  Status local = loaded.status();
  if (!local.ok()) local = Status(local.code(), "rank " + std::to_string(comm.rank()) + ": " + local.message());
  SLUICE_RETURN_IF_ERROR(AgreeAcrossRanks(comm, local));
  const uint64_t hash = loaded->xxh3;
  std::string root_hash = std::to_string(hash);
  comm.Broadcast(&root_hash, 0);
  Status same;
  if (root_hash != std::to_string(hash)) {
    same = Status::Usage("plugin '" + config->plugin_path + "' differs between rank 0 and rank " +
                         std::to_string(comm.rank()) + " (every node must load the same build)");
  }
  SLUICE_RETURN_IF_ERROR(AgreeAcrossRanks(comm, same));
  config->plugin_xxh3 = hash;
  *plugin = std::move(loaded).value();
  return Status::OK();
}

Status CheckJobAndConfig(const JobEntry& job, const JobConfig& config) {
  std::unique_ptr<JobRunner> runner(job.create());
  SLUICE_RETURN_IF_ERROR(runner->CheckParams(config.settings.params));
  if (config.incremental) {
    const JobTraits traits = runner->TraitsFor(config.settings.params);
    if (!traits.mergeable || traits.map_only) {
      return Status::Usage("flag --incremental: job '" + std::string(job.name) +
                           "' cannot fold a new run into its previous result: it is not declared "
                           "kMergeable (a Combine that is associative and commutative, and a Reduce "
                           "that reads only the fold of each key's values); run it without --incremental");
    }
  }
  return ValidateJobConfig(config);
}

}  // namespace sluice
