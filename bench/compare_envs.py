"""The same benchmarks under two Python environments, side by side: is another torch (or any other locked set) faster?

    .venv/bin/python bench/compare_envs.py /tmp/other-venv/bin/python                  # this venv (A) vs the other (B)
    .venv/bin/python bench/compare_envs.py B_PYTHON --rounds 3 --seconds 10

Runs `bench/train_step.py` (training samples/s and inference clips/s per arch and precision variant) and
`bench/pipeline.py` (clips/s of the data pipelines) with each interpreter in turn, A B A B ... for `--rounds` rounds, on
this checkout's fsd_tagger (both scripts put the checkout first on sys.path), then prints every figure's median per
environment and the ratio B/A (above 1: B is faster). Alternating keeps a drift in the machine's speed out of the ratio.
"""
import argparse, re, statistics, subprocess, sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def versions(python):
    "torch/torchaudio/torchvision/fastai versions of `python`'s environment"
    code = "import torch, torchaudio, torchvision, fastai; print(torch.__version__, torchaudio.__version__, torchvision.__version__, fastai.__version__)"
    return subprocess.run([python, '-c', code], capture_output=True, text=True, check=True).stdout.split()

def figures(out):
    "{name: value} from the scripts' output: train_step's table rows and pipeline's `(x) ... = N clips/s` lines"
    res = {}
    for arch, var, tr, inf in re.findall(r'^\| (\S+) \| ([^|]+?) \| ([\d.]+) \| ([\d.]+) \|$', out, re.M):
        res[f'{arch} {var} train samples/s'] = float(tr); res[f'{arch} {var} inference clips/s'] = float(inf)
    for key, v in re.findall(r'^\((\w\*?)\) .*?\n\s+\d+ clips in [\d.]+ s = ([\d.]+) clips/s', out, re.M):
        res[f'pipeline ({key}) clips/s'] = float(v)
    return res

def run_once(python, a):
    "All figures of one round under `python`"
    out = ''
    for cmd in ([python, 'bench/train_step.py', '--archs', *a.archs, '--steps', str(a.steps)],
                [python, 'bench/pipeline.py', '--seconds', str(a.seconds), '--n-files', str(a.n_files)]):
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode: sys.exit(f'{" ".join(cmd)} failed:\n{r.stderr[-2000:]}')
        out += r.stdout
    return figures(out)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('other', help="the other environment's python (B); A is this one")
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--archs', nargs='+', default=['cnn_s', 'xresnet18'])
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--seconds', type=float, default=10.)
    ap.add_argument('--n-files', type=int, default=300)
    a = ap.parse_args()
    envs = dict(A=sys.executable, B=a.other)
    for k, py in envs.items():
        t, ta, tv, fa = versions(py)
        print(f'{k}: {py}: torch {t} / torchaudio {ta} / torchvision {tv} / fastai {fa}', flush=True)
    got = {k: defaultdict(list) for k in envs}
    for i in range(a.rounds):
        for k, py in envs.items():
            for name, v in run_once(py, a).items(): got[k][name].append(v)
            print(f'round {i+1}/{a.rounds}: {k} done', flush=True)
    print(f'\n| figure (median of {a.rounds}) | A | B | B/A |\n|---|---:|---:|---:|')
    for name in got['A']:
        ma, mb = statistics.median(got['A'][name]), statistics.median(got['B'].get(name, [float('nan')]))
        print(f'| {name} | {ma:.1f} | {mb:.1f} | {mb/ma:.2f} |')
    ratios = [statistics.median(got['B'][n])/statistics.median(got['A'][n]) for n in got['A'] if n in got['B']]
    print(f'\ngeometric mean of B/A over {len(ratios)} figures: {statistics.geometric_mean(ratios):.3f}')

if __name__ == '__main__': main()
