"""Per-class thresholds and probability calibration, judged on the out-of-fold (OOF) predictions of trained runs.

    .venv/bin/python bench/calibration.py              # the real-sound run and the demo run (each skipped when missing)
    .venv/bin/python bench/calibration.py RUN [RUN ...]

A run is a merged training run (oof.csv and folds.csv; `fsd-tagger merge RUN`). Every figure is cross-fitted: thresholds
or calibration fitted on the other folds' OOF rows, scored on this fold's rows, so no row scores a fit it took part in.
Three tables per run:
1. threshold rules: macro and micro F1 (and macro precision, recall) of one global 0.5, the pooled F1-optimal threshold,
   each class's own F1-optimal threshold, the larger of the two (a floor), and own shrunk toward pooled (`shrink`);
2. few positives, simulated: each class refitted on only m of its positives in the fitting fold (the pooled threshold
   still from all rows), mean F1 over classes and repeats on the other fold: own, floor, pooled, shrink=10;
3. calibration: log-loss, ECE (15 bins) and lwlrap of each method, and the change against no calibration with a 95%
   bootstrap interval over clips;
4. on the labelled test clips, when the run has a submission.csv and labels (`--test SUBMISSION LABELS` for a run given
   on the command line): the fold ensemble scored at thresholds, and with calibrations, fitted on all the OOF rows;
   what a user of the run gets on new recordings."""
import argparse, sys
from pathlib import Path
import numpy as np, pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from fsd_tagger.decisions import (run_oof, fit_thresholds, cross_fit_prf, prf_summary, prf_table, pooled_threshold,
                                  cross_fit_calibration, calibration_report, fit_calibration, calibrate, log_loss, ece, Calibration)
from fsd_tagger.core import choices_of

RUNS = [ROOT/'data/realsound/runs/scale1_seed0/cpu', ROOT/'demo_out/runs/fast']
HOW = {RUNS[0]: 'train it with bench/realsound.py (notebook 06)', RUNS[1]: 'make it with `make demo`'}
TESTS = {RUNS[0]: (RUNS[0]/'submission.csv', ROOT/'data/realsound/fsd_scale1_seed0/test_labels.csv'),
         RUNS[1]: (ROOT/'demo_out/submission.csv', ROOT/'demo_out/data/test_labels.csv')}

def own_and_pooled(y, s, vocab):
    t = fit_thresholds(y, s, vocab, shrink=0)
    return t.threshold.to_numpy(), t.attrs['pooled']

def rules_table(y, s, vocab, f):
    rules = {'global 0.5': lambda y, s, v: .5,
             'pooled (shrink=inf)': lambda y, s, v: pooled_threshold(y, s),
             'own (shrink=0)': lambda y, s, v: own_and_pooled(y, s, v)[0],
             'floor: max(own, pooled)': lambda y, s, v: np.maximum(*own_and_pooled(y, s, v))}
    rules.update({f'shrink={k}' + (' (default)' if k == 10 else ''): (lambda k: lambda y, s, v: fit_thresholds(y, s, v, shrink=k).threshold.to_numpy())(k)
                  for k in (5, 10, 20, 40)})
    rows = []
    for name, fit in rules.items():
        sm = prf_summary(cross_fit_prf(y, s, vocab, f, fit=fit))
        rows.append(dict(rule=name, macro_f1=sm['macro_f1'], micro_f1=sm['micro_f1'], macro_precision=sm['macro_precision'], macro_recall=sm['macro_recall']))
    return pd.DataFrame(rows)

def rare_table(y, s, vocab, f, ms=(1, 2, 3, 5, 10), reps=10, seed=0):
    rng, rows = np.random.default_rng(seed), []
    for m in ms:
        res = {k: [] for k in ('own', 'floor', 'pooled', 'shrink=10')}
        for _ in range(reps):
            for k in np.unique(f):
                tr, te = f != k, f == k
                pooled = pooled_threshold(y[tr], s[tr])
                for j in range(len(vocab)):
                    pos = np.flatnonzero(y[tr, j] > 0)
                    if len(pos) < m: continue
                    keep = np.ones(tr.sum(), bool); keep[rng.choice(pos, len(pos) - m, replace=False)] = False
                    own = fit_thresholds(y[tr][keep][:, [j]], s[tr][keep][:, [j]], [vocab[j]], shrink=0).threshold[0]
                    w = m/(m + 10)
                    for name, t in (('own', own), ('floor', max(own, pooled)), ('pooled', pooled), ('shrink=10', w*own + (1 - w)*pooled)):
                        res[name].append(prf_table(y[te][:, [j]], s[te][:, [j]], t, [vocab[j]]).f1[0])
        rows.append(dict(positives=m, **{k: float(np.nanmean(v)) for k, v in res.items()}, n=len(res['own'])))
    return pd.DataFrame(rows)

def _row_ece(y, p, idx, bins=15):
    return ece(y[idx], p[idx], bins)

