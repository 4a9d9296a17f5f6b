"""The application install's lock, its agreement with pyproject.toml, and smoke tests of the library's own ranges.

    python tools/deps.py lock            # (make lock) requirements.lock from pyproject.toml: every extra, Linux, Python >= 3.11
    python tools/deps.py check           # (make test) fail when pyproject.toml and requirements.lock disagree
    python tools/deps.py wheel           # (make check-wheel) the built wheel in a clean venv, no lock, no extras: toy, train, predict
    python tools/deps.py latest          # (make check-latest) the same with the newest versions pyproject allows and the export
                                         # extra, plus the export; prints what differs from the lock

`make install` installs exactly the lock (uv pip install -r requirements.lock, then this checkout with --no-deps), so
`make demo`, `make test` and CI get the same packages on every machine whatever is released later. `pip install
fsd_tagger` (the wheel) does not read the lock: it resolves pyproject.toml's ranges, which is what `wheel` and `latest`
test. Why uv: it resolves the torch stack in seconds from the registry's metadata, writes one lock for every Python
version and platform the ranges allow (markers on the lines that differ), and installs it several times faster than pip.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile, time, tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT/'requirements.lock'
PYPROJECT = ROOT/'pyproject.toml'
BIN = Path(sys.executable).parent
# what the lock is compiled for: every extra, so that one lock serves `make install` (which installs .[dev]) and the extras;
# --universal writes markers for the lines that differ between platforms and Python versions
COMPILE = ['pip', 'compile', 'pyproject.toml', '--all-extras', '--universal', '--python-version', '3.11', '--quiet',
           '--custom-compile-command', 'make lock']
SELF = 'fsd-tagger'  # the project's name as uv writes it in the lock's "# via" lines

def uv():
    "The uv binary: the venv's (it is in the dev extra), else one on PATH"
    for p in (BIN/'uv', shutil.which('uv')):
        if p and Path(p).exists(): return str(p)
    sys.exit('uv not found: run `make install` (the dev extra installs it) or `pip install uv`')

def norm(name): return re.sub(r'[-_.]+', '-', name).lower()

def project_requirements(pyproject=PYPROJECT):
    "Every requirement pyproject.toml declares (dependencies and all extras, self-references left out) as `Requirement`s"
    from packaging.requirements import Requirement
    proj = tomllib.loads(Path(pyproject).read_text())['project']
    reqs = [*proj.get('dependencies', []), *(r for rs in proj.get('optional-dependencies', {}).values() for r in rs)]
    return [r for r in map(Requirement, reqs) if norm(r.name) != norm(proj['name'])]

def read_lock(lock=LOCK):
    "The lock's pins: {normalised name: [(version, marker or None, vias)]}, one entry per line (a name can have one per marker)"
    pins, cur = {}, None
    for line in Path(lock).read_text().splitlines():
        if m := re.match(r'^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)\s*(?:;\s*(.+))?$', line):
            cur = (m[3], m[4], [])
            pins.setdefault(norm(m[1]), []).append(cur)
        elif cur and (v := re.match(r'^\s+#\s+(?:via\s+)?(\S.*)$', line)) and v[1] != 'via': cur[2].append(v[1])
    return pins

def asked_by_project(entries):
    "Whether the lock's `entries` for one package say the project itself requires it (uv's `# via fsd-tagger (pyproject.toml)`)"
    return any(v.startswith(SELF) for _, _, vias in entries for v in vias)

def disagreements(pyproject=PYPROJECT, lock=LOCK):
    "Lines saying where pyproject.toml and the lock disagree (empty when they agree)"
    pins, errs = read_lock(lock), []
    reqs = project_requirements(pyproject)
    for r in reqs:
        got = pins.get(norm(r.name))
        if not got: errs.append(f'{r.name}: in pyproject.toml ({r}), not in {lock.name}'); continue
        if not asked_by_project(got):
            errs.append(f'{r.name}: in pyproject.toml ({r}); {lock.name} has it only as a requirement of other packages'); continue
        for version, marker, _ in got:
            if r.specifier and not r.specifier.contains(version, prereleases=True):
                errs.append(f'{r.name}: {lock.name} pins {version}{f" ({marker})" if marker else ""}, pyproject.toml asks {r.specifier}')
    direct = {norm(r.name) for r in reqs}
    for name, entries in pins.items():
        if asked_by_project(entries) and name not in direct:
            errs.append(f'{name}: in {lock.name} as a requirement of the project, no longer in pyproject.toml')
    return errs

def check(args):
    if not LOCK.exists(): sys.exit(f'{LOCK.name} is missing: run `make lock` and commit it')
    if errs := disagreements():
        sys.exit(f'pyproject.toml and {LOCK.name} disagree (run `make lock`, then `make install`, and commit both):\n  '
                 + '\n  '.join(errs))
    n = sum(len(v) for v in read_lock().values())
    print(f'{LOCK.name} agrees with pyproject.toml: {len(project_requirements())} requirements, {n} pinned lines')

def lock(args):
    "Write the lock from pyproject.toml (newest versions the ranges allow, or the lock's own where --keep)"
    tmp = LOCK.with_suffix('.tmp')
    cmd = [uv(), *COMPILE, '-o', str(tmp)]
    if args.keep and LOCK.exists(): shutil.copy(LOCK, tmp)  # uv keeps the versions of an existing output file that still fit
    elif not args.keep: cmd.append('--upgrade')
    subprocess.run(cmd, cwd=ROOT, check=True)
    tmp.replace(LOCK)
    check(args)

def sh(cmd, **kw):
    "Run `cmd` (a list), echoing it and then its time; stop this script with its exit status when it fails"
    print('$', ' '.join(map(str, cmd)), flush=True)
    t = time.time(); r = subprocess.run(list(map(str, cmd)), **kw)
    if r.returncode: sys.exit(f'failed (exit {r.returncode}): {" ".join(map(str, cmd))}')
    print(f'  ({time.time()-t:.0f} s)', flush=True)
    return r

def build_wheel(out):
    "The fsd_tagger wheel built from this checkout into `out` (no network: the build backend comes from this venv)"
    sh([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '--no-index', '-w', out, ROOT])
    return next(Path(out).glob('fsd_tagger-*.whl'))

SMOKE_IMPORTS = """import importlib, pkgutil, fsd_tagger
mods = sorted(m.name for m in pkgutil.iter_modules(fsd_tagger.__path__) if not m.name.startswith('_'))
for m in mods: importlib.import_module(f'fsd_tagger.{m}')
print(f'imported {len(mods)} modules:', ' '.join(mods))"""

def installed(python):
    "{normalised name: version} of the packages installed for `python`"
    out = subprocess.run([python, '-m', 'pip', 'list', '--format=freeze'], capture_output=True, text=True).stdout
    if not out.strip():  # a uv venv has no pip: ask uv
        out = subprocess.run([uv(), 'pip', 'freeze', '--python', python], capture_output=True, text=True).stdout
    return {norm(n): v for n, v in re.findall(r'^([^=\s]+)==(\S+)', out, re.M)}

def lock_diff(got):
    "Lines: packages whose installed version differs from the lock's (for this Python), added or missing"
    from packaging.markers import Marker
    pins = {n: [v for v, m, _ in e if m is None or Marker(m).evaluate()] for n, e in read_lock().items()}
    pins = {n: v[0] for n, v in pins.items() if v}
    rows = [f'  {n}: {pins[n]} -> {got[n]}' for n in sorted(got.keys() & pins.keys()) if got[n] != pins[n]]
    rows += [f'  {n}: not in the lock -> {got[n]}' for n in sorted(got.keys() - pins.keys()) if n != 'fsd-tagger']
    return rows

def smoke(args):
    "Build the wheel, install it into a clean venv without the lock, and run the smoke commands with the venv's own fsd-tagger"
    t0, work = time.time(), Path(args.dir or tempfile.mkdtemp(prefix='fsd-smoke-'))
    venv = work/'venv'
    try:
        whl = build_wheel(work/'dist')
        sh([uv(), 'venv', '-q', '--python', sys.executable, venv])
        py, cli = venv/'bin'/'python', venv/'bin'/'fsd-tagger'
        spec = f'{whl}[{",".join(args.extras)}]' if args.extras else str(whl)
        # newest versions the ranges allow: no lock, no constraints file, the registry only
        sh([uv(), 'pip', 'install', '-q', '--python', py, '--no-config', spec], env={**os.environ, 'UV_CONSTRAINT': ''})
        env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': ''}
        run = lambda *c: sh(c, cwd=work, env=env)
        run(py, '-c', SMOKE_IMPORTS)
        run(cli, 'toy', work/'toy', '--n-curated', '40', '--n-noisy', '8', '--n-test', '6')
        # the `fast` preset cut to one short epoch per stage, as a config file (what `train --config` takes)
        run(py, '-c', "import sys; from fsd_tagger.train import TrainConfig; TrainConfig.preset('fast', bs=8, "
            "noisy_sched=[], curated_sched=[[1, 1e-3]]).save(sys.argv[1])", work/'tiny.json')
        run(cli, 'train', work/'toy', '--config', work/'tiny.json', '--out', work/'run', '--folds', '0')
        run(cli, 'predict', *sorted((work/'toy'/'test').glob('*.wav'))[:3], '--run', work/'run', '--top-k', '3')
        if 'export' in args.extras: run(cli, 'export', work/'run', '--out', work/'export', '--format', 'onnx')
        got = installed(py)
        print(f"\nsmoke test passed in {time.time()-t0:.0f} s with torch {got.get('torch')}, torchaudio {got.get('torchaudio')}, "
              f"torchvision {got.get('torchvision')}, fastai {got.get('fastai')} (Python {sys.version.split()[0]})")
        diff = lock_diff(got)
        print(f'installed vs {LOCK.name}: ' + ('the same versions' if not diff else f'{len(diff)} differ\n' + '\n'.join(diff)))
    finally:
        if not args.keep and not args.dir: shutil.rmtree(work, ignore_errors=True)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('lock', help='write requirements.lock from pyproject.toml (newest versions the ranges allow)')
    p.add_argument('--keep', action='store_true', help="keep the lock's versions where they still fit (only add or drop)")
    p.set_defaults(f=lock)
    sub.add_parser('check', help='fail when pyproject.toml and requirements.lock disagree').set_defaults(f=check)
    for name, extras, h in (('wheel', [], 'the wheel in a clean venv, no extras: toy, train, predict'),
                            ('latest', ['export'], 'the newest allowed versions with the export extra; what differs from the lock')):
        p = sub.add_parser(name, help=h)
        p.add_argument('--dir', help='work folder (kept); default: a temporary one, removed')
        p.add_argument('--keep', action='store_true', help='keep the temporary work folder')
        p.set_defaults(f=smoke, extras=extras)
    a = ap.parse_args(argv)
    a.f(a)

if __name__ == '__main__': main()
