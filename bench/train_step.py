"""Training and inference throughput of the audio XResNets and CNNs (`model.ARCHS`) on spectrogram-sized inputs (a benchmark, not a test).

    .venv/bin/python bench/train_step.py                       # CPU: small batch, few steps
    .venv/bin/python bench/train_step.py --bs 64 --steps 20    # on a GPU

For each arch and each precision/memory-format variant the device supports, times `--steps` training steps
(forward, BCE-with-logits, backward, ranger step) after `--warmup` untimed ones, and `--steps` inference
batches (eval, no grad), and prints batch size / median step time as training samples/s and inference clips/s (one clip = one n_mels x n_frames input).
Variants: fp32; bf16 autocast (CPU, and CUDA where supported) or fp16 autocast + GradScaler (older CUDA); channels-last.
"""
import argparse, os, platform, time, contextlib, statistics, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's fsd_tagger, not an installed one
import torch
from torch import nn
from fastai.optimizer import ranger
from fsd_tagger.model import audio_model

def variants(device):
    "(name, autocast dtype or None, channels_last) supported on `device`"
    if device.type == 'cuda':
        amp = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        amp_name = 'bf16' if amp == torch.bfloat16 else 'fp16'
    else: amp, amp_name = torch.bfloat16, 'bf16'
    return [('fp32', None, False), (f'{amp_name} autocast', amp, False), ('fp32 channels-last', None, True),
            (f'{amp_name} autocast channels-last', amp, True)]

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()

def bench_one(arch, n_in, n_mels, n_frames, bs, steps, warmup, device, amp, cl):
    "Training samples/s and inference clips/s for one configuration"
    torch.manual_seed(0)
    model = audio_model(arch, n_in=n_in, n_out=80).to(device)
    fmt = torch.channels_last if cl else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(bs, n_in, n_mels, n_frames, device=device).contiguous(memory_format=fmt)
    y = (torch.rand(bs, 80, device=device) < 0.03).float()
    opt, loss_fn = ranger(list(model.parameters()), lr=1e-3), nn.BCEWithLogitsLoss()
    scaler = torch.amp.GradScaler('cuda', enabled=amp == torch.float16 and device.type == 'cuda')
    ctx = (lambda: torch.autocast(device.type, dtype=amp)) if amp is not None else contextlib.nullcontext
    def step():
        with ctx(): loss = loss_fn(model(x).float(), y)
        scaler.scale(loss).backward(); scaler.step(opt) if scaler.is_enabled() else opt.step(); scaler.update(); opt.zero_grad()
    def infer():
        with torch.no_grad(), ctx(): model(x)
    model.train(); train = bs / median_time(step, steps, warmup, device)
    model.eval(); inf = bs / median_time(infer, steps, warmup, device)
    return train, inf

def median_time(f, steps, warmup, device):
    "Median seconds of `steps` calls of `f` after `warmup` untimed ones (the median resists a busy machine)"
    for _ in range(warmup): f()
    ts = []
    for _ in range(steps):
        sync(device); t = time.perf_counter(); f(); sync(device); ts.append(time.perf_counter() - t)
    return statistics.median(ts)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--archs', nargs='+', default=['xresnet18', 'xresnet50'])
    p.add_argument('--n-in', type=int, default=1, help='spectrogram channels (3 with deltas)')
    p.add_argument('--size', type=int, nargs=2, default=[128, 256], metavar=('N_MELS', 'N_FRAMES'))
    p.add_argument('--bs', type=int, default=None, help='batch size (default 64 on CUDA, 8 on CPU)')
    p.add_argument('--steps', type=int, default=None, help='timed steps (default 20 on CUDA, 3 on CPU)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--device', default=None, help='cuda or cpu (default: cuda when available)')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    a = p.parse_args()
    device = torch.device(a.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if a.threads: torch.set_num_threads(a.threads)
    cuda = device.type == 'cuda'
    bs, steps = a.bs or (64 if cuda else 8), a.steps or (20 if cuda else 3)
    if cuda: torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(device) if cuda else f'CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)'
    load = f'; load average {os.getloadavg()[0]:.1f}' if hasattr(os, 'getloadavg') else ''
    print(f'device: {name}; torch {torch.__version__}; input [{bs}, {a.n_in}, {a.size[0]}, {a.size[1]}]; '
          f'median of {steps} timed steps after {a.warmup} warm-up{load}')
    print(f"| arch | variant | train samples/s | inference clips/s |\n|---|---|---:|---:|")
    for arch in a.archs:
        for vname, amp, cl in variants(device):
            try: tr, inf = bench_one(arch, a.n_in, *a.size, bs, steps, a.warmup, device, amp, cl)
            except RuntimeError as e: print(f'| {arch} | {vname} | failed: {str(e).splitlines()[0][:60]} | |'); continue
            print(f'| {arch} | {vname} | {tr:.1f} | {inf:.1f} |', flush=True)

if __name__ == '__main__': main()
