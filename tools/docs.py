"""Build the docs site into `_docs/` (`make docs`), with no network.

With Quarto on PATH this is nbdev's own `nbdev-docs`, fed with executed notebooks. Without Quarto (our machines):
1. execute every notebook (or reuse the executed copies that `tools/run_tests.py` saved in `_exec/` for the same
   sources), two at a time;
2. document every exported name as nbdev does (a `show_doc` cell after the cell that defines it; the notebooks carry
   `show_doc` cells only for methods worth a heading), computing those cells' outputs here because the executed
   notebooks are reused and nbdev's `exec_show_docs` is skipped (pyproject.toml);
   process them with nbdev's docs processors (`FilterDefaults`: front matter, show_doc, hidden cells, doc links,
   Quarto cell options), the same processing `nbdev-proc-nbs` applies, into `_proc/` — called as a library, because the
   `nbdev-proc-nbs` command first tries to download and install Quarto;
3. render each processed notebook to one self-contained HTML page with markdown-it-py (CommonMark + tables, raw HTML)
   and Pygments: prose, code, outputs, plots inlined as data URIs, a sidebar listing the pages in notebook order, and
   one local stylesheet. Nothing is fetched from the network."""
import base64, html, importlib, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, EXEC, PROC, DOCS = ROOT/'nbs', ROOT/'_exec', ROOT/'_proc', ROOT/'_docs'
sys.path.insert(0, str(ROOT/'tools'))
import run_tests

IMG_MIMES = ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def source_notebooks():
    "Source notebooks in site order: the home page (index) first, then the others sorted by name (notebook order)"
    nbs = sorted(NBS.glob('*.ipynb'))
    return sorted(nbs, key=lambda p: (p.stem != 'index', p.name))

def page_name(nb_path):
    "Name of the page nbdev renders `nb_path` to (`00_eda.ipynb` -> `eda.html`)"
    from nbdev.config import nbpath2html
    return nbpath2html(nb_path).name

_opt = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def cell_options(cell):
    "Quarto cell options (`#| key: value` lines) left in a processed code cell, and its source without them"
    opts, lines = {}, _src(cell).splitlines()
    while lines and (m := _opt.match(lines[0])): opts[m.group(1)] = m.group(2).strip('\'"').lower(); lines.pop(0)
    return opts, '\n'.join(lines).strip('\n')

def shown_outputs(cell):
    "Outputs of a processed code cell that appear on its page"
    if cell['cell_type'] != 'code': return []
    opts, _ = cell_options(cell)
    if opts.get('include') == 'false' or opts.get('output') == 'false': return []
    return cell.get('outputs', [])

def nb_images(nb):
    "Number of images (plots) a processed notebook shows"
    return sum(1 for c in nb['cells'] for o in shown_outputs(c) if any(m in o.get('data', {}) for m in IMG_MIMES))

# ---------------------------------------------------------------- 1. execute (or reuse the test run's outputs)
def executed(nbs):
    "Executed copies of `nbs` in `_exec/`: reused when the test run made them from the same sources, else run now"
    key = run_tests.source_key()
    def fresh(p):
        q = EXEC/p.name
        return q.exists() and json.loads(q.read_text()).get('metadata', {}).get('fsd_exec', {}).get('key') == key
    todo = [p for p in nbs if not fresh(p)]
    print(f'docs: executing {len(todo)} notebook(s), reusing {len(nbs)-len(todo)} from the test run', flush=True)
    if todo:
        failed = [n for n, ok, _ in run_tests.run(todo) if not ok]
        if failed: sys.exit(f"docs: notebook(s) failed to run: {', '.join(failed)}")
    return [EXEC/p.name for p in nbs]

# ---------------------------------------------------------------- 2. nbdev's docs processing
def document_exports(nb):
    "Insert, as nbdev's `add_show_docs` does, a `show_doc(name)` cell after each exported definition not documented yet, with its output"
    from nbdev.processors import NBProcessor, add_show_docs
    from nbdev.showdoc import show_doc
    from fastcore.xtras import dict2obj
    m = next((re.search(r'#\|\s*default_exp\s+(\S+)', c.source) for c in nb.cells if 'default_exp' in c.source), None)
    if not m: return nb
    NBProcessor(nb=nb, procs=[add_show_docs], rm_directives=False).process()   # FilterDefaults reads the directives next
    cells, runs = [], []   # add_show_docs inserts a cell's names last to first: put each run of new cells in source order
    for c in nb.cells + [None]:
        if c is not None and getattr(c, 'has_sd', False): runs.append(c); continue
        cells += runs[::-1] + ([c] if c is not None else []); runs = []
    nb.cells = cells
    ns = vars(importlib.import_module(f'fsd_tagger.{m.group(1)}'))
    for c in nb.cells:
        if getattr(c, 'has_sd', False):
            r = show_doc(eval(c.source[len('show_doc('):-1], ns))
            c.outputs = dict2obj([dict(output_type='execute_result', execution_count=None, metadata={},
                                       data={'text/markdown': r._repr_markdown_(), 'text/plain': repr(r)})])
            c.metadata = dict2obj(c.get('metadata', {})); c.pop('has_sd')
    return nb

