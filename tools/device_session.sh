#!/bin/bash
# One session on a lent GPU machine (its `device` tool runs this in a copy of the repo; $OUT comes back): the GPU
# benchmarks of issue 14 (pipeline, train step, data wait per epoch), the real-sound benchmark with and without the
# spectrogram cache on an Opus copy of the dataset, and the notebooks' `cuda` cells.
# Prepared here (figures and notes in nbs/01_spectrogram, nbs/02_model and nbs/06_realsound): the wheels the machine lacks in
# .whl/ (fastai, fastcore, fastprogress 1.0.3 (1.1 needs fasthtml), nbdev, execnb + IPython, soundfile, kornia, librosa,
# their small deps), and
#   .venv/bin/python tools/opus_copy.py encode data/realsound/fsd_scale1_seed0 .gpu/rs
# then: run `bash tools/device_session.sh` with carry [".gpu", ".whl"]. Everything ends before 550 s.
# `bash tools/device_session.sh workers` (carry [".whl"], under 290 s) runs the second part alone: the data wait of an epoch
# of the `seed` preset by DataLoader workers, cached and not, and 03's `cuda` cells.
T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
left() { echo $(( 545 - ($(date +%s) - T0) )); }
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 MPLBACKEND=Agg
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
el installed
if [ "$1" = workers ]; then
  timeout -s INT 250 python3 tools/run_tests.py --cuda 03_ > $OUT/nb03.log 2>&1 &
  timeout 100 python3 -c "from fsd_tagger.toy import make_toy_fsd; make_toy_fsd('/tmp/fsd-bench/toy', n_curated=1200, n_noisy=1200, n_test=1)" > /dev/null 2>&1; el toy made
  for w in 0 2 8; do timeout -s INT 70 python3 bench/epoch_wait.py --device cuda --preset seed --stage stage1_noisy --n-files 2400 --workers $w; done > $OUT/epoch_wait_workers.txt 2>&1
  el epoch_wait done; wait; el all done; exit 0
fi
python3 tools/opus_copy.py decode .gpu/rs /tmp/rs/fsd_scale1_seed0_opus > $OUT/decode.log 2>&1 &
DEC=$!
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 bench/train_step.py --archs xresnet50 --size 128 128 --bs 64 --steps 20 --warmup 3          # `seed`
  python3 bench/train_step.py --archs xresnet50 --n-in 3 --size 128 256 --bs 64 --steps 20 --warmup 3  # `best`
  python3 bench/train_step.py --archs xresnet18 --size 64 65 --bs 64 --steps 20 --warmup 3            # `fast`
  python3 bench/train_step.py --archs cnn_s --size 64 259 --bs 64 --steps 20 --warmup 3; } > $OUT/train_step.txt 2>&1   # `cpu`
el train_step done
wait $DEC; el decoded
R="python3 bench/realsound.py --data /tmp/rs/fsd_scale1_seed0_opus --cache /tmp/rscache --threads 2 --workers 3 --device cuda"
timeout -s INT $(left) $R --systems cpu > $OUT/rs_plain.log 2>&1 &
timeout -s INT $(left) $R --systems cpu+cache=true > $OUT/rs_cache.log 2>&1 &
timeout -s INT 200 python3 bench/pipeline.py --device cuda --seconds 8 > $OUT/pipeline.txt 2>&1
el pipeline done
{ timeout -s INT 60 python3 bench/epoch_wait.py --device cuda --preset fast
  timeout -s INT 80 python3 bench/epoch_wait.py --device cuda --preset seed --stage stage1_noisy; } > $OUT/epoch_wait.txt 2>&1
el epoch_wait done
timeout -s INT $(( $(left) - 15 )) python3 tools/run_tests.py --cuda --workers 3 01_ 02_ 03_ > $OUT/nb.log 2>&1
el notebooks done
wait; el all done
cd /tmp/rscache/runs && tar czf $OUT/runs.tgz --exclude='*.pth' --exclude='*.png' --exclude='tagger' --exclude='spec_cache' . 2>/dev/null; el packed
