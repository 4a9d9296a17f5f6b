"""Real-sound benchmark suite: build every real-sound set of `REAL_SETS` (game sounds, instruments, everyday sounds), train
and score each system on each set, and print one table per set and one averaged over the sets (test lwlrap, OOF lwlrap,
train time, inference time), with how many sets each system wins against logistic regression.

    .venv/bin/python bench/suite.py                                   # every set, default scale, logreg,cpu,fast
    .venv/bin/python bench/suite.py --sets instruments,everyday --systems logreg,cpu
    .venv/bin/python bench/suite.py --systems logreg,cpu,cpu+augment=false+mixup=0      # a candidate recipe: preset + overrides
    .venv/bin/python bench/suite.py --build-only                      # download and build the sets, train nothing

The systems, folds and scoring are those of bench/realsound.py (imported, not copied). Packages are downloaded once
(`apt-get download`, no root) and each set is built once per scale and seed under --cache (default data/realsound,
git-ignored; the game set keeps the folder name bench/realsound.py gives it). Each (set, system) result is stored under
--cache/suite/ and reused by later runs with the same scale, seed, folds and device (--rerun trains again), so a suite
can be measured a system at a time and printed whole."""
import argparse, json, os, sys, time
from pathlib import Path
import pandas as pd, torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realsound import ROOT, run_logreg, run_tagger, system_config, split_systems
from fsd_tagger.core import default_device
from fsd_tagger.realsound import REAL_SETS, fetch_packages, make_real_fsd

def set_folder(cache, name, scale, seed):
    "Where set `name` is built: the game set where bench/realsound.py builds it, the others beside it"
    return cache/(f'fsd_scale{scale:g}_seed{seed}' if name == 'games' else f'{name}_scale{scale:g}_seed{seed}')

def build_set(cache, name, scale, seed):
    "The folder of set `name` at `scale`, `seed`: packages fetched and the dataset built once"
    ds = REAL_SETS[name]
    t0 = time.time()
    data = make_real_fsd(set_folder(cache, name, scale, seed), fetch_packages(cache, ds.packages), scale=scale, seed=seed, dataset=ds)
    info = json.loads((data/'realsound_info.json').read_text())
    print(f"set {name}: {len(info['vocab'])} classes, {info['config']['sizes']}, noisy wrong-label rate "
          f"{info['noisy_wrong_label_rate']:.2f} ({time.time() - t0:.0f} s)", flush=True)
    return data

def result(cache, set_name, data, system, a, device):
    "Scores of `system` on one set, from the result store when already measured with these settings"
    key = f"{set_name}_scale{a.scale:g}_seed{a.seed}_folds{a.folds}_{device.split(':')[0]}_{system}"
    f = cache/'suite'/(key.replace('/', '_') + '.json')
    if f.exists() and not a.rerun: return json.loads(f.read_text())
    out = cache/'runs'/f'suite_{set_name}_scale{a.scale:g}_seed{a.seed}'
    r = run_logreg(data, a.folds, a.seed) if system == 'logreg' else run_tagger(system, data, out, a.folds, a.seed, None, device, a.workers)
    f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(r))
    return r

FMT = {'test lwlrap': '{:.4f}'.format, 'OOF lwlrap': '{:.4f}'.format, 'train s': '{:.0f}'.format, 'inference s': '{:.0f}'.format,
       'vs logreg': '{:+.4f}'.format}

def tables(rows):
    "Per-set table and the table averaged over the sets (with the test margin over logreg and the sets won against it)"
    df = pd.DataFrame(rows).rename(columns=dict(test='test lwlrap', oof='OOF lwlrap', train_s='train s', infer_s='inference s'))
    base = df[df.system == 'logreg'].set_index('set')['test lwlrap']
    if len(base): df['vs logreg'] = df['test lwlrap'] - df.set.map(base)
    avg = df.groupby('system', sort=False)[[c for c in FMT if c in df]].mean()
    if len(base):
        avg['sets won'] = df[df.set.isin(base.index)].groupby('system', sort=False)['vs logreg'].apply(lambda d: f'{(d > 0).sum()}/{len(d)}')
    avg['sets'] = df.groupby('system', sort=False).set.nunique()
    return df, avg.reset_index()

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--sets', default=','.join(REAL_SETS), help=f'comma-separated, from {", ".join(REAL_SETS)}')
    ap.add_argument('--systems', default='logreg,cpu,fast')
    ap.add_argument('--scale', type=float, default=1.); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--cache', type=Path, default=ROOT/'data'/'realsound')
    ap.add_argument('--folds', type=int, default=2)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--device', default=None, help='cpu, cuda, ... (default: cuda when available)')
    ap.add_argument('--workers', type=int, default=None, help='data-loading processes per run (default: 0 on the CPU, all cores on a GPU)')
    ap.add_argument('--build-only', action='store_true', help='download and build the sets, train nothing')
    ap.add_argument('--rerun', action='store_true', help='measure again what the result store already holds')
    a = ap.parse_args()
    sets = a.sets.split(',')
    for s in sets:
        if s not in REAL_SETS: sys.exit(f'unknown set {s!r}; choose from {", ".join(REAL_SETS)}')
    names = split_systems(a.systems)
    for name in names:   # a typo fails before hours of work
        if name != 'logreg': system_config(name, a.folds, a.seed)
    device = str(default_device(a.device))
    torch.set_num_threads(a.threads)
    data = {s: build_set(a.cache, s, a.scale, a.seed) for s in sets}
    if a.build_only: return
    rows = []
    for s in sets:
        for name in names:
            rows.append(dict(set=s, system=name, **result(a.cache, s, data[s], name, a, device)))
            print(json.dumps(rows[-1]), flush=True)
    df, avg = tables(rows)
    print(f'\nreal-sound suite, scale {a.scale:g}, seed {a.seed}, {device}, {a.threads} threads:')
    print(df.to_string(index=False, formatters=FMT))
    print(f'\naveraged over {len(sets)} sets:')
    print(avg.to_string(index=False, formatters=FMT))

if __name__ == '__main__': main()
