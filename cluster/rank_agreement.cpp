#include "cluster/rank_agreement.h"

#include <string>
#include <vector>

namespace sluice {

Status AgreeAcrossRanks(Communicator& comm, const Status& mine) {
  std::string wire(1, static_cast<char>(mine.code()));
  wire += mine.message();
  std::vector<std::string> all = comm.Gather(wire, 0);
  std::string verdict(1, static_cast<char>(StatusCode::kOk));
  for (const std::string& w : all) {
    if (static_cast<StatusCode>(w[0]) != StatusCode::kOk) {
      verdict = w;
      break;
    }
  }
  comm.Broadcast(&verdict, 0);
  return Status(static_cast<StatusCode>(verdict[0]), verdict.substr(1));
}

}  // namespace sluice
