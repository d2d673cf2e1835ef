//! Batches: the seeded per-epoch row order, padded batches (dynamic padding to the longest row of
//! the batch), and the classification evaluation pass.

use candle_core::{DType, Tensor};

use super::error::{TrainError, TrainResult};
use super::metrics::{classification_report, EvalOutputs};
use super::setup::EncodedSplit;
use super::EvalReport;
use crate::core::model::rng::SeededRng;
use crate::core::model::{Dropout, Family, ModelInput, TaskModel};

/// A 64-bit mix of a seed and two counters (for per-epoch and per-batch generators).
pub fn mix_seed(seed: u64, a: u64, b: u64) -> u64 {
    let mut rng = SeededRng::new(seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xD1B5_4A32_D192_ED03));
    rng.next_u64()
}

/// The row order of an epoch: a Fisher–Yates shuffle seeded by (seed, epoch).
pub fn epoch_order(rows: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows).collect();
    let mut rng = SeededRng::new(mix_seed(seed, epoch, 0));
    for i in (1..rows).rev() {
        let n = i as u64 + 1;
        let zone = u64::MAX - u64::MAX % n;
        let j = loop {
            let x = rng.next_u64();
            if x < zone {
                break (x % n) as usize;
            }
        };
        order.swap(i, j);
    }
    order
}

/// The order of an epoch with batches of similar lengths (transformers' `group_by_length`): the
/// shuffled `order` is cut into mega-batches of 50 batches, each sorted by length (longest first), so
/// that dynamic padding pads little; then the batches are shuffled (seeded) so that lengths do not
/// drift through the epoch, except that the longest batch of the epoch comes first (an out-of-memory
/// error shows at the first step, not hours in). A permutation of `order`, the same for the same seed.
pub fn length_grouped(order: &[usize], lengths: &[usize], batch_size: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let batch_size = batch_size.max(1);
    let mut sorted: Vec<usize> = Vec::with_capacity(order.len());
    for mega in order.chunks(50 * batch_size) {
        let mut mega = mega.to_vec();
        // Stable: equal lengths keep their shuffled order.
        mega.sort_by_key(|&r| std::cmp::Reverse(lengths[r]));
        sorted.extend(mega);
    }
    let mut batches: Vec<&[usize]> = sorted.chunks(batch_size).collect();
    let mut rng = SeededRng::new(mix_seed(seed, epoch, 1));
    for i in (1..batches.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        batches.swap(i, j);
    }
    let longest = (0..batches.len()).max_by_key(|&b| (batches[b].iter().map(|&r| lengths[r]).max(), std::cmp::Reverse(b)));
    if let Some(b) = longest {
        batches.swap(0, b);
    }
    batches.concat()
}

/// A padded batch of rows of a split: the model input, and the number of real tokens.
pub fn make_batch(
    model: &TaskModel,
    split: &EncodedSplit,
    rows: &[usize],
    pad_id: u32,
) -> TrainResult<(ModelInput, usize)> {
    let width = rows.iter().map(|&r| split.ids[r].len()).max().unwrap_or(0);
    let pad = |row: &[u32], value: u32| {
        let mut r = row.to_vec();
        r.resize(width, value);
        r
    };
    let ids: Vec<Vec<u32>> = rows.iter().map(|&r| pad(&split.ids[r], pad_id)).collect();
    let mask: Vec<Vec<u32>> = rows.iter().map(|&r| pad(&vec![1; split.ids[r].len()], 0)).collect();
    let types: Vec<Vec<u32>> = if model.config().family == Family::Bert {
        rows.iter().map(|&r| pad(&split.types[r], 0)).collect()
    } else {
        Vec::new()
    };
    let tokens = rows.iter().map(|&r| split.ids[r].len()).sum();
    Ok((ModelInput::from_rows(&ids, &types, &mask, model.device())?, tokens))
}

pub(super) fn scalar(t: &Tensor) -> TrainResult<f64> {
    Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}

/// Evaluates a classifier on a split (no dropout): loss, probabilities, then the scores.
pub fn evaluate_split(
    model: &TaskModel,
    split: &EncodedSplit,
    label_names: &[String],
    pad_id: u32,
    batch_size: usize,
    at: (u64, f64, &str),
) -> TrainResult<EvalReport> {
    evaluate_split_with_vectors(model, split, label_names, pad_id, batch_size, at, 0).map(|(report, _)| report)
}

/// [`evaluate_split`] that also returns the last layer's [CLS] vectors of the first `keep_rows` rows
/// (from the same forward passes).
pub fn evaluate_split_with_vectors(
    model: &TaskModel,
    split: &EncodedSplit,
    label_names: &[String],
    pad_id: u32,
    batch_size: usize,
    (step, epoch, name): (u64, f64, &str),
    keep_rows: usize,
) -> TrainResult<(EvalReport, Vec<Vec<f32>>)> {
    let mut vectors = Vec::new();
    let mut outputs = EvalOutputs::default();
    let mut loss_sum = 0.0;
    let rows: Vec<usize> = (0..split.len()).collect();
    for chunk in rows.chunks(batch_size.max(1)) {
        let (input, _) = make_batch(model, split, chunk, pad_id)?;
        let out = crate::core::model::ops::no_grad(|| model.forward(&input, &mut Dropout::eval()))?;
        let wanted = keep_rows.saturating_sub(chunk[0]).min(chunk.len());
        if wanted > 0 {
            let cls = crate::core::model::encoder::first_token(&out.encoder.last_hidden_state)?.narrow(0, 0, wanted)?;
            vectors.extend(cls.to_dtype(DType::F32)?.to_vec2::<f32>()?);
        }
        let logits = out.logits.ok_or_else(|| TrainError::Config("the model has no classification head".into()))?;
        let labels: Vec<i64> = chunk.iter().map(|&r| i64::from(split.labels[r])).collect();
        let labels_t = Tensor::new(labels.as_slice(), model.device())?;
        loss_sum += scalar(&model.loss(&logits, &labels_t)?)? * chunk.len() as f64;
        let probs = crate::core::model::ops::masked_softmax(&logits.to_dtype(DType::F32)?, None)?;
        outputs.probabilities.extend(probs.to_vec2::<f32>()?);
        outputs.labels.extend(chunk.iter().map(|&r| split.labels[r]));
    }
    outputs.loss = if split.is_empty() { 0.0 } else { loss_sum / split.len() as f64 };
    Ok((classification_report(step, epoch, name, outputs, label_names), vectors))
}
