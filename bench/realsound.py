"""Real-sound benchmark: build an FSDKaggle2019-format dataset from recordings in Debian packages, then train and score
every system on the same split, and print one table (system, test lwlrap, OOF lwlrap, train time, inference time).

    .venv/bin/python bench/realsound.py                      # default scale: 600 curated / 1500 noisy / 400 test clips
    .venv/bin/python bench/realsound.py --scale 0.25 --systems logreg,cpu
    .venv/bin/python bench/realsound.py --systems cpu,cpu+mixup=0,cpu+arch=cnn_m     # ablations: preset + overrides

Packages are downloaded once (`apt-get download`, ~3.3 GB, no root needed) and the dataset is built once per scale and
seed, both cached under --cache (default data/realsound, git-ignored). Every system uses the same folds: the curated
table's `group` column (two partitions of the training recordings), so OOF clips never share a recording with the
clips a fold trained on, and the test clips come from recordings no training clip uses."""
import argparse, json, os, re, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from fsd_tagger.core import multi_hot, default_device
from fsd_tagger.data import load_split, FSDPaths
from fsd_tagger.model import lwlrap
from fsd_tagger.train import TrainConfig, TrainRun, make_folds
from fsd_tagger.inference import make_submission, evaluate
from fsd_tagger.realsound import fetch_packages, make_real_fsd, logmel_stats, linear_baseline

# `fast` as it was before the real-sound work (spectrogram preset written out, since the preset itself may change)
FAST_BEFORE = dict(spec=dict(duration=1.5, n_fft=1024, win_length=1024, hop_length=1024, n_mels=64, f_min=20., f_max=22050., top_db=80.),
                   arch='xresnet18', bs=16, n_folds=2, seed=42, noisy_sched=[[2, 1e-2]], curated_sched=[[6, 1e-2]], mixup=0.4)
SYSTEMS = dict(fast_before=FAST_BEFORE, fast='fast', cpu='cpu', seed='seed', best='best')

def run_logreg(data, n_folds, seed):
    "OOF (group folds) and test lwlrap of logistic regression on clip log-mel statistics, curated + noisy clips"
    vocab = FSDPaths(data).vocab()
    cur, noisy, test = load_split(data, 'curated'), load_split(data, 'noisy'), load_split(data, 'test')
    t0 = time.time()
    Xc, Xn, Xt = (logmel_stats(df.path, progress=False) for df in (cur, noisy, test))
    t_feat = time.time() - t0
    yc, yn, yt = (multi_hot(df.labels, vocab) for df in (cur, noisy, test))
    folds = make_folds(cur, vocab, n_folds, 'group', seed).fold.values
    oof, t0 = np.zeros(yc.shape), time.time()
    for k in range(n_folds):
        keep = ~noisy.group.isin(cur.group[folds == k]).values   # noisy clips of the held-out recordings stay out, as in TrainRun
        m = linear_baseline(np.concatenate([Xc[folds != k], Xn[keep]]), np.concatenate([yc[folds != k], yn[keep]]))
        oof[folds == k] = m.predict_proba(Xc[folds == k])
    m = linear_baseline(np.concatenate([Xc, Xn]), np.concatenate([yc, yn]))
    t_fit = time.time() - t0
    t0 = time.time(); scores = m.predict_proba(Xt); t_inf = time.time() - t0
    n_train = len(cur) + len(noisy)
    return dict(test=lwlrap(yt, scores), oof=lwlrap(yc, oof), train_s=t_feat*n_train/(n_train + len(test)) + t_fit,
                infer_s=t_feat*len(test)/(n_train + len(test)) + t_inf)

def system_config(name, n_folds, seed):
    "The `TrainConfig` of system `name`: a key of `SYSTEMS`, optionally with overrides `+key=value` (JSON values), e.g. cpu+mixup=0"
    base, *overrides = name.split('+')
    if base not in SYSTEMS: sys.exit(f'unknown system {base!r}; choose from logreg, {", ".join(SYSTEMS)}')
    def value(v):
        if v in ('True', 'False'): return v == 'True'   # Python spelling of a JSON boolean
        try: return json.loads(v)
        except json.JSONDecodeError: return v
    kw = dict(o.split('=', 1) for o in overrides)
    kw = {k: value(v) for k, v in kw.items()} | dict(fold_method='group', n_folds=n_folds, seed=seed)
    cfg = SYSTEMS[base]
    return TrainConfig.preset(cfg, **kw) if isinstance(cfg, str) else TrainConfig.from_dict({**cfg, **kw})

