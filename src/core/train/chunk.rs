//! Masked-LM pre-training on running text: every row of a split tokenised (no special tokens), the
//! token streams concatenated in row order, and cut into blocks of `chunk_size` tokens framed by the
//! tokenizer's special tokens ([CLS] … [SEP]). The remainder that does not fill a block is dropped, as
//! the Hugging Face course's `group_texts` does; no token is lost or repeated otherwise.

use super::error::{TrainError, TrainResult};
use super::setup::EncodedSplit;
use crate::core::data::Split;
use crate::core::text::tokenizer::TextTokenizer;

/// Cuts `stream` into blocks of `chunk_size` tokens including `prefix` and `suffix`.
pub fn chunk_tokens(stream: &[u32], chunk_size: usize, prefix: &[u32], suffix: &[u32]) -> TrainResult<Vec<Vec<u32>>> {
    let frame = prefix.len() + suffix.len();
    if chunk_size <= frame {
        return Err(TrainError::Config(format!(
            "chunk_size {chunk_size} leaves no room for text next to the {frame} special tokens of each block"
        )));
    }
    let content = chunk_size - frame;
    Ok(stream
        .chunks_exact(content)
        .map(|block| prefix.iter().chain(block).chain(suffix).copied().collect())
        .collect())
}

/// A split as blocks of `chunk_size` tokens (see the module docs).
pub fn chunk_split(tokenizer: &TextTokenizer, split: &Split, chunk_size: usize) -> TrainResult<EncodedSplit> {
    let (prefix, suffix) = tokenizer.special_frame()?;
    let stream: Vec<u32> = tokenizer.encode_plain_batch(&split.texts)?.into_iter().flatten().collect();
    let blocks = chunk_tokens(&stream, chunk_size, &prefix, &suffix)?;
    let special: Vec<bool> = (0..chunk_size).map(|i| i < prefix.len() || i >= chunk_size - suffix.len()).collect();
    Ok(EncodedSplit {
        types: vec![vec![0; chunk_size]; blocks.len()],
        special: vec![special; blocks.len()],
        labels: Vec::new(),
        ids: blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_once_in_order_and_the_remainder_dropped() {
        let stream: Vec<u32> = (100..1100).collect();
        let blocks = chunk_tokens(&stream, 32, &[2], &[3]).unwrap();
        assert_eq!(blocks.len(), 1000 / 30);
        assert!(blocks.iter().all(|b| b.len() == 32 && b[0] == 2 && b[31] == 3));
        let content: Vec<u32> = blocks.iter().flat_map(|b| b[1..31].iter().copied()).collect();
        assert_eq!(content, stream[..blocks.len() * 30]);
        assert!(chunk_tokens(&stream, 2, &[2], &[3]).is_err());
        assert!(chunk_tokens(&[], 32, &[2], &[3]).unwrap().is_empty());
    }
}
