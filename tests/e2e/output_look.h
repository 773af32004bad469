// What a reader of a job's output sees at one instant: the check that
// concurrent and replacing runs never publish a partial output.
#pragma once

#include <string>

namespace sluice::e2e {

// What a reader sees when it looks at an output directory once.
enum class Seen { kAbsent, kComplete, kIncomplete, kReplacedWhileLooking };

// Looks at `out` through one descriptor of the directory: _SUCCESS, the
// manifest and parts 0..partitions-1 must be there, each of the size the
// manifest gives. A directory renamed away while it is read is
// kReplacedWhileLooking, not kIncomplete. Sets *fingerprint to _SUCCESS's
// fingerprint line and *why to what is wrong (or why it is absent).
Seen LookAtOutput(const std::string& out, int partitions, std::string* fingerprint, std::string* why);

}  // namespace sluice::e2e
