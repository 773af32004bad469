#!/usr/bin/env bash
# A lost host, for real: WordCount at 3 simulated hosts x 2 ranks (TCP,
# private /tmp per host, scripts/cluster-sim); rank 2 (host 2) stalls at a
# fault point (SLUICE_FAULT=POINT@2:stall), and then host 2 is killed (every
# process in it, its Open MPI daemon included) or its link is cut. For each
# point x way it checks, and prints as a table row:
#   - the job ends, through `sluice submit`, with exit 75 and a line naming
#     the lost rank or host; the seconds from the loss to the exit;
#   - no output is visible, and nothing of the job is left running on the
#     surviving hosts 1 and 3;
#   - a re-run with host 2 back exits 0, reuses saved map tasks and writes
#     output byte-identical to one plain process.
# Then once: a re-run on hosts 1 and 3 alone succeeds, and `--retries 1`
# turns a host loss into a successful job by itself.
#
#   tests/cluster/lost_host_test.sh BUILD_DIR     (CTest: ClusterSim.LostHost*)
# Exit 77 (skipped) without root or network namespaces.
set -euo pipefail
BUILD=$(readlink -f "$1")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SIM=$REPO/scripts/cluster-sim
export SIM_SHARE=$BUILD   # seen by every host even if it is under /tmp
SLUICE=$BUILD/bin/sluice
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespaces)"; exit 77; }
command -v unshare >/dev/null && command -v ip >/dev/null || { echo "skipped: no unshare/ip"; exit 77; }

# Sanitizer builds (CI's second pass): Open MPI keeps allocations until
# exit that LeakSanitizer would report from every rank, and a rank on
# another host gets only the variables mpirun forwards (-x), as on a real
# cluster.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
FWD=(-x ASAN_OPTIONS)

NAME=lh$$
# Inputs and outputs on the "shared filesystem": not /tmp, which is private
# to each simulated host.
WORK=$(mktemp -d /var/tmp/sluice-lost-host-XXXXXX)
cleanup() {
  "$SIM" down "$NAME" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

"$BUILD/bin/sluice-textgen" --output "$WORK/in" --bytes 6M --files 6 --vocab 50000 >/dev/null
JOB=(run wordcount --split-size 256K --partitions 8 --input "$WORK/in")
"$SLUICE" "${JOB[@]}" --quiet --output "$WORK/reference"

"$SIM" up "$NAME" --hosts 3
SD=/run/sluice-sim/$NAME
read -r _ H1 IP1 < <(sed -n 1p "$SD/hosts")
read -r _ H2 IP2 < <(sed -n 2p "$SD/hosts")
read -r _ H3 IP3 < <(sed -n 3p "$SD/hosts")

# PIDs of processes inside host I (its network namespace), holder excluded.
procs_in_host() {
  local net holder p out=''
  read -r net _ < "$SD/h$1.ns"
  holder=$(cat "$SD/h$1.pid" 2>/dev/null || true)
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = "$holder" ] && continue
    [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$net" ] && out+=" $p"
  done
  echo "$out"
}

same_as_reference() {
  diff -r -q -x '_*' "$WORK/reference" "$1" >/dev/null
}

# wait_for_stall LOG PID: until LOG says a rank stalled (or PID ended, or 120 s).
wait_for_stall() {
  local deadline=$((SECONDS + 120))
  until grep -q "reached: stalling" "$1"; do
    if ! kill -0 "$2" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "FAIL: no rank stalled ($1):"; tail -20 "$1"; exit 1
    fi
    sleep 0.05
  done
}

ROWS=()
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }

# What each host runs and its sockets and neighbour table: printed when a
# job does not end in time, so that a hang is diagnosed from CI's log.
sim_state() {
  local h p
  for h in 1 2 3; do
    echo "--- host $h: processes"
    for p in $(procs_in_host "$h"); do
      printf '%s %s\n' "$p" "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-160)"
    done
    echo "--- host $h: sockets, neighbours"
    nsenter -t "$(cat "$SD/h$h.pid")" --net -- ss -tanp 2>&1 || true
    nsenter -t "$(cat "$SD/h$h.pid")" --net -- ip neigh 2>&1 || true
  done
}

