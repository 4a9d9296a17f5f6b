"""Inference throughput and memory: `submit`-style tagging before/after issue 14, and `predict` on long recordings.

Throughput (default): the test clips of DATA (in sample_submission.csv order) tagged by the fold ensemble of RUN, as
`make_submission` tags them (`predict_proba(errors='raise')`, tta 0 unless --tta), by four paths in this one process,
interleaved and repeated (--reps; the best wall time of each is reported, the machine being shared):

  before             `fsd_tagger/inference.py` as committed at --before (the code before issue 14), loaded from git
  fuse=False,bs=64   today's code with the networks as trained (BatchNorm kept, NCHW) in batches of 64 windows, as before:
                     what decoding ahead in threads and one spectrogram per batch for all the models give
  bs=64              today's code with its networks (BatchNorm folded into the convolutions, channels-last), batches of 64
  new                today's code with its defaults (on the CPU: batches of 32 windows)

Each run is broken into phases: decode (seconds spent reading files, summed over the threads that read them),
spectrogram, model (windows through the models, spectrogram excluded) and pooling; `wait` is the main thread's time
outside the model and pooling (reading, or waiting for the reader threads). The scores of the four paths are compared
(max abs difference).

Long files (--long MINUTES ...): 16-bit mono 44.1 kHz WAV files of that many minutes (test clips end to end, repeated)
are written to a temporary folder under /tmp (removed afterwards); each is tagged by `Tagger.predict` in a fresh
subprocess, whose peak RSS (`ru_maxrss`) once the tagger is loaded (imports and models, before any audio) and at the
end, and wall time, are reported; --whole-max M also runs the `before` code (the whole
file read at once) on the files of at most M minutes.

    .venv/bin/python bench/inference.py                                     # demo run: demo_out/runs/fast on demo_out/data
    .venv/bin/python bench/inference.py --run data/realsound/runs/scale1_seed0/cpu --data data/realsound/fsd_scale1_seed0
    .venv/bin/python bench/inference.py --long 1 10 60 --whole-max 10 --no-throughput
    .venv/bin/python bench/inference.py --profile                           # where the model's time goes, and its GFLOP/s
    .venv/bin/python bench/inference.py --imports                           # what the predict process holds before any audio
"""
import argparse, json, os, resource, subprocess, sys, tempfile, threading, time, types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

def load_before(rev):
    "The module fsd_tagger.inference as committed at git revision `rev`, as its own module (its own `Tagger`)"
    src = subprocess.run(['git', '-C', str(ROOT), 'show', f'{rev}:fsd_tagger/inference.py'], check=True, capture_output=True, text=True).stdout
    mod = types.ModuleType('fsd_tagger._inference_before'); mod.__package__ = 'fsd_tagger'
    exec(compile(src, f'{rev}:fsd_tagger/inference.py', 'exec'), mod.__dict__)
    return mod

class Phases:
    "Seconds per phase, summed over threads"
    def __init__(self): self.t, self.lock = {}, threading.Lock()
    def add(self, k, dt):
        with self.lock: self.t[k] = self.t.get(k, 0.) + dt
    def wrap(self, k, f):
        def g(*a, **kw):
            t0 = time.perf_counter()
            try: return f(*a, **kw)
            finally: self.add(k, time.perf_counter() - t0)
        return g

class TimedSpec:
    "A tagger's spectrogram module, timed (called, or its `db` part)"
    def __init__(self, spec, ph): self.spec, self.ph = spec, ph
    def __call__(self, x): return self.ph.wrap('spectrogram', self.spec)(x)
    def db(self, x): return self.ph.wrap('spectrogram', self.spec.db)(x)
    def __getattr__(self, k): return getattr(self.spec, k)

def timed_run(mod, run, paths, tta, tagger_kw=None, **kw):
    "Wall time, phases and probabilities of `mod.Tagger.from_run(run, **tagger_kw).predict_proba(paths, **kw)`"
    ph, timed = Phases(), {}
    t = mod.Tagger.from_run(run, tta=tta, device='cpu', **(tagger_kw or {}))
    t.specs = [timed.setdefault(id(s), TimedSpec(s, ph)) for s in t.specs]   # a spectrogram the models share stays shared
    saved = mod.read_clip, mod.pool_passes, mod.Tagger.window_probs
    mod.read_clip, mod.pool_passes = ph.wrap('decode', saved[0]), ph.wrap('pooling', saved[1])
    mod.Tagger.window_probs = ph.wrap('spec+model', saved[2])
    try:
        t0 = time.perf_counter()
        p = t.predict_proba(paths, errors='raise', progress=False, **kw)
        wall = time.perf_counter() - t0
    finally: mod.read_clip, mod.pool_passes, mod.Tagger.window_probs = saved
    sm = ph.t.pop('spec+model', 0.)
    ph.t['model'] = sm - ph.t.get('spectrogram', 0.)
    ph.t['wait'] = wall - sm - ph.t.get('pooling', 0.)
    return wall, ph.t, p

