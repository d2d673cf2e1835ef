#!/usr/bin/env python3
"""Reference values for the Embeddings page's core (tests/embeddings.rs), from PyTorch + transformers
(CPU, float32) and numpy. Writes embeddings_reference.json next to this script.

  attention      transformers' output_attentions (eager attention) of all-MiniLM-L6-v2 for a single text
                 and for a padded batch of two, as [layer][batch][head][query][key]
  sentence       sentence-transformers' vectors of all-MiniLM-L6-v2 (mean pooling over the attention
                 mask, then L2 normalisation, the model's modules.json), and the mean before normalising
  pca            PCA by numpy's SVD of the centred mean-pooled vectors of the first 60 demo headlines:
                 explained variance ratio of the first two axes and each row's coordinates

Run from the repository root after `bash scripts/fetch-fixtures.sh`:
    /work/venv-ref/bin/python tests/reference/make_embeddings_reference.py
"""
import csv
import json
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoModel, AutoTokenizer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MINILM = ROOT / "fixtures" / "all-minilm-l6-v2"
HEADLINES = ROOT / "assets" / "demo_headlines.csv"


def r(x):
    return float(f"{x:.7g}")


def nested(t):
    if t.dim() == 0:
        return r(t.item())
    return [nested(s) for s in t]


def mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(torch.float32)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def main():
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(MINILM)
    model = AutoModel.from_pretrained(MINILM, attn_implementation="eager").eval()

    attention = []
    for texts in (["The cat sat on the mat because it was tired."],
                  ["Attention is all you need.", "Short one."]):
        enc = tok(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            out = model(**enc, output_attentions=True)
        maps = torch.stack(out.attentions)  # (layers, batch, heads, q, k)
        attention.append({
            "texts": texts,
            "input_ids": enc["input_ids"].tolist(),
            "attention_mask": enc["attention_mask"].tolist(),
            "attentions": nested(maps),
        })

    sentences = ["A man is playing a guitar.", "The new movie is awesome, I loved it so much!",
                 "Stocks fell sharply on Monday.", "How old are you?"]
    enc = tok(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    mean = mean_pool(hidden, enc["attention_mask"])
    st = torch.nn.functional.normalize(mean, p=2, dim=1)

    with open(HEADLINES, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:60]
    texts = [row["text"] for row in rows]
    vectors = []
    for i in range(0, len(texts), 16):
        enc = tok(texts[i:i + 16], padding=True, return_tensors="pt")
        with torch.no_grad():
            vectors.append(mean_pool(model(**enc).last_hidden_state, enc["attention_mask"]))
    x = torch.cat(vectors).double().numpy()
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    variance = s ** 2 / (len(x) - 1)
    coords = centred @ vt[:2].T

    result = {
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__},
        "attention": attention,
        "sentence": {"texts": sentences, "mean": nested(mean), "sentence_transformers": nested(st)},
        "pca": {
            "texts": texts,
            "explained_variance_ratio": [r(v) for v in (variance[:2] / variance.sum())],
            "explained_variance": [r(v) for v in variance[:2]],
            "points": [[r(a), r(b)] for a, b in coords],
        },
    }
    (HERE / "embeddings_reference.json").write_text(json.dumps(result, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
