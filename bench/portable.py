"""Portable models (notebook 12): memory of tagging a long recording with the exported ONNX files, and the ONNX spectrogram.

--rss (default): the run RUN (default the demo run, demo_out/runs/fast) is exported to ONNX (`export_run`) in a
temporary folder under /tmp, and a 16-bit mono 44.1 kHz WAV of MINUTES minutes (the test clips of DATA end to end,
repeated) is written there. Two fresh processes tag that file, one after the other:

  portable   the export folder's own `portable.py` (`PortableTagger`), imported with fsd_tagger blocked
             (`sys.modules['fsd_tagger'] = None`): numpy, soundfile and onnxruntime only; the process checks that
             neither torch nor fastai was imported
  predict    `fsd-tagger predict FILE --run RUN --format json --top-k <all classes>` (torch and fastai)

Each process's peak resident memory is its `ru_maxrss` as `os.wait4` returns it to a small launcher process; the portable process also reports
its RSS after its imports and once the models are loaded. The two processes' probabilities are compared (`predict`
prints them rounded to 4 decimals). Everything under /tmp is removed afterwards.

--stft: the power spectrogram of 64 windows of the `default` (n_fft 2560, not a power of two) and `fast` (n_fft 1024)
presets, as onnxruntime computes it with one thread from ONNX files: with ONNX's STFT operator (what `torch.stft`
exports to) and with `DFTPower` (the STFT as a convolution with a windowed DFT basis); `torch.stft` in PyTorch for
reference, one thread. Best of 3 runs; error: the largest difference from a float64 `torch.stft`, relative to the
largest power.

    .venv/bin/python bench/portable.py                      # --rss, 60 minutes, demo run
    .venv/bin/python bench/portable.py --minutes 1 --stft   # a quick run of both
"""
import argparse, contextlib, io, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PORTABLE_CHILD = r'''
import sys, time, json
def rss(): return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])/1024
sys.modules['fsd_tagger'] = None   # as on a machine without fsd_tagger
folder, wav = sys.argv[1], sys.argv[2]
sys.path.insert(0, folder)
import numpy, soundfile, onnxruntime, portable
imported = rss()
t = portable.PortableTagger(folder)
loaded = rss()
t0 = time.perf_counter()
p = t.combine(t.file_probs(wav))
wall = time.perf_counter() - t0
bad = [m for m in ('torch', 'fastai', 'fsd_tagger') if sys.modules.get(m) is not None]
print(json.dumps(dict(imported_mib=imported, loaded_mib=loaded, wall_s=wall, probs=p.tolist(), vocab=t.vocab, heavy_modules=bad)))
'''

# Linux carries a process's peak RSS (ru_maxrss) over fork and exec: a child of this (large) process would report this
# process's peak if larger than its own. So each measured command is started by a small launcher, whose own peak is
# a few MiB, and `os.wait4` gives the command's ru_maxrss there.
LAUNCHER = r'''
import os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:])
_, status, ru = os.wait4(p.pid, 0)
print(os.waitstatus_to_exitcode(status), ru.ru_maxrss/1024, time.perf_counter() - t0, file=sys.stderr)
'''

def wait_rss(cmd, **kw):
    "Run `cmd` from a small launcher process; its stdout, wall time and peak RSS in MiB (its `ru_maxrss`, from `os.wait4`)"
    r = subprocess.run([sys.executable, '-c', LAUNCHER, *cmd], capture_output=True, text=True, **kw)
    code, rss, wall = r.stderr.strip().splitlines()[-1].split()
    if int(code) or r.returncode: raise SystemExit(f'{cmd[:3]} failed ({code}):\n{r.stderr[-3000:]}')
    return r.stdout, float(wall), float(rss)

