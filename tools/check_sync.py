"""Fail when the exported package, the cleaned notebooks or README.md are out of sync with the notebooks.

Runs nbdev-export, nbdev-clean and the README render, and compares every file they may touch before and after.
With --fix the updated files are kept and reported without failing (they are kept in any case: review and commit)."""
import hashlib, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT/'tools'))
import readme

def snapshot():
    files = [*ROOT.glob('fsd_tagger/**/*.py'), *ROOT.glob('nbs/*.ipynb'), ROOT/'README.md']
    return {str(f.relative_to(ROOT)): hashlib.sha1(f.read_bytes()).hexdigest() for f in files if f.exists()}

def main(fix=False):
    before = snapshot()
    for cmd in ('nbdev-export', 'nbdev-clean'): subprocess.run([str(BIN/cmd)], cwd=ROOT, check=True)
    readme.write()
    after = snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if not changed: return print('in sync: exported package, clean notebooks and README.md match nbs/')
    print('out of sync, now regenerated (review and commit):\n  ' + '\n  '.join(changed))
    if not fix: sys.exit(1)

if __name__ == '__main__': main(fix='--fix' in sys.argv)
