#!/usr/bin/env bash
# DIR/_report.html is one self-contained page that renders: a 2-rank
# WordCount with expectations, its _report.html checked for anything that
# would be fetched (src=, href=, url(, @import, http:// or https://), then
# rendered by headless Chromium (Debian's chromium, installed here by
# scripts/install-deps if missing) to a PNG that must not be blank
# (tests/png_not_blank.py: at least 5% of the pixels off the background).
#   report_render_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
"$src/scripts/install-deps" chromium >/dev/null
work=$(mktemp -d /tmp/sluice-report-render-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/in"
cp /usr/share/common-licenses/* "$work/in/"
# Under ASan: no leak check under mpirun (Open MPI's own allocations, kept
# until exit, are not ours), as tests/e2e/e2e_util.cpp's MpiLauncher does.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
mpi=(mpirun -np 2 --mca pml ob1 --mca btl self,vader)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root --oversubscribe)
"${mpi[@]}" "$build/bin/sluice" run wordcount --quiet --split-size 64K --input "$work/in" --output "$work/out" \
  --expect 'output_records >= 1' --expect-warn 'bad_records <= 0'
page="$work/out/_report.html"
for needle in '<svg' 'rank 0' 'rank 1' 'output_records &gt;= 1' 'shuffle_records'; do
  grep -qF -- "$needle" "$page" || { echo "_report.html lacks '$needle'"; exit 1; }
done
if grep -nE 'src=|href=|url\(|@import|https?://' "$page"; then
  echo "_report.html refers to something outside itself (above)"
  exit 1
fi
# --no-sandbox: Chromium's sandbox refuses to run as root.
timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1300 \
  --screenshot="$work/report.png" "file://$page" >/dev/null 2>&1
python3 "$src/tests/png_not_blank.py" "$work/report.png" 0.05
