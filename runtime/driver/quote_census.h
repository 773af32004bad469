// The quote census: before any CSV range is mapped, every range learns
// whether its first byte lies inside a quoted field.
//
// A quoted CSV field may hold newlines, so where a record starts in the
// middle of a file depends on every quote before that point: a record ends
// only at a newline with an even number of quote bytes before it in the
// whole file. Each rank counts the quote bytes of some ranges (in parallel,
// at memory speed), one AllReduce shares the counts, and each range's start
// state is the parity of the counts of the ranges before it in its file.
// docs/csv-splits.md has the reasoning.
#pragma once

#include "runtime/driver/job_run.h"

namespace sluice {

// Sets FileRange::starts_in_quotes in run.plan on every rank. A collective:
// every rank calls it, after the runner's Setup and before any map task or
// key sample. Does nothing (and no communication) when no CSV file is cut
// into more than one range, which every rank sees alike from the plan.
// Fails the job (exit 3) when a range cannot be read.
void RunQuoteCensus(JobRun& run);

}  // namespace sluice
