#!/usr/bin/env python3
"""Reference values for tokenizer training (tests/tokenizer_train.rs).

For each kind (WordPiece, vocab 4,000; byte-level BPE and unigram, vocab 2,000; min frequency 2,
uncased), trains a tokenizer on ../shared/data/gutenberg-novels/valid.txt twice:
  ours   `lm-workbench train-tokenizer --model-type KIND` (the binary built by cargo), saved in the Hugging
         Face layout; transformers' AutoTokenizer.from_pretrained(that folder) then encodes SENTENCES;
  hf     the tokenizers library's trainer of that kind, on the same pipeline (BERT's normaliser; BERT's,
         GPT-2's byte-level or SentencePiece's Metaspace word splitting).
Writes tokenizer_reference.json, one entry per kind: our vocabulary (the training is deterministic: a
later run must give exactly it), the IDs and tokens AutoTokenizer gives for each sentence, and the HF
trainer's vocabulary (WordPiece and BPE: the same algorithm, which breaks ties in hash order, so a few
rare tokens may differ; unigram: the same trainer, whose float sums and ties depend on threads and hash
order).

Run from the repository root after `cargo build`:
    /work/venv-ref/bin/python tests/reference/make_tokenizer_reference.py
"""
import json
import os
import subprocess
import tempfile
from pathlib import Path

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import AutoTokenizer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = Path(os.environ.get("LMW_SHARED_DATA", ROOT.parent / "shared" / "data")) / "gutenberg-novels" / "valid.txt"
BIN = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "lm-workbench"
MIN_FREQUENCY = 2
VOCAB_SIZES = {"wordpiece": 4000, "bpe": 2000, "unigram": 2000}
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SENTENCES = [
    "The Castle of Otranto was written by Horace Walpole.",
    "Manfred, prince of Otranto, had one son and one daughter!",
    "Café, naïve, RÉSUMÉ — accents are stripped when lower-casing.",
    "Numbers like 1764 and 3.14159 split into digits; emoji 🦀 are unknown.",
    "Unbelievably, the extraordinarily disagreeable monastery's chapel...",
    "中文 characters are split one by one.",
    "   Extra   spaces\tand\ttabs\nand newlines.   ",
]


def hf_trainer_vocab(kind: str, vocab_size: int) -> list:
    if kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=MIN_FREQUENCY, special_tokens=SPECIALS,
                                            show_progress=False)
    elif kind == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=MIN_FREQUENCY, special_tokens=SPECIALS,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    else:
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="[UNK]",
                                          show_progress=False)
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.train([str(DATA)], trainer)
    return [t for t, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])]


def main() -> None:
    kinds = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, vocab_size in VOCAB_SIZES.items():
            ours = Path(tmp) / kind
            subprocess.run(
                [str(BIN), "train-tokenizer", "--data", str(DATA), "--vocab-size", str(vocab_size), "--model-type", kind,
                 "--min-frequency", str(MIN_FREQUENCY), "--out", str(ours), "--json"],
                check=True, stdout=subprocess.DEVNULL,
            )
            auto = AutoTokenizer.from_pretrained(str(ours))
            vocab = [t for t, _ in sorted(auto.get_vocab().items(), key=lambda kv: kv[1])]
            encoded = []
            for s in SENTENCES:
                e = auto(s)
                encoded.append({"text": s, "input_ids": e["input_ids"], "tokens": auto.convert_ids_to_tokens(e["input_ids"])})
            hf_vocab = hf_trainer_vocab(kind, vocab_size)
            kinds[kind] = {
                "vocab_size": vocab_size,
                "vocab": vocab,
                "auto_tokenizer_class": type(auto).__name__,
                "sentences": encoded,
                "hf_trainer_vocab": hf_vocab,
            }
            print(f"{kind}: {type(auto).__name__}; HF trainer vocabulary shared with ours: "
                  f"{len(set(vocab) & set(hf_vocab))} of {len(hf_vocab)}; same order: {vocab == hf_vocab}")
    out = {"data": "gutenberg-novels/valid.txt", "min_frequency": MIN_FREQUENCY, "kinds": kinds}
    (HERE / "tokenizer_reference.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
