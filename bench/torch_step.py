"""PyTorch reference for `make bench`: ms per training step of the same seq2seq models.

Why: issue 4 judges sstcast's step time against PyTorch's on the same model, same shapes,
same optimizer, one thread. This is that model in PyTorch's own recurrent modules
(`nn.GRU` / `nn.LSTM`, cuDNN-free CPU kernels, oneDNN for LSTM): a stacked encoder whose
final states start a stacked decoder fed the previous true value (teacher forcing), a linear
read-out added to the damped-persistence baseline (as `sstcast::model::Seq2Seq`), MSE,
Adam with coupled L2 (`weight_decay`) and gradient-norm clipping at 1 per parameter tensor
(as `train::fit` with burn's clipping).

Usage: python torch_step.py --shapes SHAPES_JSON [--steps 200] [--warmup 20]
SHAPES_JSON maps a name to {cell, layers, hidden, channels, window, horizon, batch,
learning_rate, l2} (the `shape` objects `sstcast-bench steps` prints). Prints JSON:
{torch_version, threads, models: {name: {step_ms: {n, median, p10, p90}, loss_first,
loss_last}}}. The `<name>_lstm` variant (same sizes, LSTM cell) is added for GRU models,
for information: it is PyTorch's fastest recurrent kernel on the CPU.
"""

import argparse
import json
import math
import statistics
import time

import torch
from torch import nn


class Seq2Seq(nn.Module):
    def __init__(self, cell, layers, hidden, channels):
        super().__init__()
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.enc = rnn(channels, hidden, layers, batch_first=True)
        self.dec = rnn(channels, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, channels)
        # Starts as damped persistence, as sstcast's model does.
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x, y, damping):
        last = x[:, -1:, :]
        base = last * damping.unsqueeze(0)
        dec_in = torch.cat([last, y[:, :-1, :]], dim=1)
        _, state = self.enc(x)
        out, _ = self.dec(dec_in, state)
        return base + self.out(out)


def quantile(sorted_v, p):
    x = p * (len(sorted_v) - 1)
    lo, hi = int(x), min(int(x) + 1, len(sorted_v) - 1)
    return sorted_v[lo] + (sorted_v[hi] - sorted_v[lo]) * (x - lo)


def time_model(s, steps, warmup, seed=42):
    torch.manual_seed(seed)
    c, b, w, h = s["channels"], s["batch"], s["window"], s["horizon"]
    model = Seq2Seq(s["cell"], s["layers"], s["hidden"], c)
    # burn Adam defaults: betas (0.9, 0.999), epsilon 1e-5.
    opt = torch.optim.Adam(model.parameters(), lr=s["learning_rate"], eps=1e-5, weight_decay=s["l2"])
    t = torch.arange(w + h, dtype=torch.float32).view(1, -1, 1)
    phase = torch.rand(b, 1, 1) * 2 * math.pi + torch.arange(b).view(-1, 1, 1)
    ch = 0.1 * torch.arange(c, dtype=torch.float32).view(1, 1, -1)
    series = torch.sin(0.5 * t + phase + ch) + 0.2 * (torch.rand(b, w + h, c) - 0.5)
    x, y = series[:, :w].contiguous(), series[:, w:].contiguous()
    damping = 0.9 ** torch.arange(1, h + 1, dtype=torch.float32).view(-1, 1).expand(h, c)
    params = list(model.parameters())

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(x, y, damping) - y) ** 2)
        value = loss.item()
        loss.backward()
        # burn's `GradientClipping::Norm` clips each parameter tensor to norm 1 on its own
        # (burn-optim 0.22.1, module_optimizer.rs), not the global norm: do the same.
        for p in params:
            nn.utils.clip_grad_norm_(p, 1.0)
        opt.step()
        return value

    first = None
    for k in range(warmup):
        v = step()
        if k == 0:
            first = v
    ms = []
    last = None
    for _ in range(max(steps, 1)):
        t0 = time.perf_counter()
        last = step()
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    return {
        "step_ms": {
            "n": len(ms),
            "median": statistics.median(ms),
            "p10": quantile(ms, 0.1),
            "p90": quantile(ms, 0.9),
        },
        "loss_first": first,
        "loss_last": last,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", required=True)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    shapes = json.loads(a.shapes)
    models = {}
    for name, s in shapes.items():
        models[name] = time_model(s, a.steps, a.warmup)
        if s["cell"] == "gru":
            models[name + "_lstm"] = time_model(dict(s, cell="lstm"), a.steps, a.warmup)
    print(
        json.dumps(
            {"torch_version": torch.__version__, "threads": torch.get_num_threads(), "models": models},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
