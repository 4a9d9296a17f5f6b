"""Run every notebook in nbs/ as tests on CPU (nbdev's test_nb) and print one summary line `N passed, M failed`.

Each notebook runs in a fresh process, two at a time; the executed copies (with outputs and plots) are kept in
`_exec/` so that the docs build can render them without running everything again."""
import multiprocessing as mp, os, shutil, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXEC = ROOT/'_exec'

def _run(nb):
    from nbdev.config import get_config
    from nbdev.test import test_nb
    cfg = get_config(ROOT)
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    os.chdir(ROOT/'nbs')
    copy = nb.with_name(f'.exec_{nb.name}')  # run a copy beside the original (same working folder), keep its outputs
    shutil.copy(nb, copy)
    try:
        ok, secs = test_nb(copy, skip_flags=flags, basepath=ROOT, cell_timeout=cfg.cell_timeout, save=True)
        if ok: EXEC.mkdir(exist_ok=True); shutil.move(copy, EXEC/nb.name)
    finally: copy.unlink(missing_ok=True)
    return nb.name, ok, secs

def main(pattern=None):
    nbs = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not pattern or pattern in p.name)
    os.environ.setdefault('OMP_NUM_THREADS', '1')  # two notebooks at once on two cores
    start, results = time.time(), []
    # a fresh process per notebook: IPython's shell replaces __main__ in the process that ran one
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1), mp_context=mp.get_context('spawn'), max_tasks_per_child=1) as ex:
        for name, ok, secs in ex.map(_run, nbs):
            print(f"{'PASS' if ok else 'FAIL'}  {name}  ({secs:.0f} s)", flush=True)
            results.append(ok)
    n_ok = sum(results)
    print(f"notebooks run: {len(results)} in {time.time()-start:.0f} s")
    print(f"{n_ok} passed, {len(results)-n_ok} failed")
    sys.exit(0 if results and n_ok == len(results) else 1)

if __name__ == '__main__': main(sys.argv[1] if len(sys.argv) > 1 else None)
