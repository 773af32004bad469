#!/usr/bin/env bash
# DIR/_report.html is one self-contained page that renders: a 2-rank
# WordCount with expectations, its _report.html checked for anything that
# would be fetched (src=, href=, url(, @import, http:// or https://), then
# rendered by headless Chromium (Debian's chromium, installed here by
# scripts/install-deps if missing) to a PNG that must not be blank
# (tests/png_not_blank.py: at least 5% of the pixels off the background).
# Then the same for a pipeline's page (`sluice pipeline run --report`): two
# steps, the second reading the first, under 2 ranks.
#   report_render_test.sh SOURCE_DIR BUILD_DIR [PNG_DIR]
# PNG_DIR: keep the job page's screenshot there (as
# bench-results/report-wordcount-2ranks.png).
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
for needle in '<svg' 'rank 0' 'rank 1' 'output_records &gt;= 1' 'shuffle_records' 'Throughput over time' \
  '<polyline'; do
  grep -qF -- "$needle" "$page" || { echo "_report.html lacks '$needle'"; exit 1; }
done

cat > "$work/p.toml" <<'EOF'
[pipeline]
name = "render"

[steps.words]
job = "wordcount"
inputs = ["in/"]
output = "words"
flags = { split-size = "64K" }

[steps.common]
job = "grep"
inputs = ["step:words"]
output = "common"
params = { pattern = "^the\t" }
expect = ["output_records >= 1"]
EOF
"${mpi[@]}" "$build/bin/sluice" pipeline run --quiet --report "$work/pipeline.html" "$work/p.toml"
for needle in '<svg' 'words' 'common' '2 ran, 0 skipped' '<polygon'; do
  grep -qF -- "$needle" "$work/pipeline.html" || { echo "pipeline.html lacks '$needle'"; exit 1; }
done

for html in "$page" "$work/pipeline.html"; do
  if grep -nE 'src=|href=|url\(|@import|https?://' "$html"; then
    echo "$html refers to something outside itself (above)"
    exit 1
  fi
done
# --no-sandbox: Chromium's sandbox refuses to run as root.
shoot() {
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$3" \
    --screenshot="$2" "file://$1" >/dev/null 2>&1
  python3 "$src/tests/png_not_blank.py" "$2" 0.05
}
shoot "$page" "$work/job-report.png" 1000,1500
shoot "$work/pipeline.html" "$work/pipeline-report.png" 1100,500
if [ -n "${3:-}" ]; then cp "$work/job-report.png" "$3/report-wordcount-2ranks.png"; fi
