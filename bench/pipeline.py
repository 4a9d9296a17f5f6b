"""Throughput of the spectrogram pipeline: clips per second delivered as ready (normalised, augmented) spectrogram batches.

(a) fsd_tagger.audio: workers read only a crop of each file; mel spectrogram, dB, normalisation and SpecAugment run
    once per batch on the batch's device (`AudioDataLoaders`).
(b) the seed's per-item approach (fastaudio's item pipeline): each worker decodes the whole file, trims silence
    (fastaudio's RemoveSilence: librosa.effects.split, 20 dB, 20 ms), takes a random crop, then computes the mel
    spectrogram, dB, masks and normalisation per item on the CPU.

Both run on the same files, with the same spectrogram settings (the `seed` preset unless --preset), batch size and
worker count, each in its own process (so each peak RSS is its own), one after the other in this one run. The toy
dataset is scaled (--n-files) so that each measurement lasts at least --seconds.

    .venv/bin/python bench/pipeline.py                # defaults: 600 toy files, >= 20 s each, bs 64, 2 workers
    .venv/bin/python bench/pipeline.py --device cuda  # (a) on the GPU
"""
import argparse, multiprocessing as mp, os, resource, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

def _peak_rss_mib():
    "Peak resident memory of this process and of its largest finished child (the DataLoader workers), MiB"
    kib = lambda who: resource.getrusage(who).ru_maxrss
    return kib(resource.RUSAGE_SELF)/1024, kib(resource.RUSAGE_CHILDREN)/1024

def _drain(batches, seconds):
    "Consume `batches()` epochs until `seconds` have passed; (clips, seconds, shape of the last batch)"
    n, start, shape = 0, time.perf_counter(), None
    while time.perf_counter() - start < seconds:
        for x, y in batches():
            n += x.shape[0]; shape = tuple(x.shape)
            if time.perf_counter() - start >= seconds: break
    return n, time.perf_counter() - start, shape

def run_ours(df, vocab, cfg_dict, bs, workers, seconds, device, q):
    "(a): fsd_tagger.audio's AudioDataLoaders (crop reads in the workers, batch transforms on `device`)"
    import torch
    from fsd_tagger.audio import AudioDataLoaders, SpecConfig
    cfg = SpecConfig.from_dict(cfg_dict)
    t = time.perf_counter()
    dls = AudioDataLoaders.from_df(df, vocab, valid_idx=[], cfg=cfg, bs=bs, device=device, num_workers=workers)
    setup = time.perf_counter() - t
    def batches():
        for x, y in dls.train:
            if x.device.type == 'cuda': torch.cuda.synchronize()
            yield x, y
    q.put((*_drain(batches, seconds), setup, *_peak_rss_mib()))

