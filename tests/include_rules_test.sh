#!/usr/bin/env bash
# The layering check (scripts/check-includes) passes on this tree, and fails,
# naming file, line and rule, on a tree that breaks each kind of rule: a
# check that could not fail would prove nothing.
#
#   tests/include_rules_test.sh REPO     (CTest: include_rules)
set -euo pipefail
repo="$1"
check="$repo/scripts/check-includes"

"$check" "$repo"

bad="$(mktemp -d /tmp/sluice-include-rules-XXXXXX)"
trap 'rm -rf "$bad"' EXIT
mkdir -p "$bad"/{io,shuffle,cluster,jobs,runtime/include/sluice/detail,runtime/driver,runtime/cli}
printf '#include "shuffle/serde.h"\n' >"$bad/io/reader.h"
printf '#include <mpi.h>\n' >"$bad/shuffle/codec.cpp"
printf '#include "runtime/driver/job_driver.h"\n' >"$bad/cluster/agree.cpp"
printf '#include "runtime/cli/cli.h"\n' >"$bad/runtime/include/sluice/job.h"
printf '#include "cluster/communicator.h"\n' >"$bad/runtime/include/sluice/detail/runner.h"
printf '#include "runtime/cli/logging.h"\n' >"$bad/runtime/driver/driver.cpp"
printf '#include <sluice/detail/typed_runner.h>\n#include "io/file_system.h"\n#include "runtime/include/sluice/job.h"\n' \
  >"$bad/jobs/myjob.cpp"
printf '#include <sluice/job.h>\n#include "runtime/driver/job_driver.h"\n' >"$bad/runtime/cli/ok.cpp"

set +e
out="$("$check" "$bad" 2>&1)"
rc=$?
set -e
echo "$out"
[[ $rc == 1 ]] || { echo "include_rules_test: expected exit 1 on the bad tree, got $rc" >&2; exit 1; }
expect=(
  "io/reader.h:1: io may not include 'shuffle/serde.h'"
  "shuffle/codec.cpp:1: <mpi.h> belongs to cluster/ alone"
  "cluster/agree.cpp:1: cluster may not include 'runtime/driver/job_driver.h'"
  "runtime/include/sluice/job.h:1: api may not include 'runtime/cli/cli.h'"
  "runtime/include/sluice/detail/runner.h:1: detail may not include 'cluster/communicator.h'"
  "runtime/driver/driver.cpp:1: driver may not include 'runtime/cli/logging.h'"
  "jobs/myjob.cpp:1: a job includes only the public API <sluice/...>, not 'sluice/detail/typed_runner.h'"
  "jobs/myjob.cpp:2: a job includes only the public API <sluice/...>, not 'io/file_system.h'"
  "jobs/myjob.cpp:3: include 'runtime/include/sluice/job.h' as <sluice/job.h>"
  "check-includes: 9 forbidden include(s)"
)
for line in "${expect[@]}"; do
  grep -qF "$line" <<<"$out" || { echo "include_rules_test: missing: $line" >&2; exit 1; }
done
grep -q "runtime/cli/ok.cpp" <<<"$out" && { echo "include_rules_test: cli may include everything" >&2; exit 1; }
echo "include_rules_test: ok"
