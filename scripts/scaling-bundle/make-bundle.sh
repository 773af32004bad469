#!/usr/bin/env bash
# Assembles the scaling bundle: a folder to copy, with the repository, to a
# many-core x86-64 Linux machine that has no Open MPI, compiler or network,
# where `OUT=DIR bash .devbundle/run.sh` runs WordCount (real text) and
# TeraSort at 1, 2, 4, 8 and 16 ranks (README.md beside this script).
#
#   scripts/scaling-bundle/make-bundle.sh     # after building build/bin
#
# Writes into BUNDLE_DIR (default REPO/.devbundle, git-ignored): run.sh and
# README.md from beside this script, and:
#   runtime.tar.xz  rt/: the job binaries from build/bin, wc_hand (compiled
#                   here), Debian 12's Open MPI 4.1 + PMIx runtime laid out
#                   for relocation, every shared library they need (rt/lib),
#                   and Debian's glibc + loader (rt/glibc, used only when the
#                   target's own glibc cannot run the binaries)
#   text.xz         a slice of the real-text stream (TEXT_MIB MiB, cut at a
#                   line end; made once: kept while text.meta matches)
#   text.meta       how the slice was made, its size, sha256, distinct words
#   MANIFEST.txt    what went in, library by library
# Knobs (environment):
#   BUILD_BIN=DIR       job binaries (default REPO/build/bin)
#   EXTRA_JOBS="sluice" more binaries from BUILD_BIN to bundle (default none)
#   TEXT_MIB=N          size of the text slice in MiB (default 256)
#   TEXT_SRC=DIR        a real-text corpus dir (gcc-NN.txt, in stream order);
#                       default: the largest data/bench/real-text-*/ whose
#                       .done says gcc-12-source and whose files are text;
#                       else the recipe of scripts/real-text-corpus from
#                       /usr/src/gcc-12 if that tarball is here
#   REDO_TEXT=1         remake text.xz even if text.meta matches
# CPU: xz runs single-threaded under nice -n 10 (the slice takes ~2 min once).
set -euo pipefail
SRC=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SRC/../.." && pwd)
HERE=${BUNDLE_DIR:-$REPO/.devbundle}
mkdir -p "$HERE"
cp "$SRC/run.sh" "$SRC/README.md" "$HERE/"
BUILD_BIN=${BUILD_BIN:-$REPO/build/bin}
JOBS=(wordcount terasort teragen teravalidate ${EXTRA_JOBS:-})
TEXT_MIB=${TEXT_MIB:-256}
WC_HAND_SRC=${WC_HAND_SRC:-$REPO/../shared/bench/wc_hand.cpp}
NICE=(nice -n 10)

die() { echo "make-bundle: $*" >&2; exit 1; }
for j in "${JOBS[@]}"; do [ -x "$BUILD_BIN/$j" ] || die "no $BUILD_BIN/$j (build it first)"; done
[ -f "$WC_HAND_SRC" ] || die "no $WC_HAND_SRC"
for t in g++ ldd xz tar sha256sum; do command -v "$t" >/dev/null || die "needs $t"; done

OMPI_PKGLIB=/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
PMIX_ROOT=/usr/lib/x86_64-linux-gnu/pmix2
[ -d "$OMPI_PKGLIB" ] || die "no $OMPI_PKGLIB (Debian's libopenmpi3)"
[ -d "$PMIX_ROOT" ] || die "no $PMIX_ROOT (Debian's libpmix2)"

