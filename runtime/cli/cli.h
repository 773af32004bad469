// Command-line entry points: the `sluice` command and job binaries.
#pragma once

namespace sluice {

// `sluice jobs | run JOB [flags] | run --plugin PATH [flags] | --help`.
int SluiceMain(int argc, char** argv);

// A job binary: the one built-in job linked into it, run as
// `JOB [flags] [INPUT... OUTPUT]`.
int JobBinaryMain(int argc, char** argv);

}  // namespace sluice
