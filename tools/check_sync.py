"""Fail when the exported package, the cleaned notebooks or README.md are out of sync with the notebooks.

Runs nbdev-export, nbdev-clean and the README render, and compares every file they may touch before and after.
With --fix the updated files are kept and reported without failing (they are kept in any case: review and commit)."""
import ast, hashlib, json, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT/'tools'))
import readme

def snapshot():
    files = [*ROOT.glob('fsd_tagger/**/*.py'), *ROOT.glob('nbs/*.ipynb'), ROOT/'README.md']
    return {str(f.relative_to(ROOT)): hashlib.sha1(f.read_bytes()).hexdigest() for f in files if f.exists()}

def redundant_show_docs():
    "`show_doc` cells for what nbdev documents by itself (every exported top-level name, every `@patch` method): `show_doc` is for methods defined in a class body"
    extra = {}
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        cells = [''.join(c['source']) for c in json.loads(nb.read_text())['cells']]
        m = re.search(r'#\|\s*default_exp\s+(\S+)', '\n'.join(cells))
        mod = ROOT/'fsd_tagger'/f"{m.group(1).replace('.', '/')}.py" if m else None
        if not mod or not mod.exists(): continue
        names = next((ast.literal_eval(n.value) for n in ast.parse(mod.read_text()).body
                      if isinstance(n, ast.Assign) and getattr(n.targets[0], 'id', '') == '__all__'), [])
        exported = '\n'.join(c for c in cells if c.startswith('#| export'))
        shown = re.findall(r'^show_doc\((\w+)(?:\.(\w+))?\s*[,)]', '\n'.join(cells), re.M)
        if (rs := [f'{o}.{a}' if a else o for o, a in shown
                   if (not a and o in names) or (a and re.search(rf'def {a}\(self\s*:\s*{o}\b', exported))]): extra[nb.name] = rs
    return extra

def main(fix=False):
    before = snapshot()
    for cmd in ('nbdev-export', 'nbdev-clean'): subprocess.run([str(BIN/cmd)], cwd=ROOT, check=True)
    readme.write()
    after = snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if (extra := redundant_show_docs()):
        print('show_doc cells for names nbdev documents by itself (remove them):\n  ' + '\n  '.join(f'{k}: {", ".join(v)}' for k, v in extra.items()))
        sys.exit(1)
    if not changed: return print('in sync: exported package, clean notebooks and README.md match nbs/')
    print('out of sync, now regenerated (review and commit):\n  ' + '\n  '.join(changed))
    if not fix: sys.exit(1)

if __name__ == '__main__': main(fix='--fix' in sys.argv)
