"""Browser test of the built docs site (`make docs-test`): serve `_docs/` on 127.0.0.1 and open every page in headless
Chromium, driven through chromedriver by Selenium.

Fails on: a notebook without its page, a page that does not load, a broken internal link (missing page or anchor),
a broken image, fewer rendered plots than the notebook shows, code of a `#| hide` cell shown on the page, or any request
that leaves the local server.
Saves screenshots of the home page and of one notebook page (the first with a plot: its top, and scrolled to
its first plot) to `_docs_test/screenshots/`, and ends with
`docs: N pages passed, M failed`.

Chromium and chromedriver are the Debian packages (`/usr/bin/chromium`, `/usr/bin/chromedriver`); set CHROME_BIN and
CHROMEDRIVER to use others (e.g. Google Chrome on GitHub's runners)."""
import functools, http.server, json, os, re, shutil, sys, tempfile, threading, time, urllib.error, urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import docs

OUT = ROOT/'_docs_test'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage', '--window-size=1280,1000']

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

def serve(path):
    "Serve `path` on 127.0.0.1 at a free port, in a daemon thread; return the server"
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(path)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv

def browser(user_dir, flags=()):
    "Headless Chromium (user data in `user_dir`, `flags` added to `FLAGS`) with its requests logged, driven by Selenium"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get('CHROME_BIN') or shutil.which('chromium') or '/usr/bin/chromium'
    for f in FLAGS + [f'--user-data-dir={user_dir}', *flags]: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'performance': 'ALL', 'browser': 'ALL'})
    # an explicit driver path: Selenium Manager (which would download a driver) is never used
    drv = os.environ.get('CHROMEDRIVER') or shutil.which('chromedriver') or '/usr/bin/chromedriver'
    d = webdriver.Chrome(options=opts, service=Service(executable_path=drv))
    d.set_page_load_timeout(60)
    return d

def fetch(url):
    "Status and text of a local URL"
    try:
        with urllib.request.urlopen(url, timeout=30) as r: return r.status, r.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as e: return e.code, ''

_IMGS = '''return Array.from(document.images).map(i => ({src: i.currentSrc.slice(0, 60), ok: i.complete && i.naturalWidth > 0,
           plot: !!i.closest('.cell-output, .cell-output-display')}))'''

def requests_made(d):
    "URLs the browser requested since the last call (Chrome's performance log)"
    urls = []
    for e in d.get_log('performance'):
        m = json.loads(e['message'])['message']
        if m['method'] == 'Network.requestWillBeSent': urls.append(m['params']['request']['url'])
    return urls

def hidden_lines(nb_path):
    "For each `#| hide` code cell of a notebook, one line of it that no other cell has: the page must not show it"
    cells = json.loads(Path(nb_path).read_text())['cells']
    src = lambda c: ''.join(c['source'])
    hidden = [c for c in cells if c['cell_type'] == 'code' and re.match(r'\s*#\|\s*hide\b', src(c))]
    shown = '\n'.join(src(c) for c in cells if c not in hidden)
    code = lambda c: [l.strip() for l in src(c).splitlines() if l.strip() and not l.lstrip().startswith('#')]
    return [l for c in hidden if (l := next((l for l in code(c) if len(l) > 20 and l not in shown), None))]

def check_page(d, base, name, expected_plots, ids_of, hidden=()):
    "Problems found on page `name` (empty when it passes)"
    url, errs = base + name, []
    status, _ = fetch(url)
    if status != 200: return [f'missing page ({status})']
    d.get(url)
    d.execute_script('return document.readyState')
    if not d.find_elements('css selector', 'nav.sidebar a'): errs.append('no sidebar')
    imgs = d.execute_script(_IMGS)
    errs += [f"broken image {i['src']}" for i in imgs if not i['ok']]
    text = d.execute_script('return document.body.innerText')
    errs += [f'hidden cell shown: {l[:70]}' for l in hidden if l in text]
    plots = sum(i['ok'] and i['plot'] for i in imgs)
    if plots < expected_plots: errs.append(f'{plots} rendered plots, notebook shows {expected_plots}')
    for href in set(d.execute_script("return Array.from(document.links).map(a => a.href)")):
        if not href.startswith(base): continue
        page, frag = urldefrag(href)
        ids = ids_of(page)
        if ids is None: errs.append(f'broken link {href}')
        elif frag and frag not in ids: errs.append(f'broken anchor {href}')
    remote = [u for u in requests_made(d) if urlparse(u).scheme in ('http', 'https', 'ws', 'wss', 'ftp') and not u.startswith(base)]
    errs += [f'network request {u}' for u in remote]
    return errs

def main():
    srcs = docs.source_notebooks()
    if not srcs: sys.exit('docs: no notebooks in nbs/')
    names = ['index.html' if s.stem == 'index' else docs.page_name(s) for s in srcs]
    def expected(s):
        p = docs.PROC/s.name
        return docs.nb_images(json.loads(p.read_text())) if p.exists() else 0
    srv = serve(docs.DOCS)
    base = f'http://127.0.0.1:{srv.server_port}/'
    cache = {}
    def ids_of(page):
        "Element ids of a local page, or None when it does not exist"
        if page not in cache:
            status, txt = fetch(page)
            path = urlparse(page).path
            cache[page] = set(re.findall(r'\bid="([^"]+)"', txt)) if status == 200 and (path.endswith(('.html', '/')) or not Path(path).suffix) else (set() if status == 200 else None)
        return cache[page]
    OUT.mkdir(exist_ok=True)
    shots, failed, start = OUT/'screenshots', 0, time.time()
    if shots.exists(): shutil.rmtree(shots)
    shots.mkdir()
    with tempfile.TemporaryDirectory(prefix='docs-chromium-') as user_dir:
        d = browser(user_dir)
        try:
            requests_made(d)  # the browser's own start-up pages are not ours
            shot_nb = next((n for s, n in zip(srcs, names) if n != 'index.html' and expected(s)), None) or next((n for n in names if n != 'index.html'), None)
            for s, name in zip(srcs, names):
                errs = check_page(d, base, name, expected(s), ids_of, hidden_lines(s))
                print(f"{'PASS' if not errs else 'FAIL'}  {name}" + ''.join(f'\n      {e}' for e in errs), flush=True)
                failed += bool(errs)
                if not errs and name in ('index.html', shot_nb):
                    d.save_screenshot(str(shots/name.replace('.html', '.png')))
                    if d.execute_script("const i = document.querySelector('.cell-output img, .cell-output-display img'); if (i) i.scrollIntoView(); return !!i"):
                        d.save_screenshot(str(shots/name.replace('.html', '-plot.png')))
        finally: d.quit(); srv.shutdown()
    print(f'screenshots: {", ".join(str(p.relative_to(ROOT)) for p in sorted(shots.glob("*.png")))}')
    print(f'docs: {len(names)-failed} pages passed, {failed} failed ({time.time()-start:.0f} s)')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
