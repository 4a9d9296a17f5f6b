"""Throughput of the spectrogram pipeline: clips per second delivered as ready (normalised, augmented) spectrogram batches.

(a) fsd_tagger.audio: workers read only a crop of each file; mel spectrogram, dB, normalisation and SpecAugment run
    once per batch on the batch's device (`AudioDataLoaders`).
(b) the reference write-up's per-item approach (fastaudio's item pipeline): each worker decodes the whole file, trims silence
    (fastaudio's RemoveSilence: librosa.effects.split, 20 dB, 20 ms), takes a random crop, then computes the mel
    spectrogram, dB, masks and normalisation per item on the CPU (torchaudio, one thread per worker).
(c) fsd_tagger.audio with a `SpecCache` (`AudioDataLoaders(cache=...)`): the dB mel spectrogram of every clip computed once
    (the one-off build is timed on its own, into a fresh temporary folder, and reported as clips/s and as seconds per hour
    of audio), then each batch of random crops is read from the memory-mapped float16 arrays in one gather (`CachedDL`,
    in the workers if any); the `top_db` floor, normalisation and SpecAugment run per batch on the batch's device.

Both use the same fastai DataBlock machinery, the same augmentations (two frequency and two time masks, p=0.5) and give
the same batches: random 2 s crops as normalised [bs, 1, 128, 128] spectrograms with multi-hot targets.

Both run on the same files, with the same spectrogram settings (the `seed` preset unless --preset), batch size and
worker count, each in its own process (so each peak RSS is its own), one after the other in this one run. The toy
dataset is scaled (--n-files) so that each measurement lasts at least --seconds.

    .venv/bin/python bench/pipeline.py                # defaults: 600 toy files, >= 20 s each, bs 64, 2 workers
                                                      # (and (a), (c) again with AudioDataLoaders' own worker counts if different)
    .venv/bin/python bench/pipeline.py --device cuda  # (a) and (c) on the GPU
    .venv/bin/python bench/pipeline.py --profile      # where (c)'s time goes, with 0 workers (cProfile, 3 epochs)
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

def _synced(dl):
    "The batches of `dl`, each waited for on a GPU (CUDA runs asynchronously), so that timing one means it is done"
    import torch
    for x, y in dl:
        if x.device.type == 'cuda': torch.cuda.synchronize()
        yield x, y

def run_ours(df, vocab, cfg_dict, bs, workers, seconds, device, q):
    "(a): fsd_tagger.audio's AudioDataLoaders (crop reads in the workers, batch transforms on `device`)"
    from fsd_tagger.audio import AudioDataLoaders, SpecConfig
    cfg = SpecConfig.from_dict(cfg_dict)
    t = time.perf_counter()
    dls = AudioDataLoaders.from_df(df, vocab, valid_idx=[], cfg=cfg, bs=bs, device=device, num_workers=workers, augment=_masks(cfg))
    setup = time.perf_counter() - t
    q.put((*_drain(lambda: _synced(dls.train), seconds), setup, *_peak_rss_mib()))

def run_cached(df, vocab, cfg_dict, bs, workers, seconds, device, q):
    "(c): `AudioDataLoaders` on crops of a `SpecCache` built first (its build timed separately) in a fresh temporary folder"
    import tempfile
    from fsd_tagger.audio import AudioDataLoaders, SpecConfig, SpecCache
    cfg = SpecConfig.from_dict(cfg_dict)
    with tempfile.TemporaryDirectory(prefix='fsd-bench-cache-') as d:
        t = time.perf_counter()
        cache = SpecCache.build(df.path, cfg, d, progress=False)
        build = time.perf_counter() - t
        mib = (cache.folder/'spec.npy').stat().st_size/2**20
        t = time.perf_counter()
        dls = AudioDataLoaders.from_df(df, vocab, valid_idx=[], cfg=cfg, bs=bs, device=device, num_workers=workers, augment=_masks(cfg), cache=cache)
        setup = time.perf_counter() - t
        q.put((*_drain(lambda: _synced(dls.train), seconds), setup, *_peak_rss_mib(), build, mib))

def profile_cached(df, vocab, cfg, bs, device, epochs=3):
    "Print the share of (c)'s time (0 workers, in this process) spent making batches (the gather of crops, the targets) and in the batch transforms"
    import cProfile, pstats, tempfile
    from fsd_tagger.audio import AudioDataLoaders, SpecCache
    with tempfile.TemporaryDirectory(prefix='fsd-bench-cache-') as d:
        dls = AudioDataLoaders.from_df(df, vocab, valid_idx=[], cfg=cfg, bs=bs, device=device, num_workers=0, augment=_masks(cfg),
                                       cache=SpecCache.build(df.path, cfg, d, progress=False))
        for _ in dls.train: pass                                                   # warm
        pr = cProfile.Profile(); pr.enable()
        for _ in range(epochs):
            for _ in dls.train: pass
        pr.disable()
    st = pstats.Stats(pr).stats
    cum = lambda name, file='': sum(v[3] for (f, _, fn), v in st.items() if fn == name and file in f)
    total = cum('__iter__', 'fastai/data/load.py')
    made, crops = cum('create_batches', 'fsd_tagger'), cum('crops', 'fsd_tagger')
    tfms = cum('compose_tfms', 'fasttransform')                                    # the loader's after_batch pipeline
    print(f'(c) profiled, {epochs} epochs in {total:.2f} s (with the profiler overhead): making the batches {made/total:.0%} '
          f'(of the total; the gather of the crops from the memory map {crops/total:.0%}), the batch transforms (top_db floor, '
          f'normalisation, masks) {tfms/total:.0%}, the rest {1 - (made + tfms)/total:.0%}')

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
    ap.add_argument('--profile', action='store_true', help="only profile (c) with 0 workers")
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
    if a.profile: return profile_cached(df, vocab, cfg, a.bs, a.device)
    from fsd_tagger.audio import default_workers
    own, own_c = default_workers(a.device), default_workers(a.device, cached=True)
    runs = [('a', f'(a) fsd_tagger.audio, batch transforms on {a.device}, {a.workers} workers', run_ours, a.workers, (a.device,)),
            ('b', f"(b) the reference write-up's per-item pipeline (decode whole file, trim, crop, spectrogram in {a.workers} workers)", run_seed, a.workers, ())]
    runs.append(('c', f'(c) fsd_tagger.audio with a SpecCache: batches of spectrogram crops in {a.workers} workers, batch transforms on {a.device}', run_cached, a.workers, (a.device,)))
    if own != a.workers: runs.insert(1, ('a*', f"(a*) as (a) with AudioDataLoaders' default for this machine, {own} workers", run_ours, own, (a.device,)))
    if own_c != a.workers: runs.append(('c*', f"(c*) as (c) with AudioDataLoaders' default for cached batches on this machine, {own_c} workers", run_cached, own_c, (a.device,)))
    res = {}
    for key, name, fn, workers, args in runs:
        n, secs, shape, setup, rss, rss_child, *build = measure(fn, df, vocab, cfg.to_dict(), a.bs, workers, a.seconds, *args)
        res[key] = n/secs
        print(f'{name}\n    {n} clips in {secs:.1f} s = {n/secs:.1f} clips/s; batch {shape}; set-up {setup:.1f} s; '
              f'peak RSS {rss:.0f} MiB (main), {rss_child:.0f} MiB (largest worker)', flush=True)
        if build:
            print(f'    one-off cache build (not in the figure above): {build[0]:.1f} s for {len(df)} clips = {len(df)/build[0]:.1f} clips/s, '
                  f'{build[0]/(dur/3600):.0f} s per hour of audio; {build[1]:.0f} MiB on disk', flush=True)
    ratios = [f'({k})/(b): {res[k]/res["b"]:.1f}x' for k in ("a", "a*", "c", "c*") if k in res and res["b"]]
    print('ratio ' + '; '.join(ratios))

if __name__ == '__main__': main()
