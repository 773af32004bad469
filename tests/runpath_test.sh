#!/usr/bin/env bash
# Fails if any ELF file under the given folders (and their subfolders) has a
# RUNPATH or RPATH entry that is empty, ".", or otherwise relative (not
# starting with "/" or "$ORIGIN"): the dynamic linker resolves those against
# the current directory, so a library dropped where someone runs the binary
# would be loaded into it. Names each offending file and entry.
#
#   tests/runpath_test.sh DIR...     (CTest: build/bin build/lib)
set -euo pipefail
if [ $# = 0 ]; then
  echo "usage: $0 DIR..." >&2
  exit 2
fi
command -v readelf >/dev/null || { echo "runpath_test: readelf not found (binutils)" >&2; exit 2; }

checked=0
bad=0
while IFS= read -r -d '' f; do
  # ELF only: the first four bytes are \x7fELF.
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' \n')" = '177ELF' ] || continue
  checked=$((checked + 1))
  while IFS= read -r line; do
    kind=$(sed -n 's/.*(\(RUNPATH\|RPATH\)).*/\1/p' <<<"$line")
    value=$(sed -n 's/.*path: \[\(.*\)\]$/\1/p' <<<"$line")
    # Split on ':' keeping empty entries (a leading, trailing or doubled ':').
    IFS=: read -r -a entries <<<"$value:"
    [ "${value}" = "" ] && entries=("")
    for e in "${entries[@]}"; do
      case "$e" in
        /* | '$ORIGIN' | '$ORIGIN/'* | '${ORIGIN}' | '${ORIGIN}/'*) ;;
        *)
          echo "runpath_test: $f: $kind [$value] has the entry '${e}'" \
               "(empty, '.' or relative: searched in the current directory)" >&2
          bad=$((bad + 1))
          ;;
      esac
    done
  done < <(readelf -d "$f" 2>/dev/null | grep -E '\((RUNPATH|RPATH)\)' || true)
done < <(find "$@" -type f -print0)

if [ "$checked" = 0 ]; then
  echo "runpath_test: no ELF files found under $*" >&2
  exit 1
fi
if [ "$bad" != 0 ]; then
  echo "runpath_test: FAILED: $bad bad RUNPATH/RPATH entries" >&2
  exit 1
fi
echo "runpath_test: ok: $checked ELF files, no empty, '.' or relative RUNPATH/RPATH entry"
