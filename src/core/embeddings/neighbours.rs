//! Nearest vocabulary tokens by cosine similarity of the input (word) embeddings.

use candle_core::DType;
use serde::Serialize;

use crate::core::model::error::{CandleContext, ModelError, ModelResult};
use crate::core::model::TaskModel;
use crate::core::text::tokenizer::{EncodeRequest, TextTokenizer};

/// One vocabulary token and its cosine similarity to the query.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Neighbour {
    pub token: String,
    pub id: u32,
    pub cosine: f32,
}

/// The word-embedding matrix with unit rows, ready for cosine searches.
pub struct VocabIndex {
    dim: usize,
    /// Row-major `(vocab, dim)` rows scaled to unit length (an all-zero row stays zero).
    unit: Vec<f32>,
    /// The raw rows, as the model stores them.
    raw: Vec<f32>,
    tokens: Vec<String>,
}

impl std::fmt::Debug for VocabIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VocabIndex").field("rows", &self.len()).field("dim", &self.dim).finish()
    }
}

impl VocabIndex {
    /// Reads the model's word embeddings; token names come from the tokenizer (ids it lacks show as
    /// `<id>`).
    pub fn new(model: &TaskModel, tokenizer: &TextTokenizer) -> ModelResult<Self> {
        let table = model.word_embeddings().to_dtype(DType::F32).ctx("word embeddings")?;
        let (rows, dim) = table.dims2().ctx("word embeddings")?;
        let raw = table.flatten_all().and_then(|t| t.to_vec1::<f32>()).ctx("word embeddings")?;
        let tokens = (0..rows as u32)
            .map(|id| tokenizer.id_to_token(id).map_or_else(|| format!("<{id}>"), str::to_string))
            .collect();
        Ok(Self::from_rows(raw, dim, tokens))
    }

    /// From a row-major matrix and one name per row.
    pub fn from_rows(raw: Vec<f32>, dim: usize, tokens: Vec<String>) -> Self {
        let mut unit = raw.clone();
        if dim > 0 {
            for row in unit.chunks_exact_mut(dim) {
                let norm = row.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt();
                if norm > 0.0 {
                    row.iter_mut().for_each(|v| *v = (f64::from(*v) / norm) as f32);
                }
            }
        }
        Self { dim, unit, raw, tokens }
    }

    pub fn len(&self) -> usize {
        self.raw.len().checked_div(self.dim).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The stored vector of a token.
    pub fn row(&self, id: u32) -> Option<&[f32]> {
        let start = (id as usize).checked_mul(self.dim)?;
        self.raw.get(start..start + self.dim)
    }

    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// The `k` rows most similar to `query` by cosine, best first (ties by id), skipping `exclude`.
    pub fn nearest(&self, query: &[f32], k: usize, exclude: &[u32]) -> ModelResult<Vec<Neighbour>> {
        if query.len() != self.dim {
            return Err(ModelError::Input(format!("a vector of {} values, the embeddings have {}", query.len(), self.dim)));
        }
        let norm = query.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Err(ModelError::Input("the query vector is all zeros".into()));
        }
        let q: Vec<f32> = query.iter().map(|v| (f64::from(*v) / norm) as f32).collect();
        let mut scored: Vec<(f32, u32)> = self
            .unit
            .chunks_exact(self.dim)
            .enumerate()
            .filter(|(id, _)| !exclude.contains(&(*id as u32)))
            .map(|(id, row)| (row.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>(), id as u32))
            .collect();
        let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let k = k.min(scored.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        scored.select_nth_unstable_by(k - 1, order);
        scored.truncate(k);
        scored.sort_by(order);
        Ok(scored
            .into_iter()
            .map(|(cosine, id)| Neighbour { token: self.tokens[id as usize].clone(), id, cosine })
            .collect())
    }
}

/// The neighbours of a typed word.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WordNeighbours {
    pub word: String,
    /// The word's tokens (special tokens left out). A word of several tokens is searched by the mean
    /// of their rows.
    pub tokens: Vec<String>,
    pub ids: Vec<u32>,
    /// Best first; the word's own tokens are left out.
    pub neighbours: Vec<Neighbour>,
}

/// The `k` vocabulary tokens nearest to `word` by cosine of the input embeddings.
pub fn word_neighbours(
    index: &VocabIndex,
    tokenizer: &TextTokenizer,
    word: &str,
    k: usize,
) -> ModelResult<WordNeighbours> {
    let word = word.trim();
    if word.is_empty() {
        return Err(ModelError::Input("type a word".into()));
    }
    let encoded = tokenizer.encode(&EncodeRequest::text(word))?;
    let (ids, tokens): (Vec<u32>, Vec<String>) = (0..encoded.len())
        .filter(|&i| !encoded.is_special(i))
        .map(|i| (encoded.input_ids[i], encoded.tokens[i].clone()))
        .unzip();
    if ids.is_empty() {
        return Err(ModelError::Input(format!("{word:?} has no tokens")));
    }
    let mut query = vec![0f32; index.dim()];
    for &id in &ids {
        let row = index
            .row(id)
            .ok_or_else(|| ModelError::Input(format!("token id {id} is outside the embeddings ({})", index.len())))?;
        query.iter_mut().zip(row).for_each(|(q, r)| *q += r / ids.len() as f32);
    }
    let neighbours = index.nearest(&query, k, &ids)?;
    Ok(WordNeighbours { word: word.to_string(), tokens, ids, neighbours })
}
