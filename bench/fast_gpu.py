"""The `fast` preset's two folds trained on a GPU, as 03_kfold_train's `cuda` cell trains them, with 0 DataLoader workers
and with the default number (`default_workers`); prints the time and the results table of each.

    python bench/fast_gpu.py            # both; or give the worker counts: python bench/fast_gpu.py 0 None 4
"""
import shutil, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

def main(workers):
    t0 = time.time()
    import torch
    from fsd_tagger.toy import make_toy_fsd
    from fsd_tagger.train import TrainRun
    if not torch.cuda.is_available(): print('fast_gpu: no GPU here; nothing measured'); return
    tmp = Path(tempfile.mkdtemp())
    try:
        data = make_toy_fsd(tmp/'toy', n_classes=6, n_curated=96, n_noisy=64, n_test=8)   # 03's toy dataset
        print(f'{torch.cuda.get_device_name(0)}; imports and toy data {time.time()-t0:.1f} s', flush=True)
        for nw in workers:
            t = time.time()
            res = TrainRun(data, tmp/f'run_{nw}', 'fast', device='cuda', num_workers=nw, progress=False).fit()
            print(f'num_workers={nw}: {time.time()-t:.1f} s\n{res.to_string(index=False)}', flush=True)
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main([None if a == 'None' else int(a) for a in sys.argv[1:]] or [0, None])
