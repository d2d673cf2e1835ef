#!/usr/bin/env python3
"""PyTorch + transformers side of scripts/bench-pretrain.sh: masked-LM pre-training of a BERT built
from a config, with the same tokenizer folder, data, chunking, masking, optimiser, schedule and budget
as `lm-workbench train --task mlm --model preset:LxH --tokenizer DIR --chunk-size N`.

  data      train.txt / valid.txt, one row per line; every row tokenised without special tokens, the
            streams concatenated, cut into blocks of CHUNK-2 tokens framed by [CLS] … [SEP] (the
            remainder dropped)
  model     BertForMaskedLM(BertConfig(vocab = the tokenizer's, LAYERS × HIDDEN, HIDDEN/64 heads (at
            least 2), 4×HIDDEN feed-forward, 512 positions, dropout 0.1)), transformers' initialisation
  masking   DataCollatorForLanguageModeling (15 %, 80/10/10, specials never), new masks every batch;
            validation masked once with a fixed seed
  optimiser AdamW (β 0.9/0.999, ε 1e-8, weight decay 0.01 except biases and LayerNorm), gradient norm
            clipped to 1, linear warm-up over WARMUP_RATIO of the steps then linear decay to 0
  eval      every EVAL_STEPS steps: mean cross-entropy over the masked validation tokens → perplexity
  unigram   the perplexity of predicting every validation token by its training frequency (add-one)
  options   --dropout P (hidden and attention dropout, default 0.1); --unigram-output-bias (the MLM
            output bias starts at the centred log of those add-one training frequencies), as ours

Prints one JSON object (the evaluations, the unigram baseline and tokens/s).
"""
import argparse
import json
import math
import random
import time

import torch
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM, DataCollatorForLanguageModeling, get_linear_schedule_with_warmup


def blocks_of(tok, path, chunk):
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    lines = [line for line in lines if line.strip()]
    stream = [i for ids in tok(lines, add_special_tokens=False)["input_ids"] for i in ids]
    content = chunk - 2
    n = len(stream) // content
    return [[tok.cls_token_id] + stream[k * content:(k + 1) * content] + [tok.sep_token_id] for k in range(n)]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--valid", required=True)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--chunk", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-steps", type=int, default=600)
    p.add_argument("--eval-steps", type=int, default=200)
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--unigram-output-bias", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    tok = AutoTokenizer.from_pretrained(a.tokenizer)
    train = blocks_of(tok, a.train, a.chunk)
    valid = blocks_of(tok, a.valid, a.chunk)
    specials = {tok.cls_token_id, tok.sep_token_id, tok.pad_token_id}

    # The unigram baseline: training frequencies (add-one over the vocabulary) scored on validation.
    counts = torch.zeros(len(tok), dtype=torch.float64)
    for b in train:
        counts.index_add_(0, torch.tensor(b[1:-1]), torch.ones(len(b) - 2, dtype=torch.float64))
    logp = torch.log((counts + 1) / (counts.sum() + len(tok)))
    valid_tokens = torch.tensor([t for b in valid for t in b[1:-1]])
    unigram = math.exp(-logp[valid_tokens].mean().item())

    config = BertConfig(
        vocab_size=len(tok), hidden_size=a.hidden, num_hidden_layers=a.layers,
        num_attention_heads=max(a.hidden // 64, 2), intermediate_size=4 * a.hidden, max_position_embeddings=512,
        pad_token_id=tok.pad_token_id, hidden_dropout_prob=a.dropout, attention_probs_dropout_prob=a.dropout,
    )
    model = BertForMaskedLM(config)
    if a.unigram_output_bias:
        with torch.no_grad():
            model.cls.predictions.bias.copy_((logp - logp.mean()).to(torch.float32))
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(x in n for x in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(x in n for x in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    warmup = math.ceil(a.warmup_ratio * a.max_steps)
    schedule = get_linear_schedule_with_warmup(optimizer, warmup, a.max_steps)

    torch.manual_seed(a.seed + 1)
    valid_batches = [collator([{"input_ids": b} for b in valid[i:i + a.batch_size]]) for i in range(0, len(valid), a.batch_size)]

    def evaluate(step):
        model.eval()
        loss_sum, masked, correct = 0.0, 0, 0
        with torch.no_grad():
            for batch in valid_batches:
                logits = model(input_ids=batch["input_ids"]).logits
                labels = batch["labels"]
                pick = labels != -100
                loss_sum += torch.nn.functional.cross_entropy(logits[pick], labels[pick], reduction="sum").item()
                masked += int(pick.sum())
                correct += int((logits[pick].argmax(-1) == labels[pick]).sum())
        model.train()
        loss = loss_sum / masked
        return {"step": step, "loss": loss, "perplexity": math.exp(loss), "accuracy": correct / masked}

    evals, step, train_secs = [], 0, 0.0
    order = list(range(len(train)))
    gen = random.Random(a.seed)
    model.train()
    while step < a.max_steps:
        gen.shuffle(order)
        for i in range(0, len(order) - a.batch_size + 1, a.batch_size):
            batch = collator([{"input_ids": train[j]} for j in order[i:i + a.batch_size]])
            t0 = time.perf_counter()
            loss = model(input_ids=batch["input_ids"], labels=batch["labels"]).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            train_secs += time.perf_counter() - t0
            step += 1
            if step % a.eval_steps == 0 or step == a.max_steps:
                evals.append(evaluate(step))
            if step >= a.max_steps:
                break
    tokens = step * a.batch_size * a.chunk
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "train_blocks": len(train), "valid_blocks": len(valid), "vocab_size": len(tok),
        "unigram_perplexity": unigram, "evaluations": evals,
        "train_secs": train_secs, "tokens_per_sec": tokens / train_secs,
        "specials": sorted(specials),
    }))


if __name__ == "__main__":
    main()