STAGE=$(mktemp -d /tmp/devbundle-stage.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
RT=$STAGE/rt
mkdir -p "$RT"/{bin,lib,glibc} "$RT"/ompi/{bin,etc,lib/openmpi3,share} "$RT"/pmix/{lib/pmix,share,etc}

# ---- binaries
for j in "${JOBS[@]}"; do cp -p "$BUILD_BIN/$j" "$RT/bin/"; done
# wc_hand: scripts/bench builds it with `g++ -O3 -march=native`; the target
# is another CPU, so x86-64-v3 (AVX2, all the code's intrinsics need) and
# static (no library or glibc question at all).
"${NICE[@]}" g++ -O3 -march=x86-64-v3 -static -o "$RT/bin/wc_hand" "$WC_HAND_SRC"

# ---- Open MPI: orterun (mpirun), orted, ompi_info; MCA components; data
cp -p /usr/bin/orterun /usr/bin/orted /usr/bin/ompi_info "$RT/ompi/bin/"
ln -s orterun "$RT/ompi/bin/mpirun"
ln -s orterun "$RT/ompi/bin/mpiexec"
# Components needing libraries of network stacks a single node never uses
# (UCX, libfabric/OFI, verbs, PSM, netlink) or liboshmem (OpenSHMEM only)
# stay out; Debian's own config disables most of them anyway.
EXCLUDE='ucx|ofi|openib|psm|usnic|reachable_netlink|spml|sshmem|memheap|scoll|atomic_'
for f in "$OMPI_PKGLIB"/*.so; do
  b=$(basename "$f")
  [[ $b =~ $EXCLUDE ]] && continue
  cp -p "$f" "$RT/ompi/lib/openmpi3/"
done
cp -rp /usr/share/openmpi "$RT/ompi/share/"
cp -p /etc/openmpi/openmpi-default-hostfile "$RT/ompi/etc/"
cat > "$RT/ompi/etc/openmpi-mca-params.conf" <<'EOF'
# bundle: Debian's defaults (its components for UCX/OFI/verbs are not bundled)
btl_base_warn_component_unused = 0
EOF
# PMIx (external, Debian libpmix2): its three components and help texts
cp -p "$PMIX_ROOT"/lib/pmix/*.so "$RT/pmix/lib/pmix/"
cp -rp "$PMIX_ROOT/share/pmix" "$RT/pmix/share/"
: > "$RT/pmix/etc/pmix-mca-params.conf"

# ---- shared libraries: ldd of every ELF, to a fixed point
is_glibc() {  # names from Debian's libc6 package
  [[ $1 =~ ^(ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libmvec\.so\.1|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libresolv\.so\.2|libutil\.so\.1|libanl\.so\.1|libnsl\.so\.1|libBrokenLocale\.so\.1|libthread_db\.so\.1|libc_malloc_debug\.so\.0|libnss_.*)$ ]]
}
elves() {
  find "$RT" -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
    xargs -0 file -N -F $'\t' | awk -F'\t' '$2 ~ /ELF/ && $2 ~ /dynamically linked|shared object/ { print $1 }'
}
: > "$STAGE/libs"
while :; do
  before=$(wc -l < "$STAGE/libs")
  while IFS= read -r elf; do
    out=$(ldd "$elf" 2>&1) || { [[ $out == *"not a dynamic executable"* ]] && continue; }
    if grep -q 'not found' <<< "$out"; then die "$elf: $(grep 'not found' <<< "$out" | tr '\n' ' ')"; fi
    awk '$2 == "=>" && $3 ~ /^\// { print $1 "\t" $3 } $1 ~ /^\/.*ld-linux/ { print "ld-linux-x86-64.so.2\t" $1 }' <<< "$out"
  done < <(elves) | sort -u >> "$STAGE/libs"
  sort -u -o "$STAGE/libs" "$STAGE/libs"
  while IFS=$'\t' read -r name path; do
    dir=lib; is_glibc "$name" && dir=glibc
    [ -e "$RT/$dir/$name" ] || cp -L "$path" "$RT/$dir/$name"
  done < "$STAGE/libs"
  [ "$(wc -l < "$STAGE/libs")" = "$before" ] && break
done

{
  echo "bundle made $(date -u +%FT%TZ) on $(hostname) ($(. /etc/os-release; echo "$PRETTY_NAME"), $(ldd --version | head -1))"
  echo "repo commit: $(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)$( [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' (dirty tree)')"
  echo "open mpi: $(dpkg-query -W -f '${Package} ${Version}' libopenmpi3 2>/dev/null), $(dpkg-query -W -f '${Package} ${Version}' libpmix2 2>/dev/null)"
  echo; echo "== binaries (sha256)"
  (cd "$RT" && sha256sum bin/* ompi/bin/orterun ompi/bin/orted)
  echo; echo "== libraries: name <- source"
  sort -u "$STAGE/libs" | awk -F'\t' '{ printf "%-36s <- %s\n", $1, $2 }'
  echo; echo "== MCA components"; ls "$RT/ompi/lib/openmpi3" | tr '\n' ' '; echo
} > "$HERE/MANIFEST.txt"

echo "make-bundle: compressing runtime ($(du -sh "$RT" | cut -f1))" >&2
tar -C "$STAGE" --owner=0 --group=0 -cf - rt | "${NICE[@]}" xz -9 -T1 > "$HERE/runtime.tar.xz.tmp"
mv "$HERE/runtime.tar.xz.tmp" "$HERE/runtime.tar.xz"

# ---- the text slice
find_text_src() {
  if [ -n "${TEXT_SRC:-}" ]; then echo "$TEXT_SRC"; return; fi
  local d best= bestsize=0 size
  for d in "$REPO"/data/bench/real-text-*/; do
    d=${d%/}
    [ -f "$d/.done" ] && [ -f "$d/gcc-00.txt" ] || continue
    grep -q '^gcc-12-source text' "$d/.done" || continue
    # must be the stream itself (it starts with libgomp's oacc-int.h), not
    # something else written under that name
    head -c 40 "$d/gcc-00.txt" | grep -q '^/\* OpenACC Runtime' || continue
    size=$(cat "$d"/gcc-*.txt | wc -c)
    if [ "$size" -gt "$bestsize" ]; then best=$d; bestsize=$size; fi
  done
  echo "$best"
}
TEXT_BYTES=$(( TEXT_MIB << 20 ))
WANT_META="slice v1: first $TEXT_BYTES bytes of the gcc-12-source text stream, cut after the last newline; xz -9e"
if [ "${REDO_TEXT:-0}" != 1 ] && [ -f "$HERE/text.xz" ] && [ -f "$HERE/text.meta" ] &&
   [ "$(head -1 "$HERE/text.meta")" = "$WANT_META" ]; then
  echo "make-bundle: text.xz kept ($(head -1 "$HERE/text.meta"))" >&2
