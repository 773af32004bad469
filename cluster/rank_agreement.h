// Making every rank take the same branch on a result only some ranks saw.
#pragma once

#include "cluster/communicator.h"
#include "io/status.h"

namespace sluice {

// Collective. Every rank's `mine` meets at rank 0; every rank returns the
// status of the lowest-numbered rank that failed, or OK. Use it wherever a
// rank could fail alone before a collective: a rank that returned early
// would leave the others waiting forever.
Status AgreeAcrossRanks(Communicator& comm, const Status& mine);

}  // namespace sluice