def run_tagger(name, data, out, n_folds, seed, train_folds=None, device='cpu', workers=None):
    "Train system `name` with group folds (all, or `train_folds`), submit on the test clips with the trained folds (no TTA), score both"
    cfg = system_config(name, n_folds, seed)
    run = TrainRun(data, out/name, cfg, device=device, num_workers=workers, progress=False)
    res = run.fit(train_folds)
    oof_row = res[res.fold == 'oof'].iloc[0]
    t0 = time.time()
    sub = make_submission(data, out/name, out/name/'submission.csv', tta=0, device=device, progress=False)
    t_inf = time.time() - t0
    ev = evaluate(sub, FSDPaths(data).test_labels, plot=False)
    return dict(test=ev['lwlrap'], oof=float(oof_row.lwlrap),
                train_s=float(oof_row.train_seconds), infer_s=t_inf)

def split_systems(systems):
    "The system names of a comma-separated list; commas inside [...] or {...} belong to a value, e.g. cpu+mixed_sched=[[20,3e-3]]"
    return re.split(r',(?![^\[{]*[\]}])', systems)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--scale', type=float, default=1.); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--cache', type=Path, default=ROOT/'data'/'realsound')
    ap.add_argument('--systems', default='logreg,fast_before,cpu')
    ap.add_argument('--folds', type=int, default=2)
    ap.add_argument('--train-folds', default=None, help='train only these folds, e.g. 0 (ablations: OOF of that fold, test by its model alone)')
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--data', type=Path, default=None, help='score an existing real-sound dataset folder instead of building one')
    ap.add_argument('--device', default=None, help='cpu, cuda, ... (default: cuda when available)')
    ap.add_argument('--workers', type=int, default=None, help='data-loading processes per run (default: 0 on the CPU, all cores on a GPU)')
    a = ap.parse_args()
    device = str(default_device(a.device))
    torch.set_num_threads(a.threads)
    names = split_systems(a.systems)
    for name in names:   # a typo fails before hours of work
        if name != 'logreg': system_config(name, a.folds, a.seed)
    data = a.data or make_real_fsd(a.cache/f'fsd_scale{a.scale:g}_seed{a.seed}', fetch_packages(a.cache), scale=a.scale, seed=a.seed)
    if not (data/'realsound_info.json').exists(): sys.exit(f'{data}: not a real-sound dataset (no realsound_info.json)')
    info = json.loads((data/'realsound_info.json').read_text())
    print(f"dataset {data}: {len(info['vocab'])} classes, {info['config']['sizes']}, noisy wrong-label rate "
          f"{info['noisy_wrong_label_rate']:.2f}", flush=True)
    tag = data.name if a.data else f'scale{a.scale:g}_seed{a.seed}'
    out, rows = a.cache/'runs'/(tag + (f'_folds{a.train_folds}' if a.train_folds else '')), []
    for name in names:
        r = run_logreg(data, a.folds, a.seed) if name == 'logreg' else run_tagger(name, data, out, a.folds, a.seed, a.train_folds, device, a.workers)
        rows.append(dict(system=name, **r)); print(json.dumps(rows[-1]), flush=True)
    df = pd.DataFrame(rows).rename(columns=dict(test='test lwlrap', oof='OOF lwlrap', train_s='train s', infer_s='inference s'))
    print(f'\nreal-sound benchmark, {data.name}, {device}, {a.threads} threads:')
    print(df.to_string(index=False, formatters={'test lwlrap': '{:.4f}'.format, 'OOF lwlrap': '{:.4f}'.format,
                                                'train s': '{:.0f}'.format, 'inference s': '{:.0f}'.format}))

if __name__ == '__main__': main()