def process(exec_nbs):
    "Run nbdev's docs processors over the executed notebooks, writing `_proc/<name>.ipynb`"
    from fastcore.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    from fastcore.xtras import working_directory
    import warnings
    os.environ['IN_TEST'] = '1'
    if PROC.exists(): shutil.rmtree(PROC)
    PROC.mkdir()
    out = []
    for p in exec_nbs:
        nb = read_nb(p)
        nb.path_ = str(NBS/p.name)  # nbdev names the page after the source notebook
        with working_directory(NBS), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            document_exports(nb)
            FilterDefaults()(nb)
        write_nb(nb, PROC/p.name)
        out.append(PROC/p.name)
    return out

# ---------------------------------------------------------------- 3. render HTML
def _markdown():
    from markdown_it import MarkdownIt
    return MarkdownIt('commonmark', {'html': True, 'highlight': _highlight}).enable(['table', 'strikethrough'])

def _highlight(code, lang, attrs=''):
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name, TextLexer
    try: lexer = get_lexer_by_name(lang or 'text')
    except Exception: lexer = TextLexer()
    return highlight(code, lexer, HtmlFormatter(nowrap=True))

_ansi = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')

def _term(txt):
    "Terminal text as shown at its end: ANSI codes dropped, a line overwritten by carriage returns shows its last state"
    return '\n'.join(next((s for s in reversed(l.split('\r')) if s.strip()), '') for l in _ansi.sub('', txt).split('\n'))

class Renderer:
    "Renders processed notebooks into pages of one site whose doc links (`doc_url`) become relative links"
    def __init__(self, pages, doc_url):
        self.md, self.pages, self.doc_url = _markdown(), pages, doc_url.rstrip('/') + '/'

    def localise(self, txt):
        "Point nbdev's doc links (absolute URLs of the published site) at the local pages"
        return txt.replace(self.doc_url, '')

    def markdown(self, txt):
        txt = self.localise(txt)
        # Quarto link attributes `[text](url){target=... style=...}` -> a plain HTML link
        txt = re.sub(r'\[([^\]]+)\]\(([^)\s]+)\)\{[^}\n]*\}',
                     lambda m: f'<a class="xlink" href="{html.escape(m.group(2))}">{m.group(1)}</a>', txt)
        # Quarto divs `::: {.callout-note}` ... `:::`
        out = []
        for l in txt.split('\n'):
            if m := re.match(r'^:::+\s*\{?\s*([^}]*)\}?\s*$', l):
                cls = ' '.join(c.lstrip('.') for c in m.group(1).split() if c.startswith('.'))
                out += ['', f'<div class="{html.escape(cls)}">' if m.group(1).strip() else '</div>', '']
            else: out.append(l)
        return self.md.render('\n'.join(out))

    def output(self, o):
        kind = o['output_type']
        if kind == 'stream':
            txt = _term(''.join(o['text'])).strip('\n')
            return f'<pre class="stream {o.get("name", "")}">{html.escape(txt)}</pre>' if txt.strip() else ''
        if kind == 'error': return f'<pre class="error">{html.escape(_term(chr(10).join(o.get("traceback", []))))}</pre>'
        d = o.get('data', {})
        for m in IMG_MIMES:
            if m not in d: continue
            v = ''.join(d[m]) if isinstance(d[m], list) else d[m]
            b64 = base64.b64encode(v.encode()).decode() if m == 'image/svg+xml' else v.replace('\n', '')
            return f'<img class="plot" alt="plot" src="data:{m};base64,{b64}">'
        if 'text/html' in d: return f'<div class="html-output">{_no_remote(self.localise("".join(d["text/html"])))}</div>'
        if 'text/markdown' in d: return f'<div class="md-output">{self.markdown("".join(d["text/markdown"]))}</div>'
        if 'text/plain' in d: return f'<pre class="result">{html.escape(_term("".join(d["text/plain"])))}</pre>'
        return ''

    def cell(self, c):
        if c['cell_type'] == 'markdown': return f'<div class="cell md">{self.markdown(_src(c))}</div>'
        if c['cell_type'] != 'code': return ''
        opts, code = cell_options(c)
        if opts.get('include') == 'false': return ''
        parts = []
        if code.strip() and opts.get('echo') != 'false':
            src = f'<pre class="highlight"><code>{_highlight(code, "python")}</code></pre>'
            if opts.get('code-fold') in ('true', 'show'):
                src = f'<details{" open" if opts["code-fold"] == "show" else ""}><summary>Code</summary>{src}</details>'
            parts.append(f'<div class="cell-input">{src}</div>')
        outs = ''.join(self.output(o) for o in shown_outputs(c))
        if outs: parts.append(f'<div class="cell-output">{outs}</div>')
        return f'<div class="cell code">{"".join(parts)}</div>' if parts else ''

    def page(self, nb, name):
        cells = nb['cells']
        fm = {}
        if cells and cells[0]['cell_type'] == 'raw' and _src(cells[0]).startswith('---'):
            import yaml
            fm = yaml.safe_load(_src(cells[0]).strip().strip('-')) or {}
        body = ''.join(self.cell(c) for c in cells)
        body, toc = _heading_ids(body)
        title = fm.get('title') or name
        head = f'<h1 class="title">{html.escape(title)}</h1>'
        if fm.get('description'): head += f'<p class="subtitle">{html.escape(fm["description"])}</p>'
        nav = ''.join(
            f'<li{" class=active" if n == name else ""}><a href="{n}">{html.escape(t)}</a>'
            + (('<ul class="toc">' + ''.join(f'<li><a href="#{i}">{x}</a></li>' for i, x in toc) + '</ul>') if n == name and toc else '')
            + '</li>' for n, t in self.pages)
        site = html.escape(self.pages[0][1])
        return PAGE.format(title=html.escape(title), site=site, nav=nav, head=head, body=body)