def calib_table(y, s, vocab, f, boot=1000, seed=0):
    rep = calibration_report(y, s, vocab, f).set_index('method')
    rng = np.random.default_rng(seed)
    idx = [rng.integers(0, len(y), len(y)) for _ in range(boot)]
    pc = np.clip(s, 1e-6, 1 - 1e-6)
    row_ll = lambda p: -(y*np.log(np.clip(p, 1e-6, 1 - 1e-6)) + (1 - y)*np.log1p(-np.clip(p, 1e-6, 1 - 1e-6))).mean(1)
    base_ll, base_ece = row_ll(s), [ece(y[i], s[i]) for i in idx]
    for m in choices_of(Calibration):
        p = cross_fit_calibration(y, s, vocab, f, m)
        dll = np.array([(row_ll(p)[i] - base_ll[i]).mean() for i in idx])
        dece = np.array([ece(y[i], p[i]) for i in idx]) - base_ece
        rep.loc[m, 'd_log_loss'] = rep.loc[m, 'log_loss'] - rep.loc['none', 'log_loss']
        rep.loc[m, 'd_log_loss_95'] = f'[{np.quantile(dll, .025):+.4f}, {np.quantile(dll, .975):+.4f}]'
        rep.loc[m, 'd_ece'] = rep.loc[m, 'ece'] - rep.loc['none', 'ece']
        rep.loc[m, 'd_ece_95'] = f'[{np.quantile(dece, .025):+.4f}, {np.quantile(dece, .975):+.4f}]'
    return rep.reset_index()

def test_table(y, s, vocab, sub_csv, labels_csv):
    "Decisions and calibrations fitted on the OOF rows `y`, `s`, applied to the fold ensemble's test predictions"
    from fsd_tagger.inference import read_test_labels
    from fsd_tagger.core import multi_hot
    from fsd_tagger.model import lwlrap
    lab = read_test_labels(labels_csv)
    sub = pd.read_csv(sub_csv, dtype={'fname': str}).set_index('fname').loc[lab.fname, vocab]
    yt, st = multi_hot(lab.labels, vocab), sub.to_numpy(float)
    own, pooled = own_and_pooled(y, s, vocab)
    rules = {'global 0.5': .5, 'pooled (shrink=inf)': pooled, 'own (shrink=0)': own, 'floor: max(own, pooled)': np.maximum(own, pooled),
             **{f'shrink={k}': fit_thresholds(y, s, vocab, shrink=k).threshold.to_numpy() for k in (5, 10, 20, 40)}}
    rows = [dict(rule=n, **{k: v for k, v in prf_summary(prf_table(yt, st, t, vocab)).items() if k in ('macro_f1', 'micro_f1')}) for n, t in rules.items()]
    cal = [dict(method='none', log_loss=log_loss(yt, st), ece=ece(yt, st), lwlrap=lwlrap(yt, st))]
    for m in choices_of(Calibration):
        p = calibrate(fit_calibration(y, s, vocab, m), st)
        cal.append(dict(method=m, log_loss=log_loss(yt, p), ece=ece(yt, p), lwlrap=lwlrap(yt, p)))
    return len(yt), pd.DataFrame(rows), pd.DataFrame(cal)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('runs', nargs='*', type=Path, default=RUNS, help='merged run folders (oof.csv and folds.csv)')
    ap.add_argument('--boot', type=int, default=1000, help='bootstrap resamples of the clips')
    ap.add_argument('--reps', type=int, default=10, help='repeats of the few-positives simulation')
    ap.add_argument('--test', nargs=2, metavar=('SUBMISSION', 'LABELS'), type=Path, help="the runs' test predictions and labels")
    a = ap.parse_args(argv)
    pd.set_option('display.width', 200); pd.set_option('display.max_columns', 20)
    for run in a.runs:
        if not ((run/'oof.csv').is_file() and (run/'folds.csv').is_file()):
            print(f'skip {run}: no oof.csv and folds.csv there ({HOW.get(run, "train and merge a run there")})\n'); continue
        y, s, vocab, f = run_oof(run)
        npos = y.sum(0).astype(int)
        print(f'== {run.relative_to(ROOT) if run.is_relative_to(ROOT) else run}: {len(y)} clips, {len(vocab)} classes, folds {sorted(set(f.tolist()))}, '
              f'positives per class {npos.min()}-{npos.max()} (median {int(np.median(npos))})')
        print('\n1. threshold rules, cross-fitted'); print(rules_table(y, s, vocab, f).round(4).to_string(index=False))
        print(f'\n2. few positives: mean F1 of a class refitted on m of its positives (other fold; {a.reps} repeats)')
        print(rare_table(y, s, vocab, f, reps=a.reps).round(4).to_string(index=False))
        cal = {m: fit_calibration(y, s, vocab, m) for m in ('temperature', 'platt')}
        print(f"\n3. calibration, cross-fitted (fitted on all rows: T = {cal['temperature']['T']:.3f}; "
              f"platt a = {cal['platt']['a']:.3f}, b = {cal['platt']['b']:.3f})")
        print(calib_table(y, s, vocab, f, a.boot).round(4).to_string(index=False))
        sub, labels = a.test or TESTS.get(run, (run/'submission.csv', None))
        if labels is not None and sub.is_file() and labels.is_file():
            n, rules, cal = test_table(y, s, vocab, sub, labels)
            print(f'\n4. test clips ({n}, {sub.name} against {labels.name}): thresholds and calibration fitted on all OOF rows')
            print(rules.round(4).to_string(index=False)); print(cal.round(4).to_string(index=False))
        print()

if __name__ == '__main__': main()
