#!/usr/bin/env python3
"""Reference values for tokenizer training (tests/tokenizer_train.rs).

Trains a WordPiece tokenizer (vocab 4,000, min frequency 2, uncased) on
../shared/data/gutenberg-novels/valid.txt twice:
  ours   `lm-workbench train-tokenizer` (the binary built by cargo), saved in the Hugging Face layout;
         transformers' AutoTokenizer.from_pretrained(that folder) then encodes SENTENCES;
  hf     the tokenizers library's BertWordPieceTokenizer trainer with the same settings.
Writes tokenizer_reference.json: our vocabulary (the training is deterministic: a later run must give
exactly it), the IDs and
tokens AutoTokenizer gives for each sentence, and the HF trainer's vocabulary (the same algorithm; it
breaks ties in hash order, so a few rare tokens may differ).

Run from the repository root after `cargo build`:
    /work/venv-ref/bin/python tests/reference/make_tokenizer_reference.py
"""
import json
import os
import subprocess
import tempfile
from pathlib import Path

from tokenizers import BertWordPieceTokenizer
from transformers import AutoTokenizer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = Path(os.environ.get("LMW_SHARED_DATA", ROOT.parent / "shared" / "data")) / "gutenberg-novels" / "valid.txt"
BIN = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "lm-workbench"
VOCAB_SIZE, MIN_FREQUENCY = 4000, 2
SENTENCES = [
    "The Castle of Otranto was written by Horace Walpole.",
    "Manfred, prince of Otranto, had one son and one daughter!",
    "Café, naïve, RÉSUMÉ — accents are stripped when lower-casing.",
    "Numbers like 1764 and 3.14159 split into digits; emoji 🦀 are unknown.",
    "Unbelievably, the extraordinarily disagreeable monastery's chapel...",
    "中文 characters are split one by one.",
    "   Extra   spaces\tand\ttabs\nand newlines.   ",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "ours"
        subprocess.run(
            [str(BIN), "train-tokenizer", "--data", str(DATA), "--vocab-size", str(VOCAB_SIZE),
             "--min-frequency", str(MIN_FREQUENCY), "--out", str(ours), "--json"],
            check=True, stdout=subprocess.DEVNULL,
        )
        vocab_bytes = (ours / "vocab.txt").read_bytes()
        auto = AutoTokenizer.from_pretrained(str(ours))
        encoded = []
        for s in SENTENCES:
            e = auto(s)
            encoded.append({"text": s, "input_ids": e["input_ids"], "tokens": auto.convert_ids_to_tokens(e["input_ids"])})
        hf = BertWordPieceTokenizer(lowercase=True)
        hf.train([str(DATA)], vocab_size=VOCAB_SIZE, min_frequency=MIN_FREQUENCY, show_progress=False,
                 special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        hf_vocab = [t for t, _ in sorted(hf.get_vocab().items(), key=lambda kv: kv[1])]
    out = {
        "data": "gutenberg-novels/valid.txt",
        "vocab_size": VOCAB_SIZE,
        "min_frequency": MIN_FREQUENCY,
        "vocab": vocab_bytes.decode().splitlines(),
        "auto_tokenizer_class": type(auto).__name__,
        "sentences": encoded,
        "hf_trainer_vocab": hf_vocab,
    }
    (HERE / "tokenizer_reference.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    ours_set = set(vocab_bytes.decode().splitlines())
    print(f"{type(auto).__name__}; HF trainer vocabulary shared with ours: {len(ours_set & set(hf_vocab))} of {len(hf_vocab)}")


if __name__ == "__main__":
    main()
