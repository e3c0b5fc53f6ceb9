#!/usr/bin/env bash
# GPU checks of the engine, for a machine with one CUDA GPU (run from the repository root):
#   1. CUDA training with AMP (bf16, then fp16 + GradScaler) and channels_last on a small generated
#      demo project, then prediction on CUDA and scoring against the ground truth;
#   2. DDP smoke runs: nccl with one process on the GPU, gloo with two processes on the CPU;
#   3. the engine benchmark (training and inference images/s per preset, AMP bf16 + channels_last), and
#      mt-resnet training throughput from an HDF5 face cache through the uint8 path (gpu_train_throughput.py).
# JSON results go to $OUT (or ./gpu_check_out); the exit status is non-zero if any step failed.
set -u
PY=${PYTHON:-python}
[ -x .venv/bin/python ] && PY=${PYTHON:-.venv/bin/python}
OUTDIR=${OUT:-gpu_check_out}
mkdir -p "$OUTDIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILED=0
step() { echo "== $1" >&2; shift; if ! "$@"; then echo "!! FAILED: $*" >&2; FAILED=1; fi; }

$PY - <<'PYEOF' > "$OUTDIR/env.json" || FAILED=1
import json, torch
print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda, "available": torch.cuda.is_available(),
                  "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                  "bf16": torch.cuda.is_bf16_supported() if torch.cuda.is_available() else None}))
PYEOF
cat "$OUTDIR/env.json"

step "demo project" $PY - "$WORK/demo" <<'PYEOF'
import sys
from core.demo import create_demo
from core.faces import process_project
p = create_demo(sys.argv[1], seed=0, duration_s=40.0)
process_project(p, backend="reference")
p.close()
PYEOF
# ground truth as a track to train on and score against
step "truth track" $PY - "$WORK/demo" <<'PYEOF'
import sys
from core.demo import load_ground_truth
from core.project import Project
p = Project.open(sys.argv[1])
t = load_ground_truth(sys.argv[1]).track
t.name = "truth"
p.put_track(t)
p.save()
p.close()
PYEOF

A="$PY -m core.cli"
step "train cuda bf16" $A train "$WORK/demo" --preset mt-tiny --label-track truth --device cuda --amp bf16 \
    --epochs 3 --batch-size 64 --run-id cuda-bf16 --json > "$OUTDIR/train_cuda_bf16.json"
step "train cuda fp16" $A train "$WORK/demo" --preset mt-resnet18 --label-track truth --device cuda --amp fp16 \
    --epochs 2 --batch-size 64 --run-id cuda-fp16 --json > "$OUTDIR/train_cuda_fp16.json"
step "train cuda gru-av" $A train "$WORK/demo" --preset mt-tiny-gru-av --label-track truth --device cuda \
    --epochs 1 --batch-size 16 --run-id cuda-gru-av --json > "$OUTDIR/train_cuda_gru_av.json"
step "resume cuda" $A train "$WORK/demo" --resume cuda-bf16 --epochs 4 --json > "$OUTDIR/train_cuda_resume.json"
step "predict cuda" $A predict "$WORK/demo" --checkpoint cuda-bf16 --device cuda --track-name model-bf16 \
    --evaluate truth --json > "$OUTDIR/predict_cuda.json"

if command -v torchrun >/dev/null 2>&1 || $PY -c "import torch.distributed.run" 2>/dev/null; then
  step "ddp nccl x1" $PY -m torch.distributed.run --standalone --nproc_per_node 1 -m core.cli train "$WORK/demo" \
      --preset mt-tiny --label-track truth --device cuda --epochs 1 --max-steps 5 --run-id ddp-nccl --json \
      > "$OUTDIR/ddp_nccl.json"
  step "ddp gloo x2 (cpu)" $PY -m torch.distributed.run --standalone --nproc_per_node 2 -m core.cli train \
      "$WORK/demo" --preset mt-tiny --label-track truth --device cpu --epochs 1 --max-steps 3 --run-id ddp-gloo \
      --json > "$OUTDIR/ddp_gloo.json"
fi

step "training throughput, uint8 path (issue 12)" $PY bench/gpu_train_throughput.py --device cuda \
    --json-out "$OUTDIR/train_throughput.json"
step "engine bench cuda" $PY bench/engine.py --device cuda --presets all --machine "${MACHINE:-gpu machine}" \
    --json-out "$OUTDIR/engine_cuda.json"
step "engine bench cpu" $PY bench/engine.py --device cpu --presets light --machine "${MACHINE:-gpu machine} cpu" \
    --json-out "$OUTDIR/engine_cpu.json"
echo "results in $OUTDIR"; ls -l "$OUTDIR"
exit $FAILED
