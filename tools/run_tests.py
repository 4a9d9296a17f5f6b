"""Run every notebook in nbs/ as tests on CPU (nbdev's test_nb) and print one summary line `N passed, M failed`.

    python tools/run_tests.py                 # all notebooks, `cuda` cells skipped (what `make test` runs)
    python tools/run_tests.py 02 03           # the notebooks whose names contain 02 or 03
    python tools/run_tests.py --cuda 01 02    # on a GPU machine: the `cuda` cells run too

Each notebook that passes is also saved with its outputs to `_exec/` (git-ignored), stamped with a key of the sources,
so that `make docs` (tools/docs.py) renders those outputs instead of executing every notebook a second time.

Each notebook runs with its own temporary folder (TMPDIR, inherited by the CLI processes it starts), removed when the
notebook ends, passed or failed: the tests' toy datasets and training runs never pile up in /tmp.

The notebooks start longest first (the seconds each took last time, in tools/test_durations.json; a notebook not listed
there starts first), so that the two at a time finish together instead of one long notebook running alone at the end.
`--record` rewrites that file with this run's times."""
import argparse, hashlib, json, multiprocessing as mp, os, shutil, sys, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
EXEC = ROOT/'_exec'
DURATIONS = ROOT/'tools'/'test_durations.json'

def source_key():
    "Hash of everything a notebook's outputs depend on: all notebooks (the package is exported from them) and pyproject"
    h = hashlib.sha1()
    for p in [ROOT/'pyproject.toml', *sorted((ROOT/'nbs').glob('*.ipynb'))]: h.update(p.name.encode()); h.update(p.read_bytes())
    return h.hexdigest()

def _saver(key):
    from fastcore.nbio import write_nb
    def _save(nb, fn):
        "Write the executed `nb` to `_exec/` (never over the source notebook `fn`)"
        nb.metadata['fsd_exec'] = {'key': key}
        EXEC.mkdir(exist_ok=True)
        tmp = EXEC/f'.{Path(fn).name}.tmp'
        write_nb(nb, tmp); tmp.replace(EXEC/Path(fn).name)
    return _save

def _du(path):
    "Bytes under `path`"
    return sum(f.stat().st_size for f in Path(path).rglob('*') if f.is_file() and not f.is_symlink())

def _run(nb, key=None, cuda=False):
    from nbdev.config import get_config
    from nbdev.test import test_nb
    cfg = get_config(ROOT)
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    if cuda: flags = [f for f in flags if f != 'cuda']
    os.chdir(ROOT/'nbs')
    (EXEC/nb.name).unlink(missing_ok=True)
    # test_nb(save=True) writes the executed notebook with nbdev.test.write_nb: redirect it to _exec/
    tmp = tempfile.mkdtemp(prefix=f'fsd-test-{nb.stem}-')
    os.environ['TMPDIR'], tempfile.tempdir = tmp, tmp  # this process is this notebook's alone (max_tasks_per_child=1)
    try:
        with mock.patch('nbdev.test.write_nb', _saver(key or source_key())):
            ok, secs = test_nb(nb, skip_flags=flags, basepath=ROOT, cell_timeout=cfg.cell_timeout, save=True)
        return nb.name, ok, secs, _du(tmp)
    finally: shutil.rmtree(tmp, ignore_errors=True)

def longest_first(nbs, durations=None):
    "`nbs` in the order to start them: by the seconds they took last time (`durations`: name -> s), longest first; unknown ones first"
    d = durations if durations is not None else (json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {})
    return sorted(nbs, key=lambda p: -d.get(Path(p).name, float('inf')))

def run(nbs, workers=None, cuda=False):
    "Run notebooks `nbs` as tests, two at a time (`cuda`: their `cuda` cells too); print one line per notebook and return `[(name, ok, secs)]`"
    os.environ.setdefault('OMP_NUM_THREADS', '1')  # two notebooks at once on two cores
    key, res = source_key(), []
    # a fresh process per notebook: IPython's shell replaces __main__ in the process that ran one
    with ProcessPoolExecutor(max_workers=workers or min(2, os.cpu_count() or 1), mp_context=mp.get_context('spawn'),
                             max_tasks_per_child=1) as ex:
        for name, ok, secs, tmp_bytes in ex.map(_run, nbs, [key]*len(nbs), [cuda]*len(nbs)):
            print(f"{'PASS' if ok else 'FAIL'}  {name}  ({secs:.0f} s, {tmp_bytes/2**20:.0f} MiB of temporary files, removed)", flush=True)
            res.append((name, ok, secs))
    return res

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('patterns', nargs='*', help='run only the notebooks whose names contain one of these')
    ap.add_argument('--cuda', action='store_true', help='run the cells flagged `cuda` too (needs a GPU)')
    ap.add_argument('--workers', type=int, default=None, help='notebooks at a time (default 2)')
    ap.add_argument('--record', action='store_true', help=f'write the times of this run to {DURATIONS.relative_to(ROOT)}')
    a = ap.parse_args(argv)
    nbs = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not a.patterns or any(s in p.name for s in a.patterns))
    start = time.time()
    res = run(longest_first(nbs), a.workers, a.cuda)
    results = [ok for _, ok, _ in res]
    if a.record: DURATIONS.write_text(json.dumps({**(json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}), **{n: round(s) for n, _, s in res}}, indent=1, sort_keys=True) + '\n')
    n_ok = sum(results)
    print(f"notebooks run: {len(results)} in {time.time()-start:.0f} s")
    print(f"{n_ok} passed, {len(results)-n_ok} failed")
    sys.exit(0 if results and n_ok == len(results) else 1)

if __name__ == '__main__': main()