class SeedItems:
    "The seed's per-item pipeline as a torch Dataset: whole-file decode, trim, random crop, spectrogram, masks per item"
    def __init__(self, paths, targets, cfg):
        self.paths, self.targets, self.cfg, self.tfms = list(paths), targets, cfg, None
    def __len__(self): return len(self.paths)
    def _setup(self):
        import torchaudio.transforms as AT
        c = self.cfg
        self.tfms = (AT.MelSpectrogram(c.sr, n_fft=c.n_fft, win_length=c.win_length, hop_length=c.hop_length, f_min=c.f_min,
                                       f_max=c.f_max, n_mels=c.n_mels, norm=c.mel_norm, mel_scale=c.mel_scale),
                     AT.AmplitudeToDB(top_db=c.top_db), AT.FrequencyMasking(c.n_mels//10), AT.TimeMasking(c.n_frames//10))
    def __getitem__(self, i):
        import numpy as np, soundfile as sf, torch, librosa, random
        from fsd_tagger.audio import pad_crop
        if self.tfms is None: self._setup()
        mel, to_db, fmask, tmask = self.tfms
        x, sr = sf.read(self.paths[i], dtype='float32', always_2d=True)        # the whole file
        x = x.mean(1)
        pad = int(0.02*sr)                                                   # fastaudio RemoveSilence(Trim, 20 dB, 20 ms)
        splits = librosa.effects.split(x, top_db=20, hop_length=pad)
        if len(splits): x = x[max(splits[0, 0] - pad, 0):splits[-1, 1] + pad]
        x = pad_crop(torch.from_numpy(np.ascontiguousarray(x))[None], self.cfg.n_samples, self.cfg.pad_mode, rand=True)
        s = to_db(mel(x))
        for m in (fmask, fmask, tmask, tmask):                               # two frequency and two time masks
            if random.random() < 0.5: s = m(s)
        return (s - s.mean())/(s.std() + 1e-5), self.targets[i]

def run_seed(df, vocab, cfg_dict, bs, workers, seconds, q):
    "(b): the seed's per-item approach in a torch DataLoader with the same batch size and workers"
    import torch
    from fsd_tagger.audio import SpecConfig
    cfg = SpecConfig.from_dict(cfg_dict)
    idx = {v: i for i, v in enumerate(vocab)}
    targets = torch.zeros(len(df), len(vocab))
    for r, ls in enumerate(df['labels']): targets[r, [idx[l] for l in ls]] = 1.
    dl = torch.utils.data.DataLoader(SeedItems(df['path'], targets, cfg), batch_size=bs, shuffle=True, drop_last=True, num_workers=workers)
    q.put((*_drain(lambda: iter(dl), seconds), 0., *_peak_rss_mib()))

def measure(fn, *args):
    "Run `fn(*args, q)` in a fresh process and return what it reports"
    ctx = mp.get_context('spawn')
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=(*args, q)); p.start()
    res = q.get(); p.join()
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--root', default='/tmp/fsd-bench/toy', help='toy dataset folder (made once, cached)')
    ap.add_argument('--n-files', type=int, default=600, help='toy clips (half curated, half noisy)')
    ap.add_argument('--seconds', type=float, default=20., help='minimum duration of each measurement')
    ap.add_argument('--preset', default='seed'); ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--device', default='cpu')
    a = ap.parse_args()
    import pandas as pd, soundfile as sf, torch
    from fsd_tagger.data import make_toy_fsd, load_split, FSDPaths
    from fsd_tagger.audio import SpecConfig
    root = make_toy_fsd(a.root, n_curated=a.n_files//2, n_noisy=a.n_files - a.n_files//2, n_test=1)
    df = pd.concat([load_split(root, 'curated'), load_split(root, 'noisy')], ignore_index=True)
    vocab, cfg = FSDPaths(root).vocab(), SpecConfig.preset(a.preset)
    dur = sum(sf.info(p).duration for p in df.path)
    print(f'{len(df)} clips ({dur/len(df):.1f} s on average, {dur/60:.0f} min of audio) in {root}; preset {a.preset!r} '
          f'-> batches of {a.bs} x {cfg.shape}; {a.workers} workers; {os.cpu_count()} CPUs; torch {torch.__version__}')
    res = {}
    for name, fn, args in (('(a) fsd_tagger.audio, batch transforms on ' + a.device, run_ours, (a.device,)),
                           ('(b) seed per-item (decode whole file, trim, crop, spectrogram in workers)', run_seed, ())):
        n, secs, shape, setup, rss, rss_child = measure(fn, df, vocab, cfg.to_dict(), a.bs, a.workers, a.seconds, *args)
        res[name] = n/secs
        print(f'{name}\n    {n} clips in {secs:.1f} s = {n/secs:.1f} clips/s; batch {shape}; set-up {setup:.1f} s; '
              f'peak RSS {rss:.0f} MiB (main), {rss_child:.0f} MiB (largest worker)', flush=True)
    (ra, rb) = res.values()
    print(f'ratio (a)/(b): {ra/rb:.1f}x')

if __name__ == '__main__': main()
