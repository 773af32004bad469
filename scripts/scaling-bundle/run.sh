#!/usr/bin/env bash
# Sluice scaling run on a machine without Open MPI or a compiler: see
# README.md next to this script. From the repository root:
#   OUT=/path/to/results bash .devbundle/run.sh
# Knobs (environment; defaults for the 16-core target):
#   SIZE=2G          WordCount corpus bytes (K/M/G = powers of 1024)
#   TERA_SIZE=4G     TeraSort input bytes (teragen rows = TERA_SIZE / 100)
#   RANKS="1 2 4 8 16"   rank counts (1 = a plain process, as the suite runs it)
#   REPS=2           WordCount reps per rank count (wc_hand: WC_HAND_REPS=REPS)
#   TERA_REPS=2      TeraSort reps per rank count
#   GUARD_S=360      start no new row after this many seconds from the start
#   HARD_S=400       ... nor one whose estimate ends past this; rows still
#                    running at HARD_S+10 are killed (the run ends by ~7 min)
#   WORK=            scratch dir (default: a new dir in whichever of /dev/shm,
#                    /tmp and this script's dir has the most free space)
#   MCA=             Open MPI transport flags to try instead of the built-in
#                    candidates (several: separated by ';'; first that works)
#   BIND=auto        auto (core if a max-rank test run works, else none), core, none
#   GNU_SORT=auto    auto (if time allows) or no: GNU sort baseline on the tera data
#   JOBS="wc tera"   which benchmarks
#   KEEP=0           1: leave WORK in place
#   EXEC_MODES="plain loader"  how to start binaries, in the order tried:
#                    plain = the target's glibc + LD_LIBRARY_PATH=rt/lib;
#                    loader = the bundle's Debian ld-linux + glibc
# Results in $OUT (at most 6 files): env.txt, run.log, raw.tsv, scaling.txt,
# scaling.json, reports.tar.gz (every _report.json, logs, sanity output).
set -uo pipefail
T0=$(date +%s)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${OUT:?set OUT to the results folder}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SIZE=${SIZE:-2G}
TERA_SIZE=${TERA_SIZE:-4G}
RANKS=(${RANKS:-1 2 4 8 16})
REPS=${REPS:-2}
WC_HAND_REPS=${WC_HAND_REPS:-$REPS}
TERA_REPS=${TERA_REPS:-2}
GUARD_S=${GUARD_S:-360}
HARD_S=${HARD_S:-400}
BIND=${BIND:-auto}
GNU_SORT=${GNU_SORT:-auto}
JOBS=${JOBS:-wc tera}
KEEP=${KEEP:-0}
LOG=$OUT/run.log
RAW=$OUT/raw.tsv
: > "$LOG"; : > "$RAW"

elapsed() { echo $(( $(date +%s) - T0 )); }
log() { printf '[%4ss] %s\n' "$(elapsed)" "$*" | tee -a "$LOG" >&2; }
rec() { local IFS=$'\t'; echo "$*" >> "$RAW"; }   # a raw.tsv line
fact() { rec fact "$@"; }
now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
want() { [[ " $JOBS " == *" $1 "* ]]; }
# can_start EST: a new row may start now, if it is estimated to take EST s
can_start() {
  local el; el=$(elapsed)
  (( el < GUARD_S )) && (( el + ${1:-0} < HARD_S ))
}
# row_timeout: seconds a row may still run
row_timeout() { local t=$(( HARD_S + 10 - $(elapsed) )); (( t < 5 )) && t=5; echo "$t"; }
MAXR=1; for r in "${RANKS[@]}"; do (( r > MAXR )) && MAXR=$r; done

# ------------------------------------------------------------------ (a) env
{
  echo "date: $(date -u +%FT%TZ)"
  echo "uname: $(uname -a)"
  echo "/proc/version: $(cat /proc/version 2>/dev/null)"
  echo "nproc: $(nproc)   (online: $(cat /sys/devices/system/cpu/online 2>/dev/null))"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) x $(grep -c ^processor /proc/cpuinfo)"
  echo "cpu flags of note: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|avx512f|avx512bw|bmi2|sha_ni|vaes)$' | tr '\n' ' ')"
  echo "cgroup cpu.max: $(cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo n/a)  memory.max: $(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo n/a)"
  echo "loadavg: $(cat /proc/loadavg)"
  echo "id: $(id)"
  echo; echo "== /etc/os-release"; cat /etc/os-release 2>/dev/null
  echo; echo "== ldd --version"; ldd --version 2>&1 | head -1
  echo; echo "== free -g"; free -g 2>&1; head -3 /proc/meminfo
  echo; echo "== df -h /tmp /dev/shm $HERE"; df -h /tmp /dev/shm "$HERE" 2>&1
  echo; echo "== mounts (tmp, shm, proc, sys)"; grep -E ' /(tmp|dev/shm|proc|sys|dev)[ /]' /proc/mounts 2>&1 | head -20
  echo; echo "== ulimit -a"; ulimit -a 2>&1
  echo; echo "== tools"
  for t in xz zstd python3 sort timeout numfmt split cmp tar gzip mpirun ompi_info; do
    printf '%-9s %s\n' "$t" "$(command -v "$t" || echo MISSING)"
  done
  python3 --version 2>&1; sort --version 2>&1 | head -1
  echo; echo "== /sys/devices/system/cpu (what hwloc sees)"; ls /sys/devices/system/cpu 2>&1 | head -30 | tr '\n' ' '; echo
  echo "cpu0 topology: $(ls /sys/devices/system/cpu/cpu0/topology 2>&1 | tr '\n' ' ')"
  echo "network interfaces: $(ls /sys/class/net 2>&1 | tr '\n' ' ')  $(cat /proc/net/dev 2>/dev/null | awk -F: 'NR>2 {printf "%s ", $1}')"
} > "$OUT/env.txt" 2>&1
log "run.sh: OUT=$OUT SIZE=$SIZE TERA_SIZE=$TERA_SIZE RANKS=${RANKS[*]} REPS=$REPS TERA_REPS=$TERA_REPS GUARD_S=$GUARD_S HARD_S=$HARD_S JOBS=$JOBS"
fact _run started "$(date -u +%FT%TZ)"
fact _run nproc "$(nproc)"
fact _run cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
fact _run knobs "SIZE=$SIZE TERA_SIZE=$TERA_SIZE RANKS=${RANKS[*]} REPS=$REPS WC_HAND_REPS=$WC_HAND_REPS TERA_REPS=$TERA_REPS GUARD_S=$GUARD_S HARD_S=$HARD_S"

