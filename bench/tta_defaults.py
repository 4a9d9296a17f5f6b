"""Inference defaults of `fsd-tagger submit`, judged on a trained run: window pooling and TTA on the out-of-fold (OOF)
curated clips, the fold-ensemble mean on the labelled test clips. Prints two tables (and writes them as CSV with --csv).

    .venv/bin/fsd-tagger demo                          # a trained run: demo_out/runs/fast on demo_out/data
    .venv/bin/python bench/tta_defaults.py             # that run, 4 TTA passes, TTA seeds 0 1 2
    .venv/bin/python bench/tta_defaults.py --run runs/seed --data data/fsd --labels data/fsd/test_post_competition.csv

Pooling and TTA are judged on the OOF clips: each is tagged by the one fold model that did not train on it, over
whole-clip windows, as `submit` tags test clips. The ensemble cannot be judged that way (every clip is held out from
exactly one fold model), so its two means are compared on test clips that no model trained on."""
import argparse, sys, time
from pathlib import Path
import pandas as pd, torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from fsd_tagger.core import FSDDataError, multi_hot
from fsd_tagger.data import FSDPaths, load_split
from fsd_tagger.model import lwlrap
from fsd_tagger.run import RunFolder
from fsd_tagger.inference import (Pool, Ensemble, Tagger, ensemble_probs, pool_passes, read_clip, read_test_labels)

def oof_grid(run, data, tta=4, seeds=(0,), beta=0.25, device=None, chunk=16):
    "OOF lwlrap of `run` on the curated clips of `data` for each window pooling, without TTA and with `tta` passes per TTA seed"
    folds = pd.read_csv(RunFolder(run).folds, dtype={'fname': str})
    cur = load_split(data, 'curated').merge(folds[['fname', 'fold']], on='fname')
    keys = [(pl, 0, None) for pl in Pool] + [(pl, tta, s) for s in seeds for pl in Pool]
    probs, fnames = {k: [] for k in keys}, []
    for k in RunFolder(run).finished_folds():
        d = cur[cur.fold == k]
        for s in seeds:
            t = Tagger.from_run(run, folds=[k], tta=tta, beta=beta, device=device, seed=s)
            for i in range(0, len(d), chunk):
                wp, counts = t.window_probs([read_clip(p, t.cfg.sr) for p in d.path.iloc[i:i + chunk]])
                for pl, n, ts in keys:
                    if ts == s or (n == 0 and s == seeds[0]): probs[pl, n, ts].append(pool_passes(wp, counts, pl, beta, n)[0])
        fnames += list(d.fname)
    if not fnames: raise FSDDataError(f'{run}: no finished fold with held-out clips')
    truth = multi_hot(cur.set_index('fname').loc[fnames, 'labels'], t.vocab)
    return pd.DataFrame([dict(pool=pl, tta=n, tta_seed=ts, oof_lwlrap=lwlrap(truth, torch.cat(probs[pl, n, ts]).numpy()))
                         for pl, n, ts in keys])

def ensemble_grid(run, data, labels=None, tta=0, device=None):
    "Test lwlrap of the fold ensemble of `run` by each mean and pooling, on the test clips of `data` with `labels` (default: its test_labels.csv)"
    p = FSDPaths(data)
    lab = read_test_labels(labels or p.test_labels)
    truth, rows = None, []
    for pl in Pool:
        t = Tagger.from_run(run, pool=pl, tta=tta, device=device)
        pm, _, _ = t.predict_proba([p.test/f for f in lab.fname], errors='raise', progress=False, per_model=True)
        truth = multi_hot(lab.labels, t.vocab)
        rows += [dict(pool=pl, tta=tta, ensemble=how, test_lwlrap=lwlrap(truth, ensemble_probs(pm, how).numpy())) for how in Ensemble]
    return pd.DataFrame(rows)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', type=Path, default=ROOT/'demo_out'/'runs'/'fast', help='run folder (default: the demo run)')
    ap.add_argument('--data', type=Path, default=ROOT/'demo_out'/'data', help="the run's dataset root")
    ap.add_argument('--labels', type=Path, default=None, help="test labels (default: the dataset's test_labels.csv)")
    ap.add_argument('--tta', type=int, default=4, help='augmented passes per TTA run')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='TTA seeds')
    ap.add_argument('--device', default=None)
    ap.add_argument('--csv', type=Path, default=None, help='also write oof_grid.csv and ensemble_grid.csv into this folder')
    a = ap.parse_args(argv)
    t0 = time.time()
    oof = oof_grid(a.run, a.data, a.tta, a.seeds, device=a.device)
    ens = pd.concat([ensemble_grid(a.run, a.data, a.labels, n, a.device) for n in (0, a.tta)], ignore_index=True)
    print(f'run {a.run} on {a.data}: OOF lwlrap by pooling and TTA (seed: TTA seed)')
    print(oof.to_string(index=False, float_format='%.4f'))
    print('\nfold ensemble, test lwlrap by pooling, TTA and mean')
    print(ens.to_string(index=False, float_format='%.4f'))
    print(f'\n{time.time()-t0:.0f} s')
    if a.csv:
        a.csv.mkdir(parents=True, exist_ok=True)
        oof.to_csv(a.csv/'oof_grid.csv', index=False); ens.to_csv(a.csv/'ensemble_grid.csv', index=False)
    return oof, ens

if __name__ == '__main__': main()
