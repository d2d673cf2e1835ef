#!/usr/bin/env python3
"""PyTorch + transformers side of scripts/bench-projection.sh: mean-pooled all-MiniLM-L6-v2 vectors of
the first ROWS rows of bbc-news/train.csv (max length 128, batches of 32 sorted by length as ours are),
then PCA to 2D with numpy. Prints one JSON object: seconds, rows/s, explained variance ratio."""
import csv
import json
import sys
import time

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

model_dir, data, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else torch.get_num_threads())
with open(data, newline="", encoding="utf-8") as f:
    texts = [r["text"] for r in csv.DictReader(f)][:rows]
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir).eval()
start = time.perf_counter()
lengths = [len(ids) for ids in tok(texts, truncation=True, max_length=128)["input_ids"]]
order = sorted(range(len(texts)), key=lambda i: lengths[i])
vectors = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
with torch.inference_mode():
    for i in range(0, len(order), 32):
        batch = order[i:i + 32]
        enc = tok([texts[j] for j in batch], truncation=True, max_length=128, padding=True, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        vectors[batch] = ((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)).numpy()
centred = vectors - vectors.mean(0)
_, s, _ = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
variance = s ** 2
secs = time.perf_counter() - start
print(json.dumps({"rows": len(texts), "seconds": secs, "rows_per_sec": len(texts) / secs,
                  "explained_variance_ratio": (variance[:2] / variance.sum()).tolist(),
                  "threads": torch.get_num_threads(), "torch": torch.__version__}))