# ------------------------------------------------------------------ finish (always)
FINISHED=0
finish() {
  (( FINISHED )) && return; FINISHED=1
  log "finishing: tables and reports"
  fact _run ended "$(date -u +%FT%TZ) after $(elapsed) s"
  make_tables || log "table script failed (raw.tsv holds everything)"
  if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
    (cd "$WORK" && tar -czf "$OUT/reports.tar.gz" --ignore-failed-read reports logs sanity 2>/dev/null) ||
      log "tar of reports failed"
    cp "$RAW" "$WORK/reports/" 2>/dev/null
    if [ "$KEEP" = 1 ]; then log "KEEP=1: $WORK left in place"; else rm -rf "$WORK"; fi
  fi
  log "done in $(elapsed) s; results: $(ls "$OUT" | tr '\n' ' ')"
}
trap finish EXIT
trap 'log "interrupted"; exit 130' INT TERM

make_tables() {
  command -v python3 >/dev/null || { log "no python3: only raw.tsv"; return 1; }
  python3 - "$RAW" "$OUT" "${WORK:-/nonexistent}" <<'PY'
import json, os, statistics, sys
raw, out, work = sys.argv[1:4]
facts, runs, fails = {}, [], []
for line in open(raw, encoding="utf-8", errors="replace"):
    f = line.rstrip("\n").split("\t")
    if f[0] == "fact" and len(f) >= 4:
        facts.setdefault(f[1], {})[f[2]] = "\t".join(f[3:])
    elif f[0] == "time":   # time JOB RUNNER RANKS REP SECS BYTES CHECK REPORT
        runs.append(dict(job=f[1], runner=f[2], ranks=f[3], rep=int(f[4]), secs=float(f[5]),
                         bytes=int(f[6]), check=f[7], report=f[8]))
    elif f[0] == "fail":   # fail JOB RUNNER RANKS REP WHY
        fails.append(dict(job=f[1], runner=f[2], ranks=f[3], rep=f[4], why="\t".join(f[5:])))

def report(path):
    try:
        return json.load(open(os.path.join(work, "reports", path)))
    except Exception:
        return None

groups = {}
for r in runs:
    groups.setdefault((r["job"], r["runner"], r["ranks"]), []).append(r)
med = {k: statistics.median([r["secs"] for r in v]) for k, v in groups.items()}
baseline_of = {"wordcount": ("wordcount", "wc_hand", "-"), "terasort": ("terasort", "gnu-sort", "-")}
rows = []
def rank_key(k):
    order = {"wordcount": 0, "terasort": 1, "teragen": 2, "teravalidate": 3}
    return (order.get(k[0], 9), k[1] != "sluice", int(k[2]) if k[2].isdigit() else 0)
for key in sorted(groups, key=rank_key):
    job, runner, ranks = key
    g = groups[key]
    m = med[key]
    row = dict(job=job, runner=runner, ranks=ranks, reps=len(g), times=[r["secs"] for r in g],
               median_s=round(m, 3), mb_per_s=round(g[0]["bytes"] / 1e6 / m, 1) if m > 0 else None,
               checks=sorted(set(r["check"] for r in g)))
    if runner == "sluice" and ranks.isdigit():
        one = med.get((job, "sluice", "1"))
        if one:
            row["speedup"] = round(one / m, 2)
            row["efficiency"] = round(one / m / int(ranks), 2)
        b = baseline_of.get(job)
        if b and b in med:
            row["vs_baseline"] = round(med[b] / m, 2)   # >1: Sluice faster
            row["baseline"] = b[1]
        per_run = []
        for r in g:
            rep = report(r["report"]) if r["report"] != "-" else None
            if not rep:
                continue
            pr = rep.get("per_rank", [])
            per_run.append(dict(
                rep=r["rep"], wall_s=r["secs"], report_total_s=rep.get("seconds", {}).get("total"),
                map_s=[x.get("map_seconds") for x in pr], reduce_s=[x.get("reduce_seconds") for x in pr],
                peak_rss_mib=[round(x.get("peak_rss_bytes", 0) / 2**20) for x in pr],
                spill_runs=rep.get("counters", {}).get("spill_runs"),
                map_tasks_reused=rep.get("resume", {}).get("map_tasks_reused")))
        row["runs"] = per_run
        if per_run:
            row["report_total_s_median"] = statistics.median([p["report_total_s"] or 0 for p in per_run])
            row["map_s_max_median"] = statistics.median([max(p["map_s"] or [0]) for p in per_run])
            row["reduce_s_max_median"] = statistics.median([max(p["reduce_s"] or [0]) for p in per_run])
            row["peak_rss_mib_max"] = max(max(p["peak_rss_mib"] or [0]) for p in per_run)
    rows.append(row)
json.dump(dict(facts=facts, rows=rows, failures=fails), open(os.path.join(out, "scaling.json"), "w"), indent=1)

def fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"
L = []
run = facts.get("_run", {})
L.append("Sluice scaling run (.devbundle/run.sh): %s, %s cores, %s" % (run.get("started", "?"), run.get("nproc", "?"), run.get("cpu", "?")))
L.append("knobs: " + run.get("knobs", "?"))
L.append("mpirun: " + run.get("mpirun", "?") + "   binaries run: " + run.get("exec_mode", "?"))
for job in ("wordcount", "terasort"):
    if job in facts:
        L.append("%s: %s" % (job, "; ".join("%s=%s" % kv for kv in facts[job].items())))
L.append("seconds: wall clock (mpirun start to exit), median over reps; speedup = 1-rank median / this median;")
L.append("efficiency = speedup / ranks; vs base = baseline median / this median (>1: Sluice faster;")
L.append("wordcount vs wc_hand, 1 thread; terasort vs GNU sort --parallel=nproc); map/red = max over ranks")
L.append("of per-rank map/reduce seconds (report), median over reps; check: output correctness")
L.append("")
L.append("%-13s %-8s %5s %4s %8s %8s %7s %5s %7s %6s %6s %6s %7s  %s" % (
    "job", "runner", "ranks", "reps", "median s", "MB/s", "speedup", "eff", "vs base", "map s", "red s", "rep s", "RSS MiB", "check"))
L.append("-" * 118)
for r in rows:
    L.append("%-13s %-8s %5s %4d %8.2f %8s %7s %5s %7s %6s %6s %6s %7s  %s" % (
        r["job"], r["runner"], r["ranks"], r["reps"], r["median_s"], fmt(r.get("mb_per_s"), ".1f"),
        fmt(r.get("speedup"), ".2f"), fmt(r.get("efficiency"), ".2f"), fmt(r.get("vs_baseline"), ".2f"),
        fmt(r.get("map_s_max_median"), ".2f"), fmt(r.get("reduce_s_max_median"), ".2f"),
        fmt(r.get("report_total_s_median"), ".2f"), fmt(r.get("peak_rss_mib_max"), "d"), ",".join(r["checks"])))
if fails:
    L.append("")
    L.append("FAILED / SKIPPED rows:")
    for f in fails:
        L.append("  %s %s ranks=%s rep=%s: %s" % (f["job"], f["runner"], f["ranks"], f["rep"], f["why"]))
open(os.path.join(out, "scaling.txt"), "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
}

# ------------------------------------------------------------------ (b) paths
bytes_of() { numfmt --from=iec "$1"; }
SIZE_B=$(bytes_of "$SIZE") || { log "bad SIZE=$SIZE"; exit 2; }
TERA_B=$(bytes_of "$TERA_SIZE") || { log "bad TERA_SIZE=$TERA_SIZE"; exit 2; }
NEED=$(( 1 << 30 ))
want wc && NEED=$(( NEED + SIZE_B * 2 ))
want tera && NEED=$(( NEED + TERA_B * 3 ))
avail_of() { df -PB1 "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; }
if [ -z "${WORK:-}" ]; then
  best=; best_av=0
  for d in /dev/shm /tmp "$HERE"; do
    [ -d "$d" ] && [ -w "$d" ] || continue
    av=$(avail_of "$d"); av=${av:-0}
    (( av > best_av )) && { best=$d; best_av=$av; }
  done
  [ -n "$best" ] || { log "no writable /dev/shm, /tmp or $HERE"; exit 1; }
  WORK=$best/sluice-devbundle.$$
fi
mkdir -p "$WORK"/{reports,logs,sanity,scratch} || { log "cannot make $WORK"; exit 1; }
AV=$(avail_of "$WORK")
log "WORK=$WORK: $(( ${AV:-0} >> 20 )) MiB free, this run needs about $(( NEED >> 20 )) MiB"
fact _run work "$WORK (free $(( ${AV:-0} >> 20 )) MiB, need ~$(( NEED >> 20 )) MiB)"
(( ${AV:-0} >= NEED )) || log "WARNING: WORK may be too small; set WORK=... or smaller SIZE/TERA_SIZE"
SCRATCH=$WORK/scratch

# unpack: tar -xJ if xz is here, else Python's tarfile/lzma
t0=$(now)
if xz --version > /dev/null 2>&1 && tar -xJf "$HERE/runtime.tar.xz" -C "$WORK" 2>>"$LOG"; then :
else
  python3 - "$HERE/runtime.tar.xz" "$WORK" <<'PY' || { log "cannot unpack runtime.tar.xz"; exit 1; }
import sys, tarfile
t = tarfile.open(sys.argv[1])
try:
    t.extractall(sys.argv[2], filter="fully_trusted")
except TypeError:
    t.extractall(sys.argv[2])
PY
fi
RT=$WORK/rt
log "runtime unpacked to $RT in $(secs $(( $(now) - t0 ))) s"

# Open MPI and PMIx, relocated: every install dir by its own variable
export OPAL_PREFIX=$RT/ompi OPAL_EXEC_PREFIX=$RT/ompi OPAL_BINDIR=$RT/ompi/bin OPAL_SBINDIR=$RT/ompi/bin
export OPAL_LIBDIR=$RT/lib OPAL_PKGLIBDIR=$RT/ompi/lib/openmpi3 OPAL_LIBEXECDIR=$RT/ompi/libexec
export OPAL_DATAROOTDIR=$RT/ompi/share OPAL_DATADIR=$RT/ompi/share OPAL_PKGDATADIR=$RT/ompi/share/openmpi
export OPAL_SYSCONFDIR=$RT/ompi/etc OPAL_INCLUDEDIR=$RT/ompi/include OPAL_PKGINCLUDEDIR=$RT/ompi/include
export OPAL_LOCALSTATEDIR=$RT/ompi/var OPAL_SHAREDSTATEDIR=$RT/ompi/com OPAL_MANDIR=$RT/ompi/man OPAL_INFODIR=$RT/ompi/info
export PMIX_PREFIX=$RT/pmix PMIX_EXEC_PREFIX=$RT/pmix PMIX_LIBDIR=$RT/lib PMIX_PKGLIBDIR=$RT/pmix/lib/pmix
export PMIX_LIBEXECDIR=$RT/pmix/libexec PMIX_DATAROOTDIR=$RT/pmix/share PMIX_DATADIR=$RT/pmix/share
export PMIX_PKGDATADIR=$RT/pmix/share/pmix PMIX_SYSCONFDIR=$RT/pmix/etc PMIX_PKGINCLUDEDIR=$RT/pmix/include
export PMIX_MCA_mca_base_component_path=$RT/pmix/lib/pmix
export OMPI_MCA_mca_base_component_path=$RT/ompi/lib/openmpi3
# PMIx's shared-memory data store is the part most likely to trip on a
# sandboxed kernel: the plain hash store instead (a start-up cost only).
export PMIX_MCA_gds=hash
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# hwloc (Debian 2.9) would dlopen plugins from its build-time path
# /usr/lib/x86_64-linux-gnu/hwloc: on the target absent, or another
# hwloc's. An empty plugin dir instead: the same on every machine.
mkdir -p "$RT/hwloc-plugins"; export HWLOC_PLUGINS_PATH=$RT/hwloc-plugins
unset OMPI_MCA_btl OMPI_MCA_pml 2>/dev/null || true

# How to start a binary: the target's own glibc with our libraries
# (LD_LIBRARY_PATH), else Debian's loader and glibc from the bundle.
# Wrappers in $RT/wbin hide which; nothing else sees LD_LIBRARY_PATH.
W=$RT/wbin
mkdir -p "$W"
make_wrappers() {  # make_wrappers plain|loader
  local n target
  for n in wordcount terasort teragen teravalidate sluice orterun ompi_info orted; do
    target=$RT/bin/$n; [ -x "$target" ] || target=$RT/ompi/bin/$n; [ -x "$target" ] || continue
    if [ "$1" = plain ]; then
      printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' "$RT/lib" "$target" > "$W/$n"
    else
      printf '#!/bin/sh\nexec %s --library-path %s %s "$@"\n' "$RT/glibc/ld-linux-x86-64.so.2" "$RT/glibc:$RT/lib" "$target" > "$W/$n"
    fi
    chmod +x "$W/$n"
  done
  ln -sf orterun "$W/mpirun"
}
EXEC_MODE=
for mode in ${EXEC_MODES:-plain loader}; do
  make_wrappers "$mode"
  if "$W/wordcount" --help > "$WORK/sanity/help-$mode.txt" 2>&1 && "$W/ompi_info" --version > "$WORK/sanity/ompi_info-$mode.txt" 2>&1; then
    EXEC_MODE=$mode; break
  fi
  log "binaries do not start in $mode mode: $(head -c 300 "$WORK/sanity/help-$mode.txt" "$WORK/sanity/ompi_info-$mode.txt" | tr '\n' ' ')"
done
[ -n "$EXEC_MODE" ] || { log "FATAL: the bundled binaries start in neither mode"; fact _run exec_mode none; exit 1; }
fact _run exec_mode "$EXEC_MODE"
log "binaries start in $EXEC_MODE mode ($(head -1 "$WORK/sanity/ompi_info-$EXEC_MODE.txt"))"
{
  echo; echo "== bundle exec mode: $EXEC_MODE"
  if [ "$EXEC_MODE" = plain ]; then echo "== ldd wordcount with LD_LIBRARY_PATH=$RT/lib"; LD_LIBRARY_PATH=$RT/lib ldd "$RT/bin/wordcount" 2>&1; fi
  echo "== ompi_info --path all (relocated)"; "$W/ompi_info" --path all 2>&1
  echo "== ompi_info: components that load"; "$W/ompi_info" 2>&1 | grep -E 'MCA (btl|pml|shmem|pmix|ess|plm|odls|oob|rmaps)' | head -40
} >> "$OUT/env.txt" 2>&1

# ------------------------------------------------------------------ (c) MPI sanity
printf 'hello\n' > "$WORK/sanity/in.txt"   # the 6-byte job
COMMON=(--allow-run-as-root --oversubscribe)
CANDIDATES=(
  "--mca pml ob1 --mca btl self,vader --mca btl_vader_single_copy_mechanism none"
  "--mca pml ob1 --mca btl self,vader --mca btl_vader_single_copy_mechanism none --mca btl_vader_backing_directory /tmp --mca oob_tcp_if_include lo"
  "--mca pml ob1 --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo"
)
if [ -n "${MCA:-}" ]; then IFS=';' read -r -a CANDIDATES <<< "$MCA"; fi
# tiny_job NAME NP ARGS...: the 6-byte WordCount; 0 when its output is right
tiny_job() {
  local name=$1 np=$2; shift 2
  local o=$WORK/sanity/out-$name
  rm -rf "$o"
  local cmd=("$W/wordcount")
  (( np > 1 )) && cmd=("$W/mpirun" "$@" -np "$np" "$W/wordcount")
  echo "+ ${cmd[*]}" > "$WORK/sanity/$name.log"
  timeout -k 5 30 "${cmd[@]}" --input "$WORK/sanity/in.txt" --output "$o" --overwrite >> "$WORK/sanity/$name.log" 2>&1 &&
    [ "$(cat "$o"/part-* 2>/dev/null)" = "$(printf 'hello\t1')" ]
}
MPI_OK=0
if tiny_job plain-1 1; then log "sanity: 1 rank (plain process): ok"
else log "sanity: 1 rank (plain process) FAILED: $(tail -n 3 "$WORK/sanity/plain-1.log" | tr '\n' ' ')"; fi
# A candidate must run the tiny job at 2 ranks and at the largest rank count
# (shared-memory segments grow with the rank count: a small /dev/shm passes
# at 2 and fails at 16). One that only manages 2 ranks is the last resort.
i=0; PARTIAL=
for cand in "${CANDIDATES[@]}"; do
  i=$(( i + 1 ))
  read -r -a MCA_ARGS <<< "$cand"
  t0=$(now)
  if ! tiny_job "mca$i" 2 "${COMMON[@]}" --bind-to none "${MCA_ARGS[@]}"; then
    log "sanity: 2 ranks with [$cand] FAILED (rc or output): $(grep -v '^\s*$' "$WORK/sanity/mca$i.log" | tail -n 4 | tr '\n' ' ' | cut -c1-600)"
    continue
  fi
  log "sanity: 2 ranks with [$cand]: ok in $(secs $(( $(now) - t0 ))) s"
  if (( MAXR > 2 )); then
    t0=$(now)
    if ! tiny_job "mca$i-max" "$MAXR" "${COMMON[@]}" --bind-to none "${MCA_ARGS[@]}"; then
      log "sanity: $MAXR ranks with [$cand] FAILED: $(grep -v '^\s*$' "$WORK/sanity/mca$i-max.log" | tail -n 4 | tr '\n' ' ' | cut -c1-600)"
      [ -n "$PARTIAL" ] || PARTIAL=$cand
      continue
    fi
    log "sanity: $MAXR ranks with [$cand]: ok in $(secs $(( $(now) - t0 ))) s"
  fi
  MPI_OK=1; break
done
if (( ! MPI_OK )) && [ -n "$PARTIAL" ]; then
  cand=$PARTIAL; read -r -a MCA_ARGS <<< "$cand"; MPI_OK=1
  log "sanity: no candidate works at $MAXR ranks; using [$cand], which works at 2"
fi
BINDING=none
if (( MPI_OK )); then
  fact _run mca "$cand"
  if [ "$BIND" = core ] || { [ "$BIND" = auto ] && (( MAXR > 1 )); }; then
    if tiny_job bind "$MAXR" "${COMMON[@]}" --bind-to core "${MCA_ARGS[@]}"; then BINDING=core
    else log "sanity: --bind-to core at $MAXR ranks failed, so --bind-to none: $(grep -v '^\s*$' "$WORK/sanity/bind.log" | tail -n 3 | tr '\n' ' ' | cut -c1-400)"; fi
  fi
else
  MCA_ARGS=()
  log "no MPI transport works: multi-rank rows are skipped"
  fact _run mca "none works"
fi
MPIRUN=("$W/mpirun" "${COMMON[@]}" --bind-to "$BINDING" ${MCA_ARGS[@]+"${MCA_ARGS[@]}"})
fact _run mpirun "mpirun ${COMMON[*]} --bind-to $BINDING ${MCA_ARGS[*]:-} -np N"
log "mpirun: ${MPIRUN[*]:1} -np N"

# ------------------------------------------------------------------ runners
split_size() {  # as scripts/bench: ~16 map tasks for small inputs, at most 64M
  local split=$(( $1 / 16 >> 20 << 20 ))
  (( split >= 1 << 20 )) || split=$(( 1 << 20 ))
  (( split <= 64 << 20 )) || split=$(( 64 << 20 ))
  echo "$split"
}
declare -A LAST   # "job:runner:ranks" -> seconds of its last good run
estimate() {      # estimate JOB RUNNER RANKS
  local k=$1:$2:$3
  if [ -n "${LAST[$k]:-}" ]; then echo "${LAST[$k]}"
  elif [ -n "${LAST[$1:$2:1]:-}" ] && [[ $3 =~ ^[0-9]+$ ]]; then echo $(( ${LAST[$1:$2:1]} / $3 ))
  else echo 0; fi
}
# sluice_run JOB RANKS REP OUTDIR BYTES ARGS...: one timed run; sets RUN_SECS.
# Returns 1 on failure or skip (recorded).
sluice_run() {
  local job=$1 ranks=$2 rep=$3 o=$4 bytes=$5; shift 5
  local name=$job-r$ranks-$rep log=$WORK/logs/$job-r$ranks-$rep.log
  if (( ranks > 1 )) && (( ! MPI_OK )); then rec fail "$job" sluice "$ranks" "$rep" "skipped: no MPI transport"; return 1; fi
  local est; est=$(estimate "$job" sluice "$ranks")
  if ! can_start "$est"; then
    rec fail "$job" sluice "$ranks" "$rep" "skipped by the time guard at $(elapsed) s (estimate $est s)"
    log "  skip $name: time guard (at $(elapsed) s, estimate $est s)"; return 1
  fi
  local cmd=("$W/$job")
  (( ranks > 1 )) && cmd=("${MPIRUN[@]}" -np "$ranks" "$W/$job")
  rm -rf "$o"
  sync
  local t0 t1 rc=0
  t0=$(now)
  timeout -k 5 "$(row_timeout)" "${cmd[@]}" "$@" --output "$o" --overwrite --scratch "$SCRATCH" > "$log" 2>&1 || rc=$?
  t1=$(now)
  RUN_SECS=$(secs $(( t1 - t0 )))
  if [ "$rc" != 0 ] || [ ! -f "$o/_SUCCESS" ]; then
    local why="exit $rc"; [ "$rc" = 124 ] || [ "$rc" = 137 ] && why="killed by the time limit (exit $rc)"
    rec fail "$job" sluice "$ranks" "$rep" "$why after $RUN_SECS s; log logs/$name.log: $({ grep -m 2 -i 'error\|sluice:' "$log" || tail -n 2 "$log"; } | tr '\n\t' '  ' | cut -c1-300)"
    log "  FAILED $name: $why after $RUN_SECS s (see logs/$name.log)"; return 1
  fi
  cp "$o/_report.json" "$WORK/reports/$name.json" 2>/dev/null
  LAST[$job:sluice:$ranks]=${RUN_SECS%.*}
  return 0
}
# same_parts DIR_A DIR_B: yes when the same part files hold the same bytes
same_parts() {
  local a b
  a=$(cd "$1" && ls part-* 2>/dev/null | tr '\n' ' '); b=$(cd "$2" && ls part-* 2>/dev/null | tr '\n' ' ')
  [ -n "$a" ] && [ "$a" = "$b" ] || { echo NO; return; }
  for p in "$1"/part-*; do cmp -s "$p" "$2/${p##*/}" || { echo NO; return; }; done
  echo yes
}
same_lines() {  # same_lines A B: the same lines in any order
  if cmp -s <(LC_ALL=C sort -S 10% --parallel=4 "$1") <(LC_ALL=C sort -S 10% --parallel=4 "$2"); then echo yes; else echo NO; fi
}

# ------------------------------------------------------------------ (d) WordCount
CORPUS=$WORK/corpus
WC_REF=            # first good Sluice output: every other run must equal it
WC_HAND_TSV=$WORK/wc_hand.tsv
WC_HAND_OK=0
WC_REF_VS_HAND=
make_corpus() {
  local t0; t0=$(now)
  mkdir -p "$CORPUS"
  local slice=$WORK/slice.txt
  if ! { xz --version > /dev/null 2>&1 && xz -dc "$HERE/text.xz" > "$slice"; }; then
    log "xz not usable here: decompressing the text with Python's lzma"
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer, 1<<22)' "$HERE/text.xz" > "$slice" || return 1
  fi
  local sb; sb=$(stat -c %s "$slice")
  (( sb > 0 )) || return 1
  [ "$(tail -c 1 "$slice" | od -An -c | tr -d ' ')" = '\n' ] || echo >> "$slice"
  local whole=$WORK/whole.txt
  if (( SIZE_B <= sb )); then head -c "$SIZE_B" "$slice" > "$whole"
  else { while cat "$slice"; do :; done; } 2>/dev/null | head -c "$SIZE_B" > "$whole"; fi
  rm -f "$slice"
  if [ "$(tail -c 1 "$whole" | od -An -c | tr -d ' ')" != '\n' ]; then
    local partial; partial=$(tail -c 1048576 "$whole" | sed -n '$p' | wc -c)
    truncate -s $(( $(stat -c %s "$whole") - partial )) "$whole"
  fi
  split -n l/16 -d -a 2 --additional-suffix=.txt "$whole" "$CORPUS/gcc-" || return 1
  rm -f "$whole"
  WC_BYTES=$(cat "$CORPUS"/*.txt | wc -c)
  log "corpus: $WC_BYTES bytes in 16 files from a $sb-byte slice ($(( (WC_BYTES + sb - 1) / sb )) passes) in $(secs $(( $(now) - t0 ))) s"
  fact wordcount input "$WC_BYTES bytes, 16 files, the $sb-byte text slice repeated ($(grep -m1 '^wc_hand' "$HERE/text.meta" 2>/dev/null | sed 's/.*unique=/slice distinct words /'))"
}
wc_hand_run() {  # wc_hand_run REP
  local rep=$1 est; est=$(estimate wordcount wc_hand -)
  if ! can_start "$est"; then rec fail wordcount wc_hand - "$rep" "skipped by the time guard at $(elapsed) s"; return 1; fi
  sync
  local t0 t1 rc=0
  t0=$(now)
  timeout -k 5 "$(row_timeout)" "$RT/bin/wc_hand" "$WC_HAND_TSV.tmp" "$CORPUS"/*.txt > "$WORK/logs/wc_hand-$rep.log" 2>&1 || rc=$?
  t1=$(now)
  local s; s=$(secs $(( t1 - t0 )))
  if [ "$rc" != 0 ]; then
    rec fail wordcount wc_hand - "$rep" "exit $rc after $s s: $(tail -n 2 "$WORK/logs/wc_hand-$rep.log" | tr '\n' ' ')"
    log "  FAILED wc_hand rep $rep (exit $rc)"; return 1
  fi
  mv "$WC_HAND_TSV.tmp" "$WC_HAND_TSV"; WC_HAND_OK=1
  LAST[wordcount:wc_hand:-]=${s%.*}
  rec time wordcount wc_hand - "$rep" "$s" "$WC_BYTES" "-" "-"
  log "  wordcount wc_hand        rep $rep  $s s  ($(tail -n 1 "$WORK/logs/wc_hand-$rep.log"))"
  [ "$rep" = 1 ] && fact wordcount wc_hand "$(tail -n 1 "$WORK/logs/wc_hand-$rep.log")"
}
# keep_or_compare REF_VAR OUT: the first good output of a job becomes its
# reference (REF_VAR names the variable that holds its folder, set here);
# every later one is compared with it byte for byte, then removed. Sets
# CHECK to "ref" or "identical=yes|NO".
keep_or_compare() {
  local -n ref=$1
  if [ -z "$ref" ]; then
    ref=$(dirname "$2")/ref; rm -rf "$ref"; mv "$2" "$ref"
    CHECK=ref
  else
    CHECK="identical=$(same_parts "$ref" "$2")"
    rm -rf "$2"
  fi
}
wc_row() {  # wc_row RANKS REP
  local ranks=$1 rep=$2 o=$WORK/wc-out/r$1
  mkdir -p "$WORK/wc-out"
  sluice_run wordcount "$ranks" "$rep" "$o" "$WC_BYTES" --input "$CORPUS" --split-size "$(split_size "$WC_BYTES")" || return 1
  keep_or_compare WC_REF "$o"
  local check=$CHECK
  rec time wordcount sluice "$ranks" "$rep" "$RUN_SECS" "$WC_BYTES" "$check" "wordcount-r$ranks-$rep.json"
  log "  wordcount sluice  $ranks rank(s) rep $rep  $RUN_SECS s  $check"
}
check_wc_ref() {  # the reference output against wc_hand's counts, once
  [ -n "$WC_REF" ] && (( WC_HAND_OK )) && [ -z "$WC_REF_VS_HAND" ] || return 0
  local t0; t0=$(now)
  cat "$WC_REF"/part-* > "$WORK/sluice.tsv"
  WC_REF_VS_HAND=$(same_lines "$WORK/sluice.tsv" "$WC_HAND_TSV")
  fact wordcount correct_vs_wc_hand "$WC_REF_VS_HAND"
  fact wordcount distinct_words "$(wc -l < "$WORK/sluice.tsv")"
  rm -f "$WORK/sluice.tsv"
  log "  wordcount: Sluice's counts equal wc_hand's: $WC_REF_VS_HAND (checked in $(secs $(( $(now) - t0 ))) s)"
}
wc_rep() {  # wc_rep REP
  local rep=$1 ranks
  if (( rep <= WC_HAND_REPS )); then wc_hand_run "$rep"; fi
  if (( rep <= REPS )); then for ranks in "${RANKS[@]}"; do wc_row "$ranks" "$rep"; done; fi
  check_wc_ref
}

# ------------------------------------------------------------------ (e) TeraSort
TERA=$WORK/tera-in
TS_REF=
TERA_READY=0
GNU_MD5=
teragen_once() {
  local rows=$(( TERA_B / 100 )) np=$MAXR
  (( MPI_OK )) || np=1
  local cmd=("$W/teragen"); (( np > 1 )) && cmd=("${MPIRUN[@]}" -np "$np" "$W/teragen")
  local t0 t1 rc=0
  t0=$(now)
  timeout -k 5 "$(row_timeout)" "${cmd[@]}" "$rows" "$TERA" --overwrite -q > "$WORK/logs/teragen.log" 2>&1 || rc=$?
  t1=$(now)
  local s; s=$(secs $(( t1 - t0 )))
  if [ "$rc" != 0 ]; then
    rec fail teragen sluice "$np" 1 "exit $rc after $s s: $(tail -n 3 "$WORK/logs/teragen.log" | tr '\n' ' ' | cut -c1-300)"
    log "  FAILED teragen (exit $rc)"; return 1
  fi
  TERA_BYTES=$(find "$TERA" -type f -name 'part-*' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
  rec time teragen sluice "$np" 1 "$s" "$TERA_BYTES" "-" "-"
  log "  teragen $rows rows at $np rank(s): $TERA_BYTES bytes in $s s"
  # the input's count and checksum, for teravalidate of the sorted output
  validate "$TERA" "$WORK/tera-check-in" in || return 1
  TERA_RECORDS=$V_RECORDS; TERA_CHECKSUM=$V_CHECKSUM
  fact terasort input "$TERA_BYTES bytes, $TERA_RECORDS records (teragen $rows rows, $np ranks)"
  TERA_READY=1
}
validate() {  # validate DIR CHECKDIR TAG: sets V_RECORDS V_CHECKSUM V_MISORDERED
  local np=$MAXR; (( MPI_OK )) || np=1
  local cmd=("$W/teravalidate"); (( np > 1 )) && cmd=("${MPIRUN[@]}" -np "$np" "$W/teravalidate")
  local t0 rc=0; t0=$(now)
  timeout -k 5 "$(row_timeout)" "${cmd[@]}" "$1" "$2" --overwrite -q > "$WORK/logs/teravalidate-$3.log" 2>&1 || rc=$?
  local s; s=$(secs $(( $(now) - t0 )))
  if [ "$rc" != 0 ]; then rec fail teravalidate sluice "$np" 1 "$3: exit $rc after $s s"; log "  FAILED teravalidate $3 (exit $rc)"; return 1; fi
  V_RECORDS=$(awk -F'\t' '$1 == "records" { print $2 }' "$2"/part-*)
  V_CHECKSUM=$(awk -F'\t' '$1 == "checksum" { print $2 }' "$2"/part-*)
  V_MISORDERED=$(awk -F'\t' '$1 == "misordered" { print $2 }' "$2"/part-*)
  rec time teravalidate sluice "$np" 1 "$s" "${TERA_BYTES:-0}" "$3" "-"
  log "  teravalidate $3 at $np rank(s): records $V_RECORDS, checksum $V_CHECKSUM, misordered $V_MISORDERED ($s s)"
  rm -rf "$2"
}
ts_row() {  # ts_row RANKS REP
  local ranks=$1 rep=$2 o=$WORK/ts-out/r$1
  mkdir -p "$WORK/ts-out"
  # in memory: twice the rank's share of the data (as the suite's in-memory
  # TeraSort), at least 2 GiB: a partition is reduced in memory when it fits
  # the sort share (a quarter of --memory), and at 16 ranks of 4 GiB one
  # partition (256 MiB plus its record index) overran 1 GiB's share and
  # spilled (bench-results/scaling-16core.txt)
  local mem=$(( TERA_BYTES * 2 / ranks )); (( mem >= 2 << 30 )) || mem=$(( 2 << 30 ))
  sluice_run terasort "$ranks" "$rep" "$o" "$TERA_BYTES" --input "$TERA" --memory "$(( mem >> 20 ))M" \
    --split-size "$(split_size "$TERA_BYTES")" || return 1
  keep_or_compare TS_REF "$o"
  local check=$CHECK
  if [ "$check" = ref ] && validate "$TS_REF" "$WORK/tera-check-out" out; then
    local v=yes
    [ "$V_RECORDS" = "$TERA_RECORDS" ] && [ "$V_CHECKSUM" = "$TERA_CHECKSUM" ] && [ "$V_MISORDERED" = 0 ] || v=NO
    fact terasort teravalidate "$v (records $V_RECORDS/$TERA_RECORDS, checksum $V_CHECKSUM/$TERA_CHECKSUM, misordered $V_MISORDERED; output of $ranks rank(s))"
    check="ref,teravalidate=$v"
  fi
  rec time terasort sluice "$ranks" "$rep" "$RUN_SECS" "$TERA_BYTES" "$check" "terasort-r$ranks-$rep.json"
  log "  terasort sluice   $ranks rank(s) rep $rep  $RUN_SECS s  $check"
}
ts_rep() {
  local rep=$1 ranks
  if (( ! TERA_READY )); then
    (( rep == 1 )) || return 0
    can_start 30 || { rec fail teragen sluice - 1 "skipped by the time guard"; return 0; }
    teragen_once || return 0
  fi
  (( rep <= TERA_REPS )) || return 0
  for ranks in "${RANKS[@]}"; do ts_row "$ranks" "$rep"; done
}
GNU_DONE=0
gnu_sort() {
  [ "$GNU_SORT" = no ] || (( GNU_DONE )) && return 0
  GNU_DONE=1
  log "== GNU sort"
  (( TERA_READY )) || return 0
  local est; est=$(estimate terasort sluice 1); (( est > 0 )) || est=60
  if ! can_start "$est"; then rec fail terasort gnu-sort - 1 "skipped by the time guard at $(elapsed) s"; log "  skip GNU sort: time guard"; return 0; fi
  local memk; memk=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo)
  local smem=$(( 8 << 30 )); (( memk * 1024 / 4 < smem )) && smem=$(( memk * 1024 / 4 ))
  local t0 rc=0; t0=$(now)
  LC_ALL=C timeout -k 5 "$(row_timeout)" sort --parallel="$(nproc)" -S "${smem}b" -T "$SCRATCH" \
    -o "$WORK/gnu-sorted" "$TERA"/part-* > "$WORK/logs/gnu-sort.log" 2>&1 || rc=$?
  local s; s=$(secs $(( $(now) - t0 )))
  if [ "$rc" != 0 ]; then rec fail terasort gnu-sort - 1 "exit $rc after $s s"; log "  FAILED GNU sort (exit $rc)"; rm -f "$WORK/gnu-sorted"; return 0; fi
  local same=n/a
  if [ -n "$TS_REF" ]; then
    if cmp -s <(cat "$TS_REF"/part-*) "$WORK/gnu-sorted"; then same=yes; else same=NO; fi
  fi
  rm -f "$WORK/gnu-sorted"
  rec time terasort gnu-sort - 1 "$s" "$TERA_BYTES" "same_bytes_as_sluice=$same" "-"
  fact terasort gnu_sort "LC_ALL=C sort --parallel=$(nproc) -S $(( smem >> 20 ))M; bytes equal Sluice's: $same"
  log "  terasort GNU sort  $s s  (bytes equal Sluice's: $same)"
}

# ------------------------------------------------------------------ main
WC_BYTES=0
if want wc; then make_corpus || { log "FAILED to make the corpus"; rec fail wordcount - - - "corpus not made"; JOBS=${JOBS//wc/}; }; fi
if want wc; then cat "$CORPUS"/*.txt > /dev/null; fi   # warm
if want wc; then log "== WordCount rep 1"; wc_rep 1; fi
if want tera; then log "== TeraSort rep 1"; ts_rep 1; fi
for (( rep = 2; rep <= REPS || rep <= TERA_REPS || rep <= WC_HAND_REPS; rep++ )); do
  if want wc; then log "== WordCount rep $rep"; wc_rep "$rep"; fi
  if (( rep == 2 )) && want tera; then gnu_sort; fi
  if want tera && (( rep <= TERA_REPS )); then log "== TeraSort rep $rep"; ts_rep "$rep"; fi
done
if want tera; then gnu_sort; fi
exit 0
