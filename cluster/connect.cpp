#include <cstdio>
#include <cstdlib>

#include "cluster/communicator.h"
#include "cluster/local_communicator.h"
#include "cluster/mpi_communicator.h"

namespace sluice {

void LocalCommunicator::Abort(int exit_code) {
  std::fflush(nullptr);
  std::_Exit(exit_code);  // no static destructors: other state may be mid-update
}

namespace {

// Launchers (Open MPI's mpirun, PMIx, Slurm's srun with PMI) announce
// themselves in the environment. Without one there is nobody to talk to, and
// starting a singleton MPI runtime would only cost time and need a daemon.
bool LaunchedByMpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(var) != nullptr) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Communicator> ConnectCluster(int* argc, char*** argv) {
  if (LaunchedByMpi()) return std::make_unique<MpiCommunicator>(argc, argv);
  return std::make_unique<LocalCommunicator>();
}

}  // namespace sluice
