#!/usr/bin/env bash
# Runs the whole benchmark suite and writes benchmarks/results/*.json, *.png, *.txt.
#
#   bash benchmarks/run_all.sh            # everything (about 5-10 minutes on 2 idle cores)
#   QUICK=1 bash benchmarks/run_all.sh    # smoke test on 1/10 of the catalogues (results/quick/)
#
# Installs the peers (Corrfunc, TreeCorr) when they are missing; Corrfunc builds from
# source and needs GSL (apt-get install libgsl-dev, done here when apt-get is there and
# we are root). astrograph itself must already be installed (pip install -e .).
set -euo pipefail
cd "$(dirname "$0")"
OUT=results
if [ "${QUICK:-0}" = 1 ]; then OUT=results/quick; fi
export ASTROGRAPH_BENCH_RESULTS="$PWD/$OUT"
mkdir -p "$OUT"

if ! python -c "import Corrfunc, treecorr" 2>/dev/null; then
    if ! [ -e /usr/include/gsl/gsl_math.h ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq libgsl-dev
    fi
    pip install -r requirements.txt || pip install --no-build-isolation -r requirements.txt
fi
python -c "import astrograph._lib" # fails early if the extension is not built

args=()
if [ "${QUICK:-0}" = 1 ]; then args=(--quick --repeat 1); fi
THREADS=${THREADS:-2}
log() { echo "== $* (load: $(cut -d' ' -f1-3 /proc/loadavg)) $(date -u +%H:%M:%S)"; }

log "machine"
{ uptime; nproc; grep -m1 'model name' /proc/cpuinfo || true; } | tee "$OUT"/machine.txt

log "bench_2pcf"
python bench_2pcf.py --threads "$THREADS" "${args[@]}" | tee "$OUT"/bench_2pcf.txt
log "bench_2pcf, 1 thread (kernel speed without threading effects)"
python bench_2pcf.py --threads 1 "${args[@]}" | tee "$OUT"/bench_2pcf_threads1.txt

log "bench_3pcf"
python bench_3pcf.py --threads "$THREADS" "${args[@]}" | tee "$OUT"/bench_3pcf.txt

log "bench_scaling"
if [ "${QUICK:-0}" = 1 ]; then
    python bench_scaling.py --threads "$THREADS" --repeat 1 --max-n 3e4 | tee "$OUT"/bench_scaling.txt
else
    python bench_scaling.py --threads "$THREADS" | tee "$OUT"/bench_scaling.txt
fi

log "kdtree_vs_grid (Rust example, release build)"
kargs=()
if [ "${QUICK:-0}" = 1 ]; then kargs=(20000 1); fi
(cd .. && cargo run --release -q -p astrograph-core --example kdtree_vs_grid -- "${kargs[@]}") \
    | tee "$OUT"/kdtree_vs_grid.txt

log "done"