# bounded_wait PID SECONDS WHAT: waits for PID and returns its exit code;
# past SECONDS it is a failure (WHAT says of what), printed with the sims'
# state, and PID is stopped (SIGTERM, which sluice submit passes on to
# mpirun; then SIGKILL) so that one hang costs minutes, not the whole
# CTest timeout.
bounded_wait() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      fail "$3: still running after $2 s"
      sim_state
      kill -TERM "$pid" 2>/dev/null || true
      sleep 3
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 124
    fi
    sleep 0.1
  done
  wait "$pid"
}

# bounded_run SECONDS LOG COMMAND...: COMMAND with its output in LOG, bounded.
bounded_run() {
  local secs=$1 log=$2; shift 2
  "$@" > "$log" 2>&1 &
  bounded_wait $! "$secs" "$(basename "$log")"
}

# run_case POINT WAY(kill|cut)
run_case() {
  local point=$1 way=$2 out=$WORK/out-$1-$2 log=$WORK/log-$1-$2
  : > "$log"
  SLUICE_FAULT="$point@2:stall" "$SLUICE" submit --retries 0 -- \
    "$SIM" mpirun "$NAME" -np 6 "${FWD[@]}" -x SLUICE_FAULT "$SLUICE" "${JOB[@]}" --quiet --output "$out" \
    > "$log" 2>&1 &
  local submit=$! t0 t1 rc
  local deadline=$((SECONDS + 120))
  until grep -q "sluice fault point $point reached" "$log"; do
    if ! kill -0 "$submit" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      fail "$point/$way: the stall point was never reached"; cat "$log"; kill "$submit" 2>/dev/null || true
      wait "$submit" || true
      return
    fi
    sleep 0.05
  done
  t0=$(date +%s.%N)
  if [ "$way" = kill ]; then "$SIM" kill-host "$NAME" 2; else "$SIM" cut-link "$NAME" 2; fi
  rc=0
  bounded_wait "$submit" 120 "$point/$way: the job after the loss" || rc=$?
  t1=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  [ "$rc" = 75 ] || { fail "$point/$way: exit $rc, want 75"; tail -20 "$log"; }
  local lost
  lost=$(grep -o 'sluice submit: attempt 1 of 1 lost .*' "$log" | sed 's/ (launcher exit.*//; s/.*lost //' || true)
  [ -n "$lost" ] || fail "$point/$way: no line naming the lost rank or host"
  local state=none
  [ -e "$out" ] && { state=VISIBLE; fail "$point/$way: output visible after the failure"; }
  # Nothing of the job on the surviving hosts (within 5 s of the exit).
  local left='' i
  for i in $(seq 50); do
    left="$(procs_in_host 1)$(procs_in_host 3)"
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || fail "$point/$way: left running on hosts 1/3: $(for p in $left; do tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null; echo; done)"
  # Host 2 back (a cut-off host's own processes end when their daemon loses
  # mpirun; whatever is still there is killed, as a reboot would).
  [ "$way" = cut ] && "$SIM" heal-link "$NAME" 2
  "$SIM" kill-host "$NAME" 2
  local rerun=0
  bounded_run 180 "$log.rerun" "$SLUICE" submit --retries 0 -- \
    "$SIM" mpirun "$NAME" -np 6 "${FWD[@]}" "$SLUICE" "${JOB[@]}" --quiet --output "$out" || rerun=$?
  local reused=- identical=no
  if [ "$rerun" = 0 ]; then
    reused=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resume"]["map_tasks_reused"])' "$out/_report.json")
    same_as_reference "$out" && identical=yes
  fi
  [ "$rerun" = 0 ] || { fail "$point/$way: re-run exit $rerun"; tail -20 "$log.rerun"; }
  [ "$identical" = yes ] || fail "$point/$way: re-run output differs from one process"
  [ "$reused" != - ] && [ "$reused" -gt 0 ] || fail "$point/$way: re-run reused no map task"
  ROWS+=("| $point | $way host 2 | $rc | $secs | $state | $lost | $rerun | $reused | $identical |")
  rm -rf "$out"
}

