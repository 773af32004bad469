// Status and Result<T>: errors as values, for a job's own helpers that
// report them to the job (which throws, or counts a bad record). The same
// types the engine uses (io/status.h); StatusCode maps to the exit codes
// the README lists.
#pragma once

#include "io/status.h"