def throughput(a):
    import numpy as np, pandas as pd, torch
    import fsd_tagger.inference as new
    from fsd_tagger.data import FSDPaths
    before = load_before(a.before)
    p = FSDPaths(a.data)
    paths = [str(p.test/f) for f in pd.read_csv(p.sample_submission, dtype={'fname': str}).fname][:a.n]
    secs = sum(new.audio_frames(paths)[q][0] for q in paths)/44100
    print(f'{len(paths)} test clips of {a.data} ({secs:.0f} s of audio), run {a.run}, tta={a.tta}, '
          f'{torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}')
    paths_ = {'before': (before, {}), 'fuse=False,bs=64': (new, dict(fuse=False, bs=64)), 'bs=64': (new, dict(bs=64)), 'new': (new, {})}
    for mod, kw in paths_.values(): timed_run(mod, a.run, paths[:4], a.tta, kw)   # warm-up: first calls' one-off costs
    best, probs = {}, {}
    for r in range(a.reps):
        for name, (mod, kw) in paths_.items():
            wall, ph, pr = timed_run(mod, a.run, paths, a.tta, kw)
            probs[name] = pr.values
            if name not in best or wall < best[name][0]: best[name] = (wall, ph)
            print(f'  rep {r}: {name:<16} {wall:6.2f} s')
    rows = []
    for name, (wall, ph) in best.items():
        rows.append(dict(path=name, wall_s=round(wall, 2), clips_per_s=round(len(paths)/wall, 2), x_before=round(best['before'][0]/wall, 2),
                         **{k: round(ph.get(k, 0.), 2) for k in ('decode', 'wait', 'spectrogram', 'model', 'pooling')},
                         max_abs_diff=float(np.abs(probs[name] - probs['before']).max())))
    print(pd.DataFrame(rows).to_string(index=False))
    print(f'load average after: {os.getloadavg()[0]:.1f}')

def profile_model(a):
    "Where the first fold network's time goes as the tagger runs it (its defaults: folded, channels-last, its bs): operators' shares, FLOPs per window, GFLOP/s"
    import torch
    from torch.profiler import profile, ProfilerActivity
    from torch.utils.flop_counter import FlopCounterMode
    import fsd_tagger.inference as new
    t = new.Tagger.from_run(a.run, device='cpu')
    net, reps = t.nets[0], 5
    x = t._net_input(t.specs[0](torch.randn(t.bs, 1, t.cfg.n_samples)*0.1))
    with torch.no_grad():
        with FlopCounterMode(display=False) as fc: net(x)
        for _ in range(2): net(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(reps): net(x)
    ev = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in ev)/1e6
    conv = sum(e.self_cpu_time_total for e in ev if 'convolution' in e.key)/1e6
    flops = fc.get_total_flops()*reps
    print(f'{a.run}: batches of {t.bs}, {fc.get_total_flops()/t.bs/1e6:.0f} MFLOP per window, {total/reps/t.bs*1e3:.2f} ms per window, '
          f'{flops/total/1e9:.0f} GFLOP/s overall, {flops/conv/1e9:.0f} GFLOP/s in the convolutions')
    for e in ev[:5]: print(f'  {e.key:<32} {e.self_cpu_time_total/1e6/total:6.1%}')

IMPORT_STEPS = ['numpy, pandas, soundfile', 'torch', 'torchaudio.functional, torchaudio.transforms', 'matplotlib.pyplot', 'fasttransform, plum',
                'fastai.torch_core', 'fastai.data.core, fastai.data.block, fastai.data.transforms', 'fastai.vision.augment, fastai.vision.data',
                'fsd_tagger.audio', 'fastai.learner, fastai.vision.models.xresnet, kornia.filters', 'fsd_tagger.model', 'fsd_tagger.inference']

