"""Where one training epoch's time goes: waiting for data versus the model, with and without the spectrogram cache.

A training run of --preset (`fast` by default) on the bench's toy dataset: the learner of one stage of fold 0
(`TrainRun.stage_learner`, MixUp and all), trained for --epochs epochs (the first is a warm-up: workers start, the cache's
lookups are made) with the cache off and on, each in the same process one after the other. A callback timestamps every
batch: *data* is the time from the end of one batch's step to the start of the next (fetching the batch, its batch
transforms on the device, MixUp), *model* the step itself (forward, loss, backward, optimiser; synchronised on a GPU).
Validation is left out. The one-off cache build is reported on its own.

    .venv/bin/python bench/epoch_wait.py                     # CPU, `fast` preset, stage 2 (curated clips)
    .venv/bin/python bench/epoch_wait.py --device cuda --preset seed
"""
import argparse, os, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--root', default='/tmp/fsd-bench/toy', help='toy dataset folder (made once, cached)')
    ap.add_argument('--n-files', type=int, default=600, help='toy clips (half curated, half noisy)')
    ap.add_argument('--preset', default='fast'); ap.add_argument('--stage', default=None, help="stage to time (default: the preset's last)")
    ap.add_argument('--epochs', type=int, default=2, help='epochs per setting; the last is reported')
    ap.add_argument('--device', default=None); ap.add_argument('--workers', type=int, default=None, help='DataLoader workers (default: automatic)')
    a = ap.parse_args()
    import torch
    from fastai.callback.core import Callback
    from fsd_tagger.toy import make_toy_fsd
    from fsd_tagger.train import TrainConfig, TrainRun

    class Timer(Callback):
        "Seconds waiting for batches and in the model's steps, in the training phase"
        order = 100   # last: MixUp and the other callbacks' batch work count as data
        def before_train(self): self.data = self.model_s = 0.; self.n = 0; self.t = self.t0 = time.perf_counter()
        def before_batch(self):
            if not self.training: return
            now = time.perf_counter(); self.data += now - self.t; self.t = now
        def after_batch(self):
            if not self.training: return
            if self.dls.device.type == 'cuda': torch.cuda.synchronize()
            now = time.perf_counter(); self.model_s += now - self.t; self.t = now; self.n += len(self.yb[0])
        def after_train(self): self.total = time.perf_counter() - self.t0

    root = make_toy_fsd(a.root, n_curated=a.n_files//2, n_noisy=a.n_files - a.n_files//2, n_test=1)
    print(f'preset {a.preset!r}; {torch.get_num_threads()} torch threads; {os.cpu_count()} CPUs; torch {torch.__version__}')
    for cache in (False, True):
        with tempfile.TemporaryDirectory(prefix='fsd-bench-epoch-') as d:
            cfg = TrainConfig.preset(a.preset, cache=cache)
            run = TrainRun(root, d, cfg, device=a.device, num_workers=a.workers, progress=False)
            stage, sched = [s for s in cfg.stages if s[0] == a.stage][0] if a.stage else cfg.stages[-1]
            t = time.perf_counter(); run.spec_cache(); build = time.perf_counter() - t
            learn = run.stage_learner(0, stage)
            timer = Timer(); learn.add_cb(timer)
            with learn.no_bar(), learn.no_logging():
                for _ in range(a.epochs): learn.fit(1, sched[0][1])
            dl = learn.dls.train
            print(f'cache {"on " if cache else "off"}: stage {stage}, {timer.n} clips in batches of {dl.bs}, {dl.fake_l.num_workers} workers, '
                  f'on {run.device}: epoch {timer.total:.2f} s, model {timer.model_s:.2f} s, waiting for data {timer.data:.2f} s '
                  f'= {timer.data/timer.total:.1%} of the epoch' + (f'; one-off cache build {build:.1f} s' if cache else ''), flush=True)

if __name__ == '__main__': main()
