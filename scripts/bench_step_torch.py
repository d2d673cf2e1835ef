#!/usr/bin/env python3
"""PyTorch + transformers side of `scripts/bench-step.sh` (not part of the tests).

Times whole training steps as `lm-workbench bench-step` does, with the same settings: a model folder
(AutoModelForSequenceClassification with `--num-labels` classes, or AutoModelForMaskedLM) or a bare
config.json (fresh weights), synthetic batches (token ids uniform above id 1000, every position
attended; labels uniform over the classes, or for masked LM the token id at 15 % of the positions and
-100 elsewhere), train mode (dropout on), loss, backward, clip_grad_norm_(1.0), AdamW (weight decay 0.01
except biases and LayerNorm weights), `--warmup` untimed steps then `--steps` timed ones. `--precision
bf16` runs the forward under torch.autocast(bfloat16) with f32 weights, the usual mixed precision.

Prints one JSON object: median step seconds, samples/s, tokens/s, peak memory (CPU: the process's peak
RSS; CUDA: torch.cuda.max_memory_allocated) and the library versions.
"""

import argparse
import json
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--task", choices=["classify", "mlm"], default="classify")
    ap.add_argument("--num-labels", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    import os
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoModelForSequenceClassification

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    device = torch.device(args.device)
    is_dir = os.path.isdir(args.model)
    config = AutoConfig.from_pretrained(args.model if is_dir else os.path.dirname(os.path.abspath(args.model)))
    if args.task == "classify":
        config.num_labels = args.num_labels
        cls = AutoModelForSequenceClassification
    else:
        cls = AutoModelForMaskedLM
    if is_dir:
        model = cls.from_pretrained(args.model, config=config)
    else:
        model = cls.from_config(config)
    model.to(device).train()
    no_decay = ("bias", "LayerNorm.weight")
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in params if not n.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in params if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    fused = device.type == "cuda"
    optimizer = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, fused=fused)
    b, s = args.batch_size, args.seq_len
    low = min(1000, config.vocab_size // 2)
    gen = torch.Generator().manual_seed(42)

    def batch():
        ids = torch.randint(low, config.vocab_size, (b, s), generator=gen)
        mask = torch.ones(b, s, dtype=torch.long)
        if args.task == "classify":
            labels = torch.randint(0, args.num_labels, (b,), generator=gen)
        else:
            pick = torch.rand(b, s, generator=gen) < 0.15
            labels = torch.where(pick, ids, torch.full_like(ids, -100))
        return ids.to(device), mask.to(device), labels.to(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    times, loss_value = [], float("nan")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for step in range(args.warmup + args.steps):
        ids, mask, labels = batch()
        sync()
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = out.loss.item()
        sync()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
    median = sorted(times)[len(times) // 2]
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated()
        name = torch.cuda.get_device_name()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        name = "cpu"
    print(json.dumps({
        "implementation": "pytorch", "task": args.task, "device": name, "precision": args.precision,
        "threads": torch.get_num_threads(), "batch_size": b, "seq_len": s, "steps": args.steps,
        "step_secs": times, "median_step_secs": median, "samples_per_sec": b / median,
        "tokens_per_sec": b * s / median, "final_loss": loss_value, "peak_bytes": peak,
        "trainable_params": sum(p.numel() for _, p in params),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }))


if __name__ == "__main__":
    sys.exit(main())
