# SPDX-License-Identifier: Apache-2.0
# Copyright The carbonrun Authors
"""A GPU training loop for trying carbon-run on a CUDA machine.

Trains a small transformer language model on random tokens in bf16 for a
fixed wall-clock time, so the GPUs draw steady training power:

    carbon-run --region FR -- python scripts/pytorch/train.py --seconds 60

With several GPUs, run one process per GPU through torchrun; each rank uses
the GPU given by LOCAL_RANK.
"""
import argparse
import os
import time

import torch
import torch.nn as nn


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="training time in seconds")
    p.add_argument("--width", type=int, default=2048, help="model width (d_model)")
    p.add_argument("--layers", type=int, default=8, help="transformer layers")
    p.add_argument("--batch", type=int, default=16, help="sequences per step")
    p.add_argument("--seq", type=int, default=1024, help="tokens per sequence")
    p.add_argument("--vocab", type=int, default=32000, help="vocabulary size")
    return p.parse_args()


def main():
    args = parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("train.py: no CUDA device visible; use scripts/demo-train on CPU-only machines")
    rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", rank % torch.cuda.device_count())
    torch.manual_seed(rank)

    layer = nn.TransformerEncoderLayer(args.width, nhead=args.width // 128, dim_feedforward=4 * args.width,
                                       batch_first=True, norm_first=True)
    model = nn.Sequential(
        nn.Embedding(args.vocab, args.width),
        nn.TransformerEncoder(layer, args.layers),
        nn.Linear(args.width, args.vocab),
    ).to(device)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    print(f"train.py: {params / 1e6:.0f}M parameters on {torch.cuda.get_device_name(device)}", flush=True)

    start = time.monotonic()
    step = 0
    tokens = 0
    while time.monotonic() - start < args.seconds:
        x = torch.randint(0, args.vocab, (args.batch, args.seq), device=device)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(x[:, :-1])
            loss = loss_fn(logits.reshape(-1, args.vocab), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        tokens += args.batch * (args.seq - 1)
        if step % 20 == 0:
            torch.cuda.synchronize(device)
            elapsed = time.monotonic() - start
            print(f"step {step:5d}  loss {loss.item():.3f}  {tokens / elapsed:,.0f} tokens/s", flush=True)
    torch.cuda.synchronize(device)
    print(f"train.py: {step} steps in {time.monotonic() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
