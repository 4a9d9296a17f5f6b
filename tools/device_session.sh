#!/bin/bash
# One session on a lent GPU machine (its `device` tool runs this in a copy of the repo; $OUT comes back): the GPU
# throughput benchmark, the notebooks' `cuda` cells, and the real-sound benchmark on an Opus copy of the dataset.
# Prepared here (figures and notes in nbs/02_model and nbs/06_realsound): the wheels the machine lacks in .whl/ (fastai,
# fastcore, fastprogress 1.0.3 (1.1 needs fasthtml), nbdev, execnb + IPython, soundfile, kornia, librosa, their small deps), and
#   .venv/bin/python tools/opus_copy.py encode data/realsound/fsd_scale1_seed0 .gpu/rs
# then: run `bash tools/device_session.sh` with carry [".gpu", ".whl"]. Everything ends before 550 s.
T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 MPLBACKEND=Agg
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
el installed
python3 tools/opus_copy.py decode .gpu/rs /tmp/rs/fsd_scale1_seed0_opus > $OUT/decode.log 2>&1 &
DEC=$!
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 bench/train_step.py --archs xresnet18 xresnet50 cnn_s cnn_m --bs 64 --steps 20 --warmup 3
  python3 bench/train_step.py --archs cnn_s --size 64 259 --bs 32 --steps 20 --warmup 3; } > $OUT/train_step.txt 2>&1
el train_step done
wait $DEC; el decoded
B="timeout -s INT $((545 - ($(date +%s) - T0))) python3 bench/realsound.py --data /tmp/rs/fsd_scale1_seed0_opus --cache /tmp/rscache --threads 3 --workers 3 --device cuda"
$B --systems logreg,cpu,cpu+ema=0.995 > $OUT/q1.log 2>&1 &
$B --systems cpu+noisy_prob=0.8+mixed_sched=[[20,3e-3]],cpu+mixed_sched=[[30,1e-2]],cpu+mixup=0 > $OUT/q2.log 2>&1 &
$B --systems seed > $OUT/q3.log 2>&1 &
$B --systems best > $OUT/q4.log 2>&1 &
timeout -s INT 420 python3 tools/run_tests.py --cuda --workers 3 01_ 02_ 03_ > $OUT/nb.log 2>&1 &
wait; el all done
cd /tmp/rscache/runs && tar czf $OUT/runs.tgz --exclude='*.pth' --exclude='*.png' --exclude='tagger' . 2>/dev/null; el packed
