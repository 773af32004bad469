// What the shuffle needs from the cluster: move framed blocks between ranks.
//
// cluster/ implements this over MPI and in-process; shuffle/ and runtime/
// never see MPI. All methods are called from one thread per rank.
#pragma once

#include <string>

namespace sluice {

// Receives every block addressed to this rank, including its own.
class BlockReceiver {
 public:
  virtual ~BlockReceiver() = default;
  // `frame` is an unverified block frame; `source` the sending rank.
  virtual void OnBlock(int source, std::string frame) = 0;
};

class BlockTransport {
 public:
  virtual ~BlockTransport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // True when `rank` runs on this rank's node (itself included): a block to
  // it never crosses a network, so compressing it costs more than it saves.
  virtual bool SharesNodeWith(int rank) const { return rank == this->rank(); }
  // Must be set before the first SendBlock on any rank; not owned.
  virtual void SetReceiver(BlockReceiver* receiver) = 0;
  // Queues `frame` for `dest` without waiting for the peer. Blocks (while
  // still receiving) only when the bytes in flight from this rank exceed the
  // transport's cap: that bound is what keeps send memory flat.
  virtual void SendBlock(int dest, std::string frame) = 0;
  // Delivers whatever has arrived and retires finished sends. Cheap: call it
  // often (once per input chunk) so peers are never kept waiting.
  virtual void Poll() = 0;
  // Call once, after this rank's last SendBlock. Returns when every block
  // sent to this rank by any rank has been delivered and every block this
  // rank sent has left.
  virtual void FinishShuffle() = 0;
};

}  // namespace sluice