def _no_remote(h):
    "Drop remote scripts, stylesheets and fonts from an HTML output: pages must not touch the network"
    h = re.sub(r'<script\b[^>]*\bsrc\s*=\s*["\']?https?://[^>]*>\s*</script>', '', h, flags=re.I)
    return re.sub(r'<link\b[^>]*\bhref\s*=\s*["\']?https?://[^>]*>', '', h, flags=re.I)

def _slug(txt):
    return re.sub(r'-+', '-', re.sub(r'[^\w.-]+', '-', re.sub(r'<[^>]+>', '', html.unescape(txt)).strip().lower())).strip('-')

def _heading_ids(body):
    "Give every heading a Quarto-style id (so nbdev's `page.html#name` links land); return the body and its h2/h3 TOC"
    seen, toc = set(), []
    def f(m):
        lvl, attrs, inner = m.group(1), m.group(2), m.group(3)
        if 'id=' in attrs: return m.group(0)
        i = base = _slug(inner) or 'section'
        n = 1
        while i in seen: i, n = f'{base}-{n}', n + 1
        seen.add(i)
        if lvl in '23': toc.append((i, re.sub(r'<[^>]+>', '', inner)))
        return f'<h{lvl} id="{i}"{attrs}>{inner}</h{lvl}>'
    return re.sub(r'<h([1-6])([^>]*)>(.*?)</h\1>', f, body, flags=re.S), toc

PAGE = '''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – {site}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="site.css">
</head><body>
<nav class="sidebar"><a class="site" href="index.html">{site}</a><ul>{nav}</ul></nav>
<main>{head}{body}</main>
</body></html>
'''

CSS = '''
:root { --fg:#212529; --muted:#6c757d; --bg:#fff; --side:#f6f8fa; --line:#dee2e6; --accent:#2780e3; }
* { box-sizing: border-box; }
body { margin:0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
.sidebar { position:fixed; top:0; bottom:0; left:0; width:250px; overflow-y:auto; padding:1.2rem 1rem; background:var(--side); border-right:1px solid var(--line); font-size:.92rem; }
.sidebar .site { display:block; font-weight:700; font-size:1.15rem; margin-bottom:1rem; color:var(--fg); }
.sidebar ul { list-style:none; margin:0; padding:0; } .sidebar li { margin:.25rem 0; }
.sidebar li.active > a { font-weight:700; color:var(--fg); }
.sidebar ul.toc { margin:.3rem 0 .6rem .8rem; font-size:.85rem; } .sidebar ul.toc a { color:var(--muted); }
main { margin-left:250px; max-width:1000px; padding:1.5rem 2.5rem 4rem; }
h1.title { margin-bottom:.2rem; } .subtitle { color:var(--muted); font-size:1.1rem; margin-top:0; }
h2 { border-bottom:1px solid var(--line); padding-bottom:.2rem; margin-top:2rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size:.88em; }
:not(pre) > code { background:#f1f3f5; padding:.05em .3em; border-radius:3px; }
pre { overflow-x:auto; padding:.6rem .8rem; border-radius:4px; margin:.4rem 0; font-size:.85rem; line-height:1.4; }
.cell-input pre, .md pre, .md-output pre { background:#f8f9fa; border-left:3px solid var(--accent); }
.cell-output pre { background:#fff; border:1px solid var(--line); }
pre.stderr { background:#fff8e6; } pre.error { background:#fdecea; color:#8a1c1c; }
.cell { margin:.6rem 0; }
img.plot { max-width:100%; height:auto; display:block; margin:.4rem 0; }
table { border-collapse:collapse; margin:.6rem 0; font-size:.9rem; }
th, td { border:1px solid var(--line); padding:.25rem .55rem; text-align:left; vertical-align:top; }
.html-output { overflow-x:auto; }
.md-output hr { border:0; border-top:1px solid var(--line); margin:1.5rem 0 .4rem; }
.md-output a.xlink { float:right; font-size:smaller; }
.callout-note, .callout-tip, .callout-warning, .callout-important, .callout-caution { border-left:4px solid var(--accent); background:#f1f7fe; padding:.2rem 1rem; margin:.8rem 0; }
.callout-warning, .callout-caution, .callout-important { border-color:#f0ad4e; background:#fff8e6; }
details summary { cursor:pointer; color:var(--muted); }
@media (max-width: 800px) { .sidebar { position:static; width:auto; } main { margin-left:0; padding:1rem; } }
'''

