//! Sentence vectors of many texts (batched, length-sorted, with progress and cancel) and their 2D
//! projection by PCA.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::DType;
use serde::Serialize;

use super::pca::{Pca, PcaError};
use crate::core::model::encoder::{first_token, mean_pool, ModelInput};
use crate::core::model::error::{CandleContext, ModelError, ModelResult};
use crate::core::model::infer::Pooling;
use crate::core::model::ops::{no_grad, Dropout};
use crate::core::model::{Family, TaskModel};
use crate::core::text::tokenizer::TextTokenizer;

/// How sentence vectors are made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SentenceOptions {
    pub pooling: Pooling,
    /// Longer texts are truncated to this many tokens.
    pub max_length: usize,
    /// Texts per forward pass.
    pub batch_size: usize,
    /// Scale each vector to unit length (sentence-transformers' Normalize module).
    pub normalize: bool,
}

impl Default for SentenceOptions {
    fn default() -> Self {
        Self { pooling: Pooling::Mean, max_length: 128, batch_size: 32, normalize: false }
    }
}

/// One vector per text, in the order of `texts`. `progress(done, total)` is called after every batch;
/// setting `cancel` stops between batches with an error that says so.
pub fn sentence_vectors(
    model: &TaskModel,
    tokenizer: &TextTokenizer,
    texts: &[String],
    options: &SentenceOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: Option<&AtomicBool>,
) -> ModelResult<Vec<Vec<f32>>> {
    let encoded = tokenizer.encode_ids_batch(texts, None, options.max_length)?;
    // Similar lengths share a batch (less padding); results go back to file order.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| encoded[i].0.len());
    let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
    let pad_id = tokenizer.pad_token().map_or(0, |(_, id)| id);
    let with_types = model.config().family == Family::Bert;
    let mut done = 0;
    for batch in order.chunks(options.batch_size.max(1)) {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(ModelError::Input(format!("cancelled after {done} of {} rows", texts.len())));
        }
        let width = batch.iter().map(|&i| encoded[i].0.len()).max().unwrap_or(0).max(1);
        let pad = |row: &[u32], value: u32| -> Vec<u32> {
            let mut r = row.to_vec();
            r.resize(width, value);
            r
        };
        let ids: Vec<Vec<u32>> = batch.iter().map(|&i| pad(&encoded[i].0, pad_id)).collect();
        // Every token of a row is attended (an empty row still attends its one padding slot).
        let mask: Vec<Vec<u32>> = batch.iter().map(|&i| pad(&vec![1; encoded[i].0.len().max(1)], 0)).collect();
        let types: Vec<Vec<u32>> =
            if with_types { batch.iter().map(|&i| pad(&encoded[i].1, 0)).collect() } else { Vec::new() };
        let input = ModelInput::from_rows(&ids, &types, &mask, model.device())?;
        let out = no_grad(|| model.forward(&input, &mut Dropout::eval()))?;
        let hidden = &out.encoder.last_hidden_state;
        let pooled = match options.pooling {
            Pooling::Cls => first_token(hidden),
            Pooling::Mean => mean_pool(hidden, input.attention_mask.as_ref()),
        };
        let rows = pooled.and_then(|p| p.to_dtype(DType::F32)?.to_vec2::<f32>()).ctx("pooling")?;
        for (&i, mut v) in batch.iter().zip(rows) {
            if options.normalize {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
            }
            vectors[i] = v;
        }
        done += batch.len();
        progress(done, texts.len());
    }
    Ok(vectors)
}

/// Vectors projected to 2D.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projection {
    /// `[x, y]` per vector, in input order.
    pub points: Vec<[f32; 2]>,
    pub pca: Pca,
}

impl Projection {
    /// Another vector (e.g. the typed sentence) on the same axes.
    pub fn place(&self, vector: &[f32]) -> [f32; 2] {
        let c = self.pca.transform(vector);
        [c.first().copied().unwrap_or(0.0) as f32, c.get(1).copied().unwrap_or(0.0) as f32]
    }
}

/// PCA to two dimensions.
pub fn project(vectors: &[Vec<f32>]) -> Result<Projection, PcaError> {
    let pca = Pca::fit(vectors, 2)?;
    let mut projection = Projection { points: Vec::new(), pca };
    projection.points = vectors.iter().map(|v| projection.place(v)).collect();
    Ok(projection)
}