for point in after_map_task mid_shuffle_send during_reduce after_task_commit; do
  for way in kill cut; do
    run_case "$point" "$way"
  done
done

# The surviving hosts alone: host 2 is lost mid-shuffle, and the job is run
# again on hosts 1 and 3 (4 ranks) without it.
OUT=$WORK/out-survivors
SLUICE_FAULT="mid_shuffle_send@2:stall" "$SLUICE" submit --retries 0 -- \
  "$SIM" mpirun "$NAME" -np 6 "${FWD[@]}" -x SLUICE_FAULT "$SLUICE" "${JOB[@]}" --quiet --output "$OUT" \
  > "$WORK/log-survivors" 2>&1 &
submit=$!
wait_for_stall "$WORK/log-survivors" "$submit"
"$SIM" kill-host "$NAME" 2
rc=0; bounded_wait "$submit" 120 "survivors: the job after the loss" || rc=$?
[ "$rc" = 75 ] || fail "survivors: first run exit $rc, want 75"
rc=0
bounded_run 180 "$WORK/log-survivors.rerun" \
  "$SIM" mpirun "$NAME" --host "$H1:2,$H3:2" -np 4 "${FWD[@]}" "$SLUICE" "${JOB[@]}" --quiet --output "$OUT" || rc=$?
hosts=$(python3 -c 'import json,sys; print(",".join(sorted({r["host"] for r in json.load(open(sys.argv[1]))["per_rank"]})))' "$OUT/_report.json" 2>/dev/null || true)
if [ "$rc" = 0 ] && same_as_reference "$OUT" && [ "$hosts" = "$H1,$H3" ]; then
  echo "re-run on the surviving hosts ($hosts, 4 ranks): exit 0, identical to one process"
else
  fail "survivors: re-run exit $rc, hosts '$hosts'"; tail -20 "$WORK/log-survivors.rerun"
fi

# --retries: the host is lost on attempt 1 (killed by this script as soon as
# its rank stalls); attempt 2 runs without the fault and succeeds, resuming.
OUT=$WORK/out-retries
"$SLUICE" submit --retries 2 --retry-delay 0.5 -- sh -c \
  "if [ \"\$SLUICE_ATTEMPT\" = 1 ]; then export SLUICE_FAULT=during_reduce@2:stall; fi
   exec \"$SIM\" mpirun \"$NAME\" -np 6 -x ASAN_OPTIONS -x SLUICE_FAULT $SLUICE ${JOB[*]} --quiet --output $OUT" \
  > "$WORK/log-retries" 2>&1 &
submit=$!
wait_for_stall "$WORK/log-retries" "$submit"
"$SIM" kill-host "$NAME" 2
rc=0; bounded_wait "$submit" 240 "retries: the job" || rc=$?
echo "--retries 2, host 2 killed during reduce on attempt 1 (sluice submit's lines):"
grep '^sluice submit' "$WORK/log-retries" | sed 's/^/  /'
attempts=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["attempts"]))' "$OUT/_report.json" 2>/dev/null || true)
echo "  report attempts: $attempts"
if [ "$rc" = 0 ] && same_as_reference "$OUT" && [[ $attempts == *'"this": 2'* ]]; then
  echo "  exit 0, output identical to one process"
else
  fail "retries: exit $rc"; tail -30 "$WORK/log-retries"
fi

echo
echo "| fault point | loss | exit | seconds to exit | output after | lost (sluice submit) | re-run exit | map tasks reused | identical to 1 process |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
[ "$FAILED" = 0 ] || { echo "lost_host_test: FAILED"; exit 1; }
echo "lost_host_test: all cases passed"
