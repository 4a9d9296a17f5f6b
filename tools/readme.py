"""Render nbs/index.ipynb to README.md without Quarto (nbdev-readme needs Quarto, which we cannot install)."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_directive = re.compile(r'^\s*#\s*\|\s*(\S+)')

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _directives(src): return {m.group(1) for l in src.splitlines() if (m := _directive.match(l))}

def _outputs(cell):
    for o in cell.get('outputs', []):
        if o['output_type'] == 'stream': yield 'text', ''.join(o['text'])
        elif 'data' in o:
            d = o['data']
            if 'text/markdown' in d: yield 'md', ''.join(d['text/markdown'])
            elif 'text/plain' in d: yield 'text', ''.join(d['text/plain'])

def render(nb_path=ROOT/'nbs'/'index.ipynb'):
    "Markdown for `nb_path`: prose as is, shown code fenced with its text outputs"
    nb, parts = json.loads(Path(nb_path).read_text()), []
    for cell in nb['cells']:
        src = _src(cell)
        if cell['cell_type'] == 'markdown': parts.append(src.strip()); continue
        if cell['cell_type'] != 'code' or _directives(src) & {'hide', 'export', 'exporti', 'exports'}: continue
        code = '\n'.join(l for l in src.splitlines() if not _directive.match(l)).strip()
        if code and 'hide_input' not in _directives(src) and 'echo:' not in src: parts.append(f'```python\n{code}\n```')
        for kind, txt in _outputs(cell): parts.append(txt.strip() if kind == 'md' else f'```\n{txt.rstrip()}\n```')
    return '\n\n'.join(p for p in parts if p) + '\n'

def write(dest=ROOT/'README.md'):
    txt = '<!-- Generated from nbs/index.ipynb by tools/readme.py (make sync): do not edit -->\n\n' + render()
    Path(dest).write_text(txt)
    return txt

if __name__ == '__main__': write(sys.argv[1] if len(sys.argv) > 1 else ROOT/'README.md')