else
  SRC=$(find_text_src)
  SLICE=$STAGE/slice.txt
  if [ -n "$SRC" ]; then
    echo "make-bundle: text slice from $SRC" >&2
    SRC_DESC="cat $SRC/gcc-*.txt"
    cat "$SRC"/gcc-*.txt | head -c "$TEXT_BYTES" > "$SLICE" || true
  else
    TARBALL=$(find /usr/src/gcc-12 -maxdepth 1 -name 'gcc-12*.tar.xz' 2>/dev/null | sort -V | tail -n 1)
    [ -n "$TARBALL" ] || die "no real-text corpus in data/bench and no /usr/src/gcc-12 tarball (set TEXT_SRC)"
    echo "make-bundle: text slice from $TARBALL (scripts/real-text-corpus recipe)" >&2
    SRC_DESC="tar -xJOf $TARBALL (scripts/real-text-corpus patterns)"
    tar -xJOf "$TARBALL" --wildcards '*.c' '*.cc' '*.h' '*.C' '*.cpp' '*.go' '*.d' '*.adb' '*.ads' \
      '*.f90' '*.texi' '*.md' '*.rst' '*.txt' '*.def' '*ChangeLog*' 2>/dev/null | head -c "$TEXT_BYTES" > "$SLICE" || true
  fi
  [ "$(stat -c %s "$SLICE")" = "$TEXT_BYTES" ] || die "text source shorter than $TEXT_BYTES bytes"
  PARTIAL=$(tail -c 1048576 "$SLICE" | sed -n '$p' | wc -c)
  [ "$(tail -c 1 "$SLICE" | od -An -c | tr -d ' ')" = '\n' ] || truncate -s $(( TEXT_BYTES - PARTIAL )) "$SLICE"
  echo "make-bundle: xz -9e of $(stat -c %s "$SLICE") bytes (single thread, a few minutes)" >&2
  "${NICE[@]}" xz -9e -T1 -c "$SLICE" > "$HERE/text.xz.tmp"
  STATS=$("${NICE[@]}" "$RT/bin/wc_hand" "$STAGE/wc.tsv" "$SLICE" 2>&1 | tail -1)
  {
    echo "$WANT_META"
    echo "source: $SRC_DESC"
    echo "bytes: $(stat -c %s "$SLICE")"
    echo "sha256: $(sha256sum < "$SLICE" | cut -d' ' -f1)"
    echo "xz_bytes: $(stat -c %s "$HERE/text.xz.tmp")"
    echo "$STATS"
  } > "$HERE/text.meta"
  mv "$HERE/text.xz.tmp" "$HERE/text.xz"
fi

echo "make-bundle: done: $(du -sh --apparent-size "$HERE" | cut -f1) in $HERE" >&2
ls -la "$HERE" >&2
