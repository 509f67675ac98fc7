#!/usr/bin/env bash
# CUDA check, in one go (about 9 minutes at most on one GPU):
#   1. every script's --quick with --device cuda, and its JSON must say "cuda";
#   2. the full default suite on cuda, each script under a time limit, into benchmarks/cuda_run/;
#   3. the benchmark table for cuda (benchmarks/results_cuda.md), full-run times from step 2;
# Needs the four Fashion-MNIST IDX files in $HW1_DATA_DIR (default: data/) or Debian's folder, and
# a python with torch, torchvision, numpy, matplotlib and tqdm ($PY, default .venv/bin/python, else
# python3). Usage: bash benchmarks/gpu_check.sh [seconds per full script, default 90]; the whole
# check stops starting scripts when its 9-minute budget ($TOTAL s, default 540) would be exceeded.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
LIMIT=${1:-90}
BEGIN=$(date +%s)
DEADLINE=$(( BEGIN + ${TOTAL:-540} - 150 ))   # the last 150 s are for the two benchmark tables
export HW1_DATASET=${HW1_DATASET:-fashion-mnist} HW1_DATA_DIR=${HW1_DATA_DIR:-data}
export PYTHONUNBUFFERED=1
RUN=benchmarks/cuda_run
LOG=${OUT:-$RUN}/gpu_check.log
mkdir -p "$RUN/quick" "$RUN/full" "$(dirname "$LOG")"
exec > >(tee "$LOG") 2>&1

"$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')" || exit 2
"$PY" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

failed=0
echo "== 1. --quick on cuda"
for s in hw1_*.py; do
    stem=${s%.py}
    start=$(date +%s)
    if "$PY" "$s" --quick --device cuda --out-dir "$RUN/quick" >"$RUN/quick/$stem.log" 2>&1 &&
       "$PY" -c "import json, sys; m = json.load(open(sys.argv[1]))['meta']; \
sys.exit(0 if m['device'] == 'cuda' else 'device ' + m['device'])" "$RUN/quick/$stem.json"; then
        printf '%-34s ok   %4d s\n' "$s" $(( $(date +%s) - start ))
    else
        echo "$s FAILED:"; tail -5 "$RUN/quick/$stem.log"; failed=1
    fi
done

echo "== 2. full default suite on cuda (at most $LIMIT s each)"
for s in hw1_*.py; do
    start=$(date +%s)
    limit=$(( DEADLINE - start < LIMIT ? DEADLINE - start : LIMIT ))
    if [ "$limit" -le 0 ]; then echo "$s skipped: out of time"; failed=1; continue; fi
    if timeout "$limit" "$PY" "$s" --device cuda --out-dir "$RUN/full" >"$RUN/full/${s%.py}.log" 2>&1; then
        printf '%-34s ok   %4d s\n' "$s" $(( $(date +%s) - start ))
    else
        echo "$s failed or over $limit s:"; tail -3 "$RUN/full/${s%.py}.log"; failed=1
    fi
done

echo "== 3. benchmark table"
"$PY" benchmarks/bench.py --device cuda --repeats 2 --figures "$RUN/full" || failed=1
echo "total $(( $(date +%s) - BEGIN )) s"
exit $failed
