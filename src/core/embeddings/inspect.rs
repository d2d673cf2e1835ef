//! Everything the Embeddings page shows about one typed text, computed in one go.

use super::attention::{attention_maps, AttentionMaps};
use super::neighbours::VocabIndex;
use super::projection::{sentence_vectors, SentenceOptions};
use super::vectors::{token_vectors, TokenVectors, VectorSource};
use crate::core::model::error::ModelResult;
use crate::core::model::TaskModel;
use crate::core::text::tokenizer::TextTokenizer;

/// A model's encoder with its tokenizer and vocabulary index: what the Embeddings page works on.
pub struct EncoderModel {
    pub name: String,
    pub model: TaskModel,
    pub tokenizer: TextTokenizer,
    pub index: VocabIndex,
    /// Weights the checkpoint lacked (freshly initialised).
    pub newly_initialized: Vec<String>,
}

impl std::fmt::Debug for EncoderModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncoderModel").field("name", &self.name).finish()
    }
}

impl EncoderModel {
    pub fn new(name: String, model: TaskModel, tokenizer: TextTokenizer, newly_initialized: Vec<String>) -> ModelResult<Self> {
        let index = VocabIndex::new(&model, &tokenizer)?;
        Ok(Self { name, model, tokenizer, index, newly_initialized })
    }
}

/// The vectors, attention maps and sentence vector of one text.
#[derive(Clone, Debug)]
pub struct Inspection {
    pub text: String,
    pub vectors: TokenVectors,
    pub attention: AttentionMaps,
    /// The text's sentence vector (as the projection makes them), to place it among a dataset's.
    pub sentence: Vec<f32>,
}

/// Inspects `text`, truncated to `max_length` tokens.
pub fn inspect(
    encoder: &EncoderModel,
    text: &str,
    source: VectorSource,
    max_length: usize,
    sentence: &SentenceOptions,
) -> ModelResult<Inspection> {
    let vectors = token_vectors(&encoder.model, &encoder.tokenizer, text, source, Some(max_length))?;
    let attention = attention_maps(&encoder.model, &encoder.tokenizer, text, Some(max_length))?;
    let mut pooled = sentence_vectors(&encoder.model, &encoder.tokenizer, &[text.to_string()], sentence, &mut |_, _| {}, None)?;
    Ok(Inspection { text: text.to_string(), vectors, attention, sentence: pooled.pop().unwrap_or_default() })
}
