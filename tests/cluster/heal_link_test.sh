#!/usr/bin/env bash
# heal-link leaves a usable link: right after it returns, host 2 and host 1
# reach each other on the first try, even though host 2 kept sending while
# its link was cut (its ARP entry for host 1 is then INCOMPLETE or FAILED,
# with its probes lost). Before heal-link flushed the neighbour tables, the
# first connect after a heal failed with "No route to host".
set -euo pipefail
SIM=${SIM:-$(cd "$(dirname "$0")/../.." && pwd)/scripts/cluster-sim}   # SIM=...: another copy, to check an old one fails
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespaces)"; exit 77; }
if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then echo "skipped: no unshare/ip"; exit 77; fi
export SIM_SHARE=${SIM_SHARE:-/var/tmp}
NAME=hl$$
cleanup() { "$SIM" down "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 143' INT TERM
"$SIM" up "$NAME" --hosts 3 >/dev/null
SD=/run/sluice-sim/$NAME
ip_of() { awk -v i="$1" '$1 == i { print $3 }' "$SD/hosts"; }
# try_connect FROM TO: one TCP connect to port 1 (nothing listens): prints
# "reached" (refused: the round trip worked) or the error.
try_connect() {
  local err
  err=$(nsenter -t "$(cat "$SD/h$1.pid")" --net -- timeout 3 bash -c "exec 3<>/dev/tcp/$(ip_of "$2")/1" 2>&1) && { echo reached; return; }
  case $err in *refused*) echo reached ;; '') echo "no answer in 3 s" ;; *) echo "${err##*: }" ;; esac
}
FAILED=0
for round in 1 2 3; do
  "$SIM" cut-link "$NAME" 2
  # Host 2 keeps trying host 1 during the cut, as a cut-off orted does.
  ( while :; do try_connect 2 1 >/dev/null; done ) &
  talker=$!
  sleep 2.5
  kill "$talker"; wait "$talker" 2>/dev/null || true
  "$SIM" heal-link "$NAME" 2
  a=$(try_connect 2 1); b=$(try_connect 1 2)
  echo "round $round: right after heal-link, host 2 -> host 1: $a; host 1 -> host 2: $b"
  [ "$a" = reached ] && [ "$b" = reached ] || FAILED=1
done
[ "$FAILED" = 0 ] || { echo "heal_link_test: FAILED"; exit 1; }
echo "heal_link_test: passed"