def render_site(proc_nbs, srcs):
    "Write one page per processed notebook, plus `site.css`, into `_docs/`"
    from nbdev.config import get_config
    from pygments.formatters import HtmlFormatter
    cfg = get_config(ROOT)
    nbs = [json.loads(p.read_text()) for p in proc_nbs]
    def title(nb, name):
        c = nb['cells'][0] if nb['cells'] else None
        m = re.search(r'^title:\s*(.+)$', _src(c), re.M) if c and c['cell_type'] == 'raw' else None
        return m.group(1).strip().strip('\'"') if m else name
    names = ['index.html' if s.stem == 'index' else page_name(s) for s in srcs]
    pages = [(n, title(nb, n)) for n, nb in zip(names, nbs)]
    if pages and pages[0][0] == 'index.html': pages[0] = ('index.html', cfg.title)  # the home page is the site's name
    r = Renderer(pages, f'{cfg.doc_host}{cfg.doc_baseurl}')
    if DOCS.exists(): shutil.rmtree(DOCS)
    DOCS.mkdir()
    (DOCS/'site.css').write_text(CSS + HtmlFormatter().get_style_defs('pre'))
    for nb, (name, _) in zip(nbs, pages): (DOCS/name).write_text(r.page(nb, name))
    remote = [f'{p.name}: {m}' for p in DOCS.glob('*.html')
              for m in re.findall(r'<(?:script|link|img|iframe|source|audio|video)\b[^>]*\b(?:src|href)\s*=\s*["\']?(?:https?:)?//[^\s"\'>]+', p.read_text(), re.I)]
    if remote: sys.exit('docs: pages would fetch remote resources:\n  ' + '\n  '.join(remote))
    return [DOCS/n for n, _ in pages]

# ---------------------------------------------------------------- Quarto (GitHub Pages, or any machine that has it)
def build_quarto(exec_nbs):
    "nbdev's `nbdev-docs` over the executed notebooks (staged in `_exec/` with the Quarto config)"
    from nbdev.quarto import refresh_quarto_yml
    os.chdir(ROOT)
    refresh_quarto_yml()  # writes nbs/nbdev.yml from pyproject.toml (and nbs/_quarto.yml only if missing)
    from fastcore.nbio import read_nb, write_nb
    for p in exec_nbs: write_nb(document_exports(read_nb(p)), p)
    for f in NBS.iterdir():
        if f.is_file() and f.suffix != '.ipynb': shutil.copy2(f, EXEC/f.name)
    subprocess.run([str(Path(sys.executable).parent/'nbdev-docs'), '--path', str(EXEC)], cwd=ROOT, check=True)

def main():
    start = time.time()
    srcs = source_notebooks()
    if not srcs: sys.exit('docs: no notebooks in nbs/')
    exec_nbs = executed(srcs)
    t_exec = time.time()
    if shutil.which('quarto') and os.environ.get('FSD_DOCS_RENDERER', 'auto') != 'offline':
        build_quarto(exec_nbs)
        return print(f'docs: Quarto site in {DOCS.relative_to(ROOT)}/ in {time.time()-start:.0f} s')
    pages = render_site(process(exec_nbs), srcs)
    print(f'docs: {len(pages)} pages in {DOCS.relative_to(ROOT)}/ in {time.time()-start:.0f} s '
          f'(execution {t_exec-start:.0f} s, processing and rendering {time.time()-t_exec:.0f} s); '
          f'open {DOCS.relative_to(ROOT)}/index.html')

if __name__ == '__main__': main()