def rss_bench(a):
    import numpy as np, pandas as pd
    from fsd_tagger.data import FSDPaths
    from fsd_tagger.export import export_run
    sys.path.insert(0, str(ROOT/'bench'))
    from inference import write_long   # the long files of bench/inference.py --long
    p = FSDPaths(a.data)
    clips = [str(p.test/f) for f in pd.read_csv(p.sample_submission, dtype={'fname': str}).fname]
    tmp = Path(tempfile.mkdtemp(prefix='fsd_portable_', dir='/tmp'))
    try:
        t0 = time.perf_counter(); export_run(a.run, tmp/'onnx', 'onnx'); t_export = time.perf_counter() - t0
        wav = tmp/f'long_{a.minutes:g}min.wav'
        write_long(wav, a.minutes, clips)
        out, wall_p, rss_p = wait_rss([sys.executable, '-c', PORTABLE_CHILD, str(tmp/'onnx'), str(wav)])
        d = json.loads(out.strip().splitlines()[-1])
        if d['heavy_modules']: raise SystemExit(f"the portable process imported {d['heavy_modules']}")
        cli = str(Path(sys.executable).parent/'fsd-tagger')
        out, wall_c, rss_c = wait_rss([cli, 'predict', str(wav), '--run', a.run, '--format', 'json', '--top-k', str(len(d['vocab']))], cwd=ROOT)
        tags = {t['label']: t['probability'] for t in json.loads(out)[0]['tags']}
        diff = max(abs(tags[c] - v) for c, v in zip(d['vocab'], d['probs']))
        print(f"{a.minutes:g}-minute 16-bit mono 44.1 kHz WAV ({wav.stat().st_size/2**20:.0f} MiB), run {a.run} (ONNX export: {t_export:.0f} s)")
        print(f"| process | after imports | models loaded | peak RSS | time |")
        print(f"|---|---|---|---|---|")
        print(f"| portable.py (numpy, soundfile, onnxruntime) | {d['imported_mib']:.0f} MiB | {d['loaded_mib']:.0f} MiB | {rss_p:.0f} MiB | {wall_p:.1f} s |")
        print(f"| fsd-tagger predict (torch, fastai) | | | {rss_c:.0f} MiB | {wall_c:.1f} s |")
        print(f"peak RSS portable/predict: {rss_p/rss_c:.2f}; largest probability difference: {diff:.1e} (predict prints 4 decimals); "
              f"top tag: {d['vocab'][int(np.argmax(d['probs']))]} / {max(tags, key=tags.get)}")
    finally: shutil.rmtree(tmp, ignore_errors=True)

def stft_bench(a):
    import numpy as np, torch, onnxruntime as ort
    from torch import nn
    from torch.export import Dim
    from fsd_tagger.audio import SpecConfig, SpecTransform
    from fsd_tagger.export import DFTPower
    torch.set_num_threads(1)
    def best(f, n=3):
        ts = []
        for _ in range(n): t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
        return min(ts)
    print('power spectrogram of 64 windows, one thread, best of 3; error: largest difference from a float64 torch.stft / largest power')
    print('| preset (n_fft) | how | time | error |\n|---|---|---|---|')
    tmp = Path(tempfile.mkdtemp(prefix='fsd_stft_', dir='/tmp'))
    try:
        for preset in ('default', 'fast'):
            cfg = SpecConfig.preset(preset)
            spec = SpecTransform(cfg).mel.spectrogram
            class Power(nn.Module):
                def __init__(self, dft): super().__init__(); self.f = DFTPower(spec) if dft else spec
                def forward(self, x): return self.f(x)
            x = 0.1*torch.randn(64, cfg.n_samples, generator=torch.Generator().manual_seed(0))
            ref = torch.stft(x.double(), cfg.n_fft, cfg.hop_length, cfg.win_length, spec.window.double(), center=True, pad_mode='reflect',
                             return_complex=True).abs().pow(2)
            with torch.no_grad(): rows = [('torch.stft (PyTorch)', best(lambda: spec(x)), spec(x))]
            for name, dft in (('ONNX STFT operator (onnxruntime)', False), ('DFTPower convolution (onnxruntime)', True)):
                f = tmp/'p.onnx'
                with contextlib.redirect_stdout(io.StringIO()):
                    torch.onnx.export(Power(dft).eval(), (x[:4],), str(f), dynamo=True, external_data=False, input_names=['x'],
                                      dynamic_shapes={'x': {0: Dim('batch')}}, verbose=False)
                so = ort.SessionOptions(); so.intra_op_num_threads = 1
                s = ort.InferenceSession(str(f), so, providers=['CPUExecutionProvider'])
                run = lambda: s.run(None, {'x': x.numpy()})[0]
                rows.append((name, best(run), torch.from_numpy(run())))
            for name, t, y in rows: print(f'| {preset} ({cfg.n_fft}) | {name} | {t:.2f} s | {float((y.double() - ref).abs().max()/ref.abs().max()):.1e} |')
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', default='demo_out/runs/fast'); ap.add_argument('--data', default='demo_out/data')
    ap.add_argument('--minutes', type=float, default=60.)
    ap.add_argument('--rss', action='store_true'); ap.add_argument('--stft', action='store_true')
    a = ap.parse_args()
    os.chdir(ROOT)
    if a.stft: stft_bench(a)
    if a.rss or not a.stft: rss_bench(a)
