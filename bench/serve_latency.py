"""Latency of the web page (`fsd-tagger serve`, notebook 13): the time from a person picking a 5 s clip with the page's
file input to the page showing its results (tags, decided tags, the spectrogram and timeline images decoded), in
headless Chromium driven by Selenium, as the notebook's test drives it. Target: under 2 s on this machine.

For each run: the app is served on 127.0.0.1 at a free port, the clip is sent once to warm up, then --reps times;
the median, min and max are printed, with the server's own time for `clip_report` (median of the same number of
direct calls) and its parts: `predict_proba` (the tags), `Tagger.timeline` + `segments`, and the figure
(`plot_timeline` with the spectrogram, rendered to PNG).

Runs measured:
  toy   the run of notebook 13, trained here (a toy dataset of 4 classes, the `fast` preset with the `cnn_s` network,
        1 noisy + 30 curated epochs, on the CPU); the clip is its 5 s two-event clip (`toy_event_clip`)
  real  the real-sound run at --real (default data/realsound/runs/scale1_seed0/cpu, built by `make bench-real`;
        git-ignored, so skipped with a message where it is missing); the clip is the test clips of its dataset
        (--real-data, default data/realsound/fsd_scale1_seed0) end to end

    .venv/bin/python bench/serve_latency.py                 # both runs, 7 repetitions each
    .venv/bin/python bench/serve_latency.py --reps 15 --no-toy
"""
import argparse, contextlib, io, os, shutil, statistics, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT/'tools'))
from docs_test import browser   # headless Chromium as the docs test drives it

def clip_5s(paths, sr, dest):
    "A 5 s mono WAV at `sr` of the audio files `paths` end to end (repeated as needed), written to `dest`"
    import numpy as np, soundfile as sf, torch
    from fsd_tagger.inference import read_clip
    wavs, n = [], 0
    for p in paths * 100:
        w = read_clip(p, sr); wavs.append(w); n += w.shape[-1]
        if n >= 5*sr: break
    sf.write(dest, torch.cat(wavs, -1)[0, :5*sr].numpy(), sr, subtype='PCM_16')
    return dest


_SHOWN = '''return +document.body.dataset.answers > arguments[0] &&
  Array.from(document.querySelectorAll('#results img')).every(i => !i.getAttribute('src') || i.complete)'''

def page_seconds(d, clip):
    "Seconds from picking `clip` with the page's file input to its results shown (images decoded); the page's state"
    from selenium.webdriver.support.ui import WebDriverWait
    n = int(d.find_element('tag name', 'body').get_attribute('data-answers'))
    inp = d.find_element('id', 'file')
    t0 = time.perf_counter()
    inp.send_keys(str(clip))
    WebDriverWait(d, 60, poll_frequency=0.005).until(lambda d: d.execute_script(_SHOWN, n))
    dt = time.perf_counter() - t0
    return dt, d.find_element('tag name', 'body').get_attribute('data-state')

def parts(tagger, clip, reps):
    "Median seconds of clip_report and of its parts, called directly"
    from fsd_tagger import serve
    from fsd_tagger.timeline import segments, plot_timeline
    w = tagger.timeline(clip); segs = segments(w)
    fs = {'clip_report': lambda: serve.clip_report(tagger, clip),
          'predict_proba': lambda: tagger.predict_proba([str(clip)], errors='raise', progress=False),
          'timeline+segments': lambda: segments(tagger.timeline(clip)),
          'figure+png': lambda: serve._png_uri(plot_timeline(w, segs, wav=clip))}
    out = {}
    for k, f in fs.items():
        f(); ts = []
        for _ in range(reps):
            t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
        out[k] = statistics.median(ts)
    return out

def measure(name, tagger, clip, reps, tmp):
    from fsd_tagger.serve import PageServer, make_app
    with PageServer(make_app(tagger), port=0) as srv:
        d = browser(tmp/f'chrome-{name}')
        try:
            d.get(srv.url)
            dt, state = page_seconds(d, clip)   # warm-up
            if state != 'done': sys.exit(f'{name}: the page answered {state}: {d.find_element("id", "error").text}')
            ts = [page_seconds(d, clip)[0] for _ in range(reps)]
        finally: d.quit()
    p = parts(tagger, clip, reps)
    print(f'{name:5s} {len(tagger.models)} fold(s), {len(tagger.vocab)} classes, crop {tagger.cfg.duration:g} s: 5 s clip, upload to results shown '
          f'median {statistics.median(ts):.3f} s (min {min(ts):.3f}, max {max(ts):.3f}, {reps} reps; first {dt:.3f} s)', flush=True)
    print('      server, median of direct calls: ' + ', '.join(f'{k} {v:.3f} s' for k, v in p.items()), flush=True)
    return statistics.median(ts)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--reps', type=int, default=7)
    ap.add_argument('--real', default=str(ROOT/'data/realsound/runs/scale1_seed0/cpu'))
    ap.add_argument('--real-data', default=str(ROOT/'data/realsound/fsd_scale1_seed0'), help="the real run's dataset: its test clips make the 5 s clip")
    ap.add_argument('--no-toy', action='store_true')
    a = ap.parse_args()
    if not (os.environ.get('CHROME_BIN') or shutil.which('chromium')) or not (os.environ.get('CHROMEDRIVER') or shutil.which('chromedriver')):
        sys.exit('serve_latency: skipped, no Chromium and chromedriver here (`make chromium` installs them)')
    import torch
    from fsd_tagger.inference import Tagger
    from fsd_tagger.run import RunFolder
    print(f'serve_latency: {os.cpu_count()} CPU(s), torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}', flush=True)
    tmp = Path(tempfile.mkdtemp(prefix='serve-latency-'))
    try:
        if not a.no_toy:
            from fsd_tagger.toy import make_toy_fsd
            from fsd_tagger.train import TrainRun, TrainConfig
            import soundfile as sf
            from fsd_tagger.timeline import toy_event_clip
            cfg = TrainConfig.preset('fast', arch='cnn_s', opt='adam', mixup=0., cache=True, noisy_sched=[[1, 3e-3]], curated_sched=[[30, 3e-3]])
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):   # the generator's progress bars
                data = make_toy_fsd(tmp/'toy', n_classes=4, n_curated=48, n_noisy=16, n_test=8)
                TrainRun(data, tmp/'run', cfg, device='cpu', progress=False).fit()
            tagger = Tagger.from_run(tmp/'run', device='cpu')
            sf.write(tmp/'two_events.wav', toy_event_clip([(0, 0.5, 2.0), (2, 3.0, 4.5)], 5.), tagger.cfg.sr, subtype='PCM_16')
            measure('toy', tagger, tmp/'two_events.wav', a.reps, tmp)
        real = Path(a.real)
        if not real.is_dir() or not RunFolder(real).finished_folds():
            print(f'real  skipped: no finished run at {real} (`make bench-real` builds it)')
        else:
            tagger = Tagger.from_run(real, device='cpu')
            data = Path(a.real_data)
            srcs = sorted((data/'test').glob('*.wav')) if (data/'test').is_dir() else []
            if not srcs: print(f'real  skipped: no test clips at {data/"test"} for the 5 s clip')
            else: measure('real', tagger, clip_5s(srcs[:10], tagger.cfg.sr, tmp/'real_5s.wav'), a.reps, tmp)
        print(f'load average at the end {os.getloadavg()[0]:.2f}')
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
