#!/usr/bin/env bash
# Jobs across hosts give the bytes of one plain process: on 3 simulated hosts
# (scripts/cluster-sim) x 2 ranks, over TCP between hosts, WordCount,
# TeraSort spilling to each host's own /tmp, Join, and the sessionize ->
# dailystats pipeline each write part files identical to the same job run as
# one process without mpirun. Also checked, per job: the report puts 2 ranks
# on each of the 3 hosts, and every host's link carried traffic of the order
# of the shuffle; for TeraSort, that every rank spilled into its own host's
# /tmp and nowhere else. Ends with a table (job, identical, hosts, bytes).
#
#   tests/cluster/multihost_test.sh REPO BUILD_DIR   (CTest: ClusterSim.MultiHostJobsMatchOneProcess)
#
# Exits 77 (CTest: skipped) when not root or when network namespaces cannot
# be made (no unshare, ip or nsenter, or no CAP_SYS_ADMIN). The hosts, the
# data and the outputs are removed at the end, whatever happens
# (MULTIHOST_TEST_KEEP=1 keeps the data for a look).
set -euo pipefail

if [[ "${1:-}" != --inside ]]; then
  (($# == 2)) || { echo "usage: $0 REPO BUILD_DIR" >&2; exit 2; }
  skip() { echo "multihost_test: SKIP: $*"; exit 77; }
  ((EUID == 0)) || skip "needs root (network namespaces, a bridge, mounts)"
  for tool in unshare nsenter ip flock setsid mpirun python3; do
    command -v "$tool" >/dev/null || skip "$tool not found"
  done
  unshare --net --uts --mount true 2>/dev/null || skip "cannot make namespaces here (unshare --net --uts --mount fails)"
  repo=$(cd "$1" && pwd)
  build=$(cd "$2" && pwd)
  # inotifywait: each host's /tmp watched for the scratch folders made in
  # it (below); the hosts have no network, so it is installed here.
  "$repo/scripts/install-deps" inotify-tools >/dev/null || skip "cannot install inotify-tools"
  export SIM_SHARE=$build   # every host sees it, even under /tmp (a CI clone)
  # cluster-sim makes the hosts, runs this script again (in the root
  # namespace, with SIM_NAME and SIM_CTL), and takes them down after, even
  # when this fails or is killed by a signal (a CTest timeout).
  exec "$repo/scripts/cluster-sim" run "mh$$" --hosts 3 -- "$0" --inside "$repo" "$build"
fi
repo=$2 build=$3
sim=$SIM_CTL
name=$SIM_NAME
sluice=$build/bin/sluice
HOSTS=3
RANKS=6   # cluster-sim gives each host 2 slots

log() { echo "multihost_test: $*"; }
summary=()   # rows of the table printed at the end, or at the failure
table() {
  echo
  echo "$HOSTS simulated hosts x $((RANKS / HOSTS)) ranks over TCP vs one plain process:"
  printf '%-22s %-9s %-20s %-10s %s\n' job identical "ranks per host" "shuffle B" "link bytes h1 h2 h3"
  ((${#summary[@]} == 0)) || printf '%s\n' "${summary[@]}"
}
fail() {
  echo "multihost_test: FAIL: $*" >&2
  table >&2
  exit 1
}

# Inputs and outputs go where every host sees them: the hosts share the
# filesystem except /tmp (and /dev/shm), which each has its own.
work=$(mktemp -d "$build/multihost-test.XXXXXX")
background=()   # samplers, stopped whatever happens
cleanup() {
  touch "$work/.stop-sampling" 2>/dev/null || true
  ((${#background[@]} == 0)) || kill "${background[@]}" 2>/dev/null || true
  if [[ "${MULTIHOST_TEST_KEEP:-0}" == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM   # so that cleanup runs (cluster-sim run passes a CTest timeout's TERM on)
trap 'exit 130' INT

# Sanitizer builds: leak checking only for the plain process, as in the
# e2e tests (Open MPI dlcloses its components, so their memory shows as
# leaks from "<unknown module>"). -x: mpirun passes it to ranks on other
# hosts too, whose orted starts from a clean environment as over ssh.
# A job that hangs fails the test after MULTIHOST_JOB_TIMEOUT seconds
# (default 120) instead of running into CTest's timeout.
JOB_TIMEOUT=${MULTIHOST_JOB_TIMEOUT:-120}
bounded() {  # bounded WHAT COMMAND...
  local what=$1 rc=0
  shift
  timeout -k 10 "$JOB_TIMEOUT" "$@" || rc=$?
  ((rc != 124)) || fail "$what: no result within $JOB_TIMEOUT s (hung)"
  ((rc == 0)) || fail "$what: exit code $rc"
}
one() { bounded "$1, one process" "$sluice" run "$@" --quiet; }
multi() {
  bounded "$1, $RANKS ranks on $HOSTS hosts" \
    "$sim" mpirun "$name" -np "$RANKS" -x "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0" \
    "$sluice" run "$@" --quiet
}
host_bytes() {  # one number per host: rx+tx bytes of its link so far
  local i
  for i in $(seq "$HOSTS"); do "$sim" tcp-bytes "$name" "$i"; done | tr '\n' ' '
}

log "hosts: $("$sim" hosts "$name" | awk '{ printf "%s%s (%s)", (NR > 1 ? ", " : ""), $2, $3 }')"

# --- inputs: a few MB each, split small so every rank maps some ----------
"$build/bin/sluice-textgen" --output "$work/text" --bytes 6M --files 6 --vocab 200000 >/dev/null
one teragen 500000 "$work/tera-in"        # 50 MB of 100-byte records
"$build/bin/sluice-datagen2" users --output "$work/users" --files 2 --lines 20000 >/dev/null
"$build/bin/sluice-datagen2" events --output "$work/events" --files 4 --lines 50000 --users 40000 >/dev/null
"$build/bin/sluice-datagen2" clf --output "$work/clf" --files 4 --lines 30000 --clients 2000 >/dev/null

# --- checks ----------------------------------------------------------------
# identical ONE MULTI [derived]: part files (and _bad_records) byte for
# byte, and _SUCCESS and _manifest.json but for what may differ with the rank
# count: the rank count and the spill counters (one process holding all the
# data spills otherwise than six holding a sixth each). Their fingerprint
# must match too, except for a job that reads an earlier output ("derived"):
# its inputs are two folders, whose paths and mtimes the fingerprint covers.
identical() {
  local a=$1 b=$2 derived=${3:-} f
  diff -r -x _report.json -x _report.html -x _SUCCESS -x _manifest.json "$a" "$b" >&2 || return 1
  for f in _SUCCESS _manifest.json; do
    [[ -f "$a/$f" && -f "$b/$f" ]] || { echo "no $f in $a or $b" >&2; return 1; }
  done
  local drop='^(ranks|spill_runs|spill_records|spill_bytes|merge_passes)\t'
  [[ -n $derived ]] && drop='^(ranks|spill_runs|spill_records|spill_bytes|merge_passes|fingerprint)\t'
  diff <(grep -Pv "$drop" "$a/_SUCCESS") <(grep -Pv "$drop" "$b/_SUCCESS") >&2 || return 1
  diff <(manifest_sans "$a" "$derived") <(manifest_sans "$b" "$derived") >&2 || return 1
}
manifest_sans() {  # manifest_sans OUT [derived]: the manifest less the above
  python3 - "$@" <<'EOF'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "_manifest.json")))
for k in ("spill_runs", "spill_records", "spill_bytes", "merge_passes"):
    m.get("counters", {}).pop(k, None)
if len(sys.argv) > 2 and sys.argv[2]:
    for k in ("inputs", "fingerprint"):
        m.pop(k, None)
    m.get("config", {}).pop("inputs", None)
print(json.dumps(m, indent=1, sort_keys=True))
EOF
}

# hosts_ok OUT: _report.json's per_rank[].host names the 3 simulated hosts,
# 2 ranks each. Prints "h1 x2, ...".
hosts_ok() {
  python3 - "$1/_report.json" "$name" "$HOSTS" "$RANKS" <<'EOF'
import collections, json, sys
report, name, hosts, ranks = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
per = json.load(open(report))["per_rank"]
if any("host" not in r for r in per):
    sys.exit("per_rank[] entries have no host field (a Sluice from before it was added?)")
count = collections.Counter(r["host"] for r in per)
want = {f"{name}-h{i}": ranks // hosts for i in range(1, hosts + 1)}
print(", ".join(f"{h.rsplit('-', 1)[1]} x{n}" for h, n in sorted(count.items())))
if len(per) != ranks or dict(count) != want:
    sys.exit(f"per_rank hosts {dict(count)}, expected {want}")
EOF
}

report_number() {  # report_number OUT KEY...: a number in _report.json
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: v=v[k]
print(v)' "$1/_report.json" "${@:2}"
}

# check JOB ONE MULTI BEFORE AFTER [derived]: compares and adds a row to the table.
# Every host's link must have carried at least a tenth of the job's packed
# shuffle bytes: with its splits spread over the hosts, each host sends and
# receives about two thirds of its share over the wire.
check() {
  local job=$1 a=$2 b=$3 before after derived=${6:-} same=yes hosts delta i packed min
  read -r -a before <<<"$4"
  read -r -a after <<<"$5"
  identical "$a" "$b" "$derived" || same=no
  hosts=$(hosts_ok "$b") || fail "$job: $hosts"
  packed=$(report_number "$b" shuffle packed_bytes)
  min=$((packed / 10))
  delta=''
  for i in $(seq 0 $((HOSTS - 1))); do
    local d=$((after[i] - before[i]))
    delta+="${delta:+ }$d"
    ((d >= min)) || fail "$job: host $((i + 1)) carried $d bytes, under a tenth of the $packed shuffled"
  done
  summary+=("$(printf '%-22s %-9s %-20s %-10s %s' "$job" "$same" "$hosts" "$packed" "$delta")")
  [[ $same == yes ]] || fail "$job: $b differs from the one-process run $a (diff above)"
  log "$job: identical to one process; hosts $hosts; bytes per host link $delta (shuffle $packed packed)"
}

# --- WordCount -------------------------------------------------------------
one wordcount "$work/text" "$work/wc-1p" --split-size 512K
b0=$(host_bytes)
multi wordcount "$work/text" "$work/wc-6r" --split-size 512K
check wordcount "$work/wc-1p" "$work/wc-6r" "$b0" "$(host_bytes)"

# --- TeraSort, spilling: 4M per rank against ~8 MB of shuffle each --------
# Scratch is --scratch /tmp, each host's own tmpfs. While the job runs,
# inotifywait in each host records every entry made in its /tmp (so a
# scratch folder that lives a few milliseconds is still seen: a 20 ms
# sampler alone missed one on a loaded machine), a sampler there lists its
# /tmp/sluice-* folders and the files in them every 20 ms (for the counts
# shown), and one here lists the scratch records that ranks write
# on the shared filesystem (.OUT.sluice-work/scratch/HOST@RUN.rRANK, holding
# the rank's scratch path; removed at the end, like the scratch itself).
one terasort "$work/tera-in" "$work/tera-1p" --memory 4M --scratch /tmp --split-size 4M
samples=$work/scratch-samples
# await_watches ERR WHERE: up to 10 s for inotifywait (stderr in ERR) to be watching.
await_watches() {
  for _ in $(seq 200); do grep -q "Watches established" "$1" 2>/dev/null && return 0; sleep 0.05; done
  fail "inotifywait did not start on $2"
}
stop=$work/.stop-sampling
for i in $(seq "$HOSTS"); do
  # shellcheck disable=SC2016
  "$sim" exec "$name" "$i" -- sh -c 'inotifywait -m -e create -e moved_to --include "^/tmp/sluice-[^/]*$" --format "$2 %w%f 0" /tmp 2>"$3" & w=$!
      while [ -d "${1%/*}" ] && [ ! -e "$1" ]; do sleep 0.05; done; kill $w' \
    watcher "$stop" "$i" "$samples.w$i.err" > "$samples.w$i" &
  background+=($!)
  await_watches "$samples.w$i.err" "host $i"
  # shellcheck disable=SC2016
  "$sim" exec "$name" "$i" -- sh -c 'while [ -d "${1%/*}" ] && [ ! -e "$1" ]; do
      for d in /tmp/sluice-*; do [ -d "$d" ] && echo "$2 $d $(find "$d" -type f | wc -l)"; done
      sleep 0.02
    done' sampler "$stop" "$i" > "$samples.h$i" 2>/dev/null &
  background+=($!)
done
(
  while [[ -d "$work" && ! -e "$stop" ]]; do
    for f in "$work"/.tera-6r.sluice-work/scratch/*@*; do
      [[ -f "$f" ]] && echo "record ${f##*/} $(cat "$f" 2>/dev/null)"
    done
    sleep 0.02
  done > "$samples.records"
) &
background+=($!)
# The 20 ms loop above once missed both records of one host when that
# host's ranks spilled only briefly (a faster reduce), as the /tmp
# sampler had: inotifywait also reports each record as it is written, and
# it is read at once. (-r: the work folder and its scratch/ appear once the
# job starts.)
mkfifo "$samples.fifo"
inotifywait -m -r -e close_write -e moved_to --format '%w%f' "$work" > "$samples.fifo" 2> "$samples.rw.err" &
records_watch=$!
background+=("$records_watch")
while IFS= read -r f; do
  case $f in "$work"/.tera-6r.sluice-work/scratch/*@*) echo "record ${f##*/} $(cat "$f" 2>/dev/null)" ;; esac
done < "$samples.fifo" > "$samples.rw" &
background+=($!)
await_watches "$samples.rw.err" "the shared work folder"
b0=$(host_bytes)
# --merge-factor 2: merges in several passes, so that each rank's scratch
# lives long enough for a sampler on a loaded 2-core machine to see it (a
# faster reduce had shortened that to 0.1 s on some ranks).
multi terasort "$work/tera-in" "$work/tera-6r" --memory 4M --scratch /tmp --split-size 4M --merge-factor 2
b1=$(host_bytes)
touch "$stop"
kill "$records_watch"  # the one sampler that does not stop by itself; its reader then sees the end
wait "$records_watch" 2>/dev/null || true  # killed: its status says only that
others=()
for pid in "${background[@]}"; do [[ $pid == "$records_watch" ]] || others+=("$pid"); done
wait "${others[@]}"
background=()
cat "$samples".h* "$samples".w[0-9] "$samples".records "$samples".rw > "$samples"
check terasort "$work/tera-1p" "$work/tera-6r" "$b0" "$b1"
spills=$(report_number "$work/tera-6r" counters spill_runs)
((spills > 0)) || fail "terasort: no spill runs at --memory 4M"
# Every rank recorded a scratch folder in /tmp under its own host's name,
# that folder appeared in that host's /tmp, and no other host's /tmp ever
# showed it. A rank makes its scratch folder at its first spill and only
# then (shuffle/shuffle_store.h), so its folder there means it spilled
# there; and a host's /tmp is a tmpfs private to its mount namespace, so a
# folder seen there was made there. (The spill files in it come and go as
# runs are merged: their count is shown, not required.)
python3 - "$samples" "$name" "$RANKS" <<'EOF' || fail "terasort: scratch not where it should be (samples in $samples)"
import collections, re, sys
samples, name, ranks = sys.argv[1], sys.argv[2], int(sys.argv[3])
records = {}                                  # rank -> (host index, scratch path)
seen = collections.defaultdict(dict)          # path -> {host index: most files seen}
for line in open(samples):
    f = line.split()
    if f[0] == "record" and len(f) == 3:
        m = re.fullmatch(re.escape(name) + r"-h(\d+)@[^.]+\.r(\d+)", f[1])
        if m: records[int(m[2])] = (int(m[1]), f[2])
    elif len(f) == 3:
        host, path, files = int(f[0]), f[1], int(f[2])
        seen[path][host] = max(files, seen[path].get(host, 0))
bad = []
for r in range(ranks):
    if r not in records:
        bad.append(f"rank {r}: no scratch record seen"); continue
    host, path = records[r]
    where = seen.get(path, {})
    if not path.startswith("/tmp/sluice-"):
        bad.append(f"rank {r}: scratch {path} is not under /tmp")
    elif host not in where:
        bad.append(f"rank {r}: {path} never seen on its host {host} (seen on: {sorted(where)})")
    elif set(where) != {host}:
        bad.append(f"rank {r}: {path} seen on hosts {sorted(where)}, not only its own {host}")
    else:
        print(f"  rank {r}: host h{host}, scratch {path} there only, up to {where[host]} spill file(s) at once")
strays = [p for p in seen if p not in {p for _, p in records.values()}]
if strays: bad.append(f"scratch folders of no rank of this run: {strays}")
if bad: sys.exit("\n".join(bad))
EOF
# Nothing left: no host's /tmp and no shared folder holds sluice scratch.
for i in $(seq "$HOSTS"); do
  left=$("$sim" exec "$name" "$i" -- sh -c 'ls -d /tmp/sluice-* 2>/dev/null || true')
  [[ -z "$left" ]] || fail "terasort: host $i kept scratch: $left"
done
[[ -z "$(find "$work" -name 'sluice-*' -type d)" ]] || fail "terasort: scratch on the shared filesystem"
log "terasort: $spills spill runs; every rank spilled only into its own host's /tmp, all removed"

# --- Join ------------------------------------------------------------------
one join "$work/users" "$work/events" "$work/join-1p" --split-size 1M
b0=$(host_bytes)
multi join "$work/users" "$work/events" "$work/join-6r" --split-size 1M
check join "$work/join-1p" "$work/join-6r" "$b0" "$(host_bytes)"

# --- sessionize -> dailystats ----------------------------------------------
# The generator writes some malformed lines on purpose (bad records).
one sessionize "$work/clf" "$work/ses-1p" --max-bad-records 1000 --split-size 512K
b0=$(host_bytes)
multi sessionize "$work/clf" "$work/ses-6r" --max-bad-records 1000 --split-size 512K
check sessionize "$work/ses-1p" "$work/ses-6r" "$b0" "$(host_bytes)"
one dailystats "$work/ses-1p" "$work/daily-1p" --split-size 64K
b0=$(host_bytes)
multi dailystats "$work/ses-6r" "$work/daily-6r" --split-size 64K
check "dailystats (pipeline)" "$work/daily-1p" "$work/daily-6r" "$b0" "$(host_bytes)" derived

table
log "PASS"