def import_costs(a):
    "Resident memory of a fresh process after each import on the way to fsd_tagger.inference (the modules fsd_tagger.audio and .model import first), then after loading RUN's tagger"
    code = ("import sys, resource\nsys.path.insert(0, %r)\n" % str(ROOT) +
            "def rss(): return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])/1024\n" +
            "".join(f"import {m}\nprint({m!r}, round(rss()), flush=True)\n" for m in IMPORT_STEPS) +
            f"t = fsd_tagger.inference.Tagger.from_run({a.run!r}, device='cpu')\nprint('Tagger.from_run', round(rss()), flush=True)\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    prev = 0
    for line in out.strip().splitlines():
        name, mib = line.rsplit(' ', 1); mib = int(mib)
        print(f'{name:<62} {mib:5d} MiB  (+{mib - prev})'); prev = mib

def write_long(path, minutes, clips, sr=44100):
    "A 16-bit mono WAV of `minutes` minutes at `sr`: `clips` end to end, repeated, written a clip at a time"
    import soundfile as sf
    from fsd_tagger.inference import read_clip
    want, i = int(minutes*60*sr), 0
    with sf.SoundFile(str(path), 'w', sr, 1, 'PCM_16') as f:
        while want > 0:
            x = read_clip(clips[i % len(clips)], sr)[0].numpy()[:want]
            f.write(x); want -= len(x); i += 1

def predict_child(a):
    "Run in the subprocess: tag one file, print wall time and peak RSS as JSON"
    mod = load_before(a.before) if a.child_before else __import__('fsd_tagger.inference', fromlist=['Tagger'])
    t = mod.Tagger.from_run(a.run, device='cpu')
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024
    t0 = time.perf_counter()
    df = t.predict([a.child], progress=False)
    print(json.dumps(dict(wall_s=time.perf_counter() - t0, rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, loaded_mib=loaded,
                          top=df.tags[0][0], probs=df.iloc[0, 3:].astype(float).tolist())))

def long_files(a):
    import numpy as np, pandas as pd
    from fsd_tagger.data import FSDPaths
    p = FSDPaths(a.data)
    clips = [str(p.test/f) for f in pd.read_csv(p.sample_submission, dtype={'fname': str}).fname]
    tmp = Path(tempfile.mkdtemp(prefix='fsd_long_', dir='/tmp'))
    rows = []
    try:
        for m in a.long:
            f = tmp/f'long_{m}min.wav'
            write_long(f, m, clips)
            for before in ([False, True] if m <= a.whole_max else [False]):
                cmd = [sys.executable, __file__, '--run', a.run, '--data', a.data, '--before', a.before, '--child', str(f)] + (['--child-before'] if before else [])
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode: print(r.stderr[-2000:]); raise SystemExit(f'child failed on {f}')
                d = json.loads(r.stdout.strip().splitlines()[-1])
                rows.append(dict(minutes=m, path='before (whole file)' if before else 'new (streamed)', wav_mib=round(f.stat().st_size/2**20),
                                 rss_loaded_mib=round(d['loaded_mib']), peak_rss_mib=round(d['rss_mib']), wall_s=round(d['wall_s'], 1), top_tag=d['top'], probs=np.array(d['probs'])))
            f.unlink()
    finally:
        for f in tmp.glob('*'): f.unlink()
        tmp.rmdir()
    df = pd.DataFrame(rows)
    for m in a.long:   # the two paths' scores on the same file
        d = df[df.minutes == m]
        if len(d) == 2: df.loc[d.index, 'max_abs_diff'] = float(np.abs(d.probs.iloc[0] - d.probs.iloc[1]).max())
    print(df.drop(columns='probs').to_string(index=False))
    new = df[df.path.str.startswith('new')].set_index('minutes').peak_rss_mib
    print(f'streamed peak RSS, largest/smallest file: {new.iloc[-1]/new.iloc[0]:.3f}')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', default='demo_out/runs/fast'); ap.add_argument('--data', default='demo_out/data')
    ap.add_argument('--before', default='02cc260', help='git revision of the code before issue 14')
    ap.add_argument('--n', type=int, default=None, help='first N test clips only'); ap.add_argument('--tta', type=int, default=0)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--long', type=float, nargs='*', default=[], help='minutes of each long file'); ap.add_argument('--whole-max', type=float, default=10)
    ap.add_argument('--no-throughput', action='store_true')
    ap.add_argument('--imports', action='store_true', help='resident memory after each import and after loading the tagger, then stop')
    ap.add_argument('--profile', action='store_true', help="the first fold network's operators, FLOPs and GFLOP/s, then stop")
    ap.add_argument('--child', help=argparse.SUPPRESS); ap.add_argument('--child-before', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args()
    os.chdir(ROOT)
    if a.child: predict_child(a)
    elif a.profile: profile_model(a)
    elif a.imports: import_costs(a)
    else:
        if not a.no_throughput: throughput(a)
        if a.long: long_files(a)
