"""A small lossy copy of an FSDKaggle2019-format dataset, to carry it to a machine that takes only a few tens of MB
(the lent GPU machine takes 64 MiB per call), and the way back to WAV there.

    python tools/opus_copy.py encode data/realsound/fsd_scale1_seed0 .gpu/rs          # 1.6 GB of WAV -> 44 MB of Opus
    python tools/opus_copy.py decode .gpu/rs /tmp/rs/fsd_scale1_seed0_opus          # back to 44.1 kHz PCM-16 WAV

Opus (libsndfile, resampled to 48 kHz) at compression level 0.93 (about 23 kbit/s) for the curated and test clips and
0.96 (about 17 kbit/s) for the noisy ones. Measured on 20 curated clips, the energy of each 4 kHz band up to 20 kHz stays
within 1.5 dB of the original. Scores on the copy are comparable with each other, not with scores on the original."""
import argparse, os, shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import numpy as np, soundfile as sf, soxr, torch
import torchaudio.functional as AF

SPLITS = dict(train_curated=0.93, test=0.93, train_noisy=0.96)   # folder: Opus compression level

def _convert(job):
    "Encode one WAV clip to Opus at compression `level`, or decode (`level` None) one Opus clip to 44.1 kHz PCM-16 WAV"
    src, out, level = job
    x, sr = sf.read(src, dtype='float32')
    tmp = out.with_suffix('.tmp')
    if level is not None:
        torch.set_num_threads(1)
        sf.write(tmp, AF.resample(torch.from_numpy(x), sr, 48000).numpy(), 48000, format='OGG', subtype='OPUS', compression_level=level)
    else: sf.write(tmp, np.clip(soxr.resample(x, sr, 44100), -1, 1), 44100, subtype='PCM_16', format='WAV')
    tmp.replace(out)

def _tables(src, dst):
    "The label tables and dataset info travel unchanged"
    for f in [*src.glob('*.csv'), *src.glob('*.json')]: shutil.copy(f, dst/f.name)

def copy(src, dst, encode=True, workers=None):
    "Encode dataset folder `src` to Opus files in `dst` (or decode such a copy back to WAV); finished files are kept"
    src, dst, jobs = Path(src), Path(dst), []
    for split, level in SPLITS.items():
        if not (src/split).is_dir(): raise SystemExit(f'{src}: no {split}/ folder; expected an FSDKaggle2019-format dataset')
        (dst/split).mkdir(parents=True, exist_ok=True)
        for f in sorted((src/split).glob('*.wav' if encode else '*.ogg')):
            out = dst/split/(f.stem + ('.ogg' if encode else '.wav'))
            if not out.exists(): jobs.append((f, out, level if encode else None))
    _tables(src, dst)
    with ProcessPoolExecutor(workers or os.cpu_count()) as ex: list(ex.map(_convert, jobs, chunksize=8))
    print(f'{"encoded" if encode else "decoded"} {len(jobs)} clips to {dst}', flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('action', choices=['encode', 'decode']); ap.add_argument('src'); ap.add_argument('dst')
    ap.add_argument('--workers', type=int, default=None)
    a = ap.parse_args()
    copy(a.src, a.dst, a.action == 'encode', workers=a.workers)
