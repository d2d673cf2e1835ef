//! Text before the model: the tokenizer (encodings as transformers returns them), training a tokenizer
//! (WordPiece, byte-level BPE, unigram), splitting text into characters and words, and one-hot rows.

pub mod onehot;
pub mod segment;
pub mod tokenizer;
pub mod tokenizer_train;
mod unigram_train;
