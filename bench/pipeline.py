"""Throughput of the spectrogram pipeline: clips per second delivered as ready (normalised, augmented) spectrogram batches.

(a) fsd_tagger.audio: workers read only a crop of each file; mel spectrogram, dB, normalisation and SpecAugment run
    once per batch on the batch's device (`AudioDataLoaders`).
(b) the reference write-up's per-item approach (fastaudio's item pipeline): each worker decodes the whole file, trims silence
    (fastaudio's RemoveSilence: librosa.effects.split, 20 dB, 20 ms), takes a random crop, then computes the mel
    spectrogram, dB, masks and normalisation per item on the CPU (torchaudio, one thread per worker).

Both use the same fastai DataBlock machinery, the same augmentations (two frequency and two time masks, p=0.5) and give
the same batches: random 2 s crops as normalised [bs, 1, 128, 128] spectrograms with multi-hot targets.

Both run on the same files, with the same spectrogram settings (the `seed` preset unless --preset), batch size and
worker count, each in its own process (so each peak RSS is its own), one after the other in this one run. The toy
dataset is scaled (--n-files) so that each measurement lasts at least --seconds.

    .venv/bin/python bench/pipeline.py                # defaults: 600 toy files, >= 20 s each, bs 64, 2 workers
                                                      # (and (a) again with AudioDataLoaders' own worker count if different)
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

def _masks(cfg):
    "The augmentations both pipelines apply: two frequency and two time masks (SpecAugment), each with p=0.5"
    from fsd_tagger.audio import MaskFreq, MaskTime
    return [MaskFreq(0.5, 2, cfg.n_mels//10), MaskTime(0.5, 2, cfg.n_frames//10)]

def run_ours(df, vocab, cfg_dict, bs, workers, seconds, device, q):
    "(a): fsd_tagger.audio's AudioDataLoaders (crop reads in the workers, batch transforms on `device`)"
    import torch
    from fsd_tagger.audio import AudioDataLoaders, SpecConfig
    cfg = SpecConfig.from_dict(cfg_dict)
    t = time.perf_counter()
    dls = AudioDataLoaders.from_df(df, vocab, valid_idx=[], cfg=cfg, bs=bs, device=device, num_workers=workers, augment=_masks(cfg))
    setup = time.perf_counter() - t
    def batches():
        for x, y in dls.train:
            if x.device.type == 'cuda': torch.cuda.synchronize()
            yield x, y
    q.put((*_drain(batches, seconds), setup, *_peak_rss_mib()))

def seed_item_tfm(cfg):
    "The reference write-up's item pipeline as one fastai item transform: path -> whole-file decode, trim, random crop, spectrogram, masks"
    import random, numpy as np, soundfile as sf, torch, librosa, torchaudio.transforms as AT
    from fasttransform import Transform
    from fsd_tagger.audio import AudioSpectrogram, pad_crop
    c = cfg
    mel = AT.MelSpectrogram(c.sr, n_fft=c.n_fft, win_length=c.win_length, hop_length=c.hop_length, f_min=c.f_min,
                            f_max=c.f_max, n_mels=c.n_mels, norm=c.mel_norm, mel_scale=c.mel_scale)
    to_db, fmask, tmask = AT.AmplitudeToDB(top_db=c.top_db), AT.FrequencyMasking(c.n_mels//10), AT.TimeMasking(c.n_frames//10)
    class SeedItem(Transform):
        def encodes(self, fn: str):
            x, sr = sf.read(fn, dtype='float32', always_2d=True)            # the whole file
            x = x.mean(1)
            pad = int(0.02*sr)                                              # fastaudio RemoveSilence(Trim, 20 dB, 20 ms)
            splits = librosa.effects.split(x, top_db=20, hop_length=pad)
            if len(splits): x = x[max(splits[0, 0] - pad, 0):splits[-1, 1] + pad]
            x = pad_crop(torch.from_numpy(np.ascontiguousarray(x))[None], c.n_samples, c.pad_mode, rand=True)
            s = to_db(mel(x))
            for m in (fmask, fmask, tmask, tmask):                          # two frequency and two time masks, p=0.5
                if random.random() < 0.5: s = m(s)
            return AudioSpectrogram((s - s.mean())/(s.std() + 1e-5))
    return SeedItem()

def run_seed(df, vocab, cfg_dict, bs, workers, seconds, q):
    "(b): the reference write-up's per-item approach, in the same fastai DataBlock/DataLoader with the same batch size and workers"
    import torch, librosa, numpy as np
    from fastai.data.block import DataBlock, TransformBlock, MultiCategoryBlock
    from fastai.data.transforms import ColReader, IndexSplitter
    from fsd_tagger.audio import SpecConfig
    librosa.effects.split(np.zeros(4410, 'float32'), top_db=20, hop_length=882)  # imported and warm before the workers fork
    torch.set_num_threads(1)                                                      # the main process only collates
    cfg = SpecConfig.from_dict(cfg_dict)
    block = DataBlock(blocks=(TransformBlock(item_tfms=seed_item_tfm(cfg)), MultiCategoryBlock(vocab=vocab)),
                      get_x=ColReader('path'), get_y=ColReader('labels'), splitter=IndexSplitter([]))
    dls = block.dataloaders(df, bs=bs, device='cpu', num_workers=workers)
    q.put((*_drain(lambda: iter(dls.train), seconds), 0., *_peak_rss_mib()))

def _in_child(fn, args, q):
    "Run in the fresh process: DataLoader workers are forked (a spawned process would otherwise spawn them too)"
    mp.set_start_method('fork', force=True)
    fn(*args, q)

def measure(fn, *args):
    "Run `fn(*args, q)` in a fresh process (so peak RSS is its own) and return what it reports"
    ctx = mp.get_context('spawn')
    q = ctx.Queue()
    p = ctx.Process(target=_in_child, args=(fn, args, q)); p.start()
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
    from fsd_tagger.data import load_split, FSDPaths
    from fsd_tagger.toy import make_toy_fsd
    from fsd_tagger.audio import SpecConfig
    root = make_toy_fsd(a.root, n_curated=a.n_files//2, n_noisy=a.n_files - a.n_files//2, n_test=1)
    df = pd.concat([load_split(root, 'curated'), load_split(root, 'noisy')], ignore_index=True)
    vocab, cfg = FSDPaths(root).vocab(), SpecConfig.preset(a.preset)
    dur = sum(sf.info(p).duration for p in df.path)
    print(f'{len(df)} clips ({dur/len(df):.1f} s on average, {dur/60:.0f} min of audio) in {root}; preset {a.preset!r} '
          f'-> batches of {a.bs} x {cfg.shape}; {a.workers} workers; {os.cpu_count()} CPUs; torch {torch.__version__}')
    from fsd_tagger.audio import default_workers
    own = default_workers(a.device)
    runs = [('a', f'(a) fsd_tagger.audio, batch transforms on {a.device}, {a.workers} workers', run_ours, a.workers, (a.device,)),
            ('b', f'(b) seed per-item (decode whole file, trim, crop, spectrogram in {a.workers} workers)', run_seed, a.workers, ())]
    if own != a.workers:
        runs.insert(1, ('a*', f"(a*) as (a) with AudioDataLoaders' default for this machine, {own} workers", run_ours, own, (a.device,)))
    res = {}
    for key, name, fn, workers, args in runs:
        n, secs, shape, setup, rss, rss_child = measure(fn, df, vocab, cfg.to_dict(), a.bs, workers, a.seconds, *args)
        res[key] = n/secs
        print(f'{name}\n    {n} clips in {secs:.1f} s = {n/secs:.1f} clips/s; batch {shape}; set-up {setup:.1f} s; '
              f'peak RSS {rss:.0f} MiB (main), {rss_child:.0f} MiB (largest worker)', flush=True)
    print(f"ratio (a)/(b): {res['a']/res['b']:.1f}x" + (f"; (a*)/(b): {res['a*']/res['b']:.1f}x" if 'a*' in res else ''))

if __name__ == '__main__': main()
