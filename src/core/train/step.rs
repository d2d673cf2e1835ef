//! The pieces of one optimizer step that the trainer and the step benchmark share: a micro-batch's
//! forward, loss and backward, and the global-norm clip and AdamW update. No host round trips beyond
//! the loss value and the one gradient-norm sum.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use super::batch::scalar;
use super::error::{TrainError, TrainResult};
use crate::core::model::optim::{grad_norm, AdamW};
use crate::core::model::{Dropout, ModelInput, Task, TaskModel};

/// Forward (dropout keyed by `dropout_seed`), loss and backward of one micro-batch whose loss counts
/// with `weight` in the step; returns the unweighted loss and the gradients. `step` (1-based) names the
/// step in the error when the loss is not finite.
pub fn micro_batch_grads(
    model: &TaskModel,
    input: &ModelInput,
    labels: &Tensor,
    dropout_seed: u64,
    weight: f64,
    step: u64,
) -> TrainResult<(f64, GradStore)> {
    let mut dropout = Dropout::train(dropout_seed);
    let loss = if model.task() == Task::MaskedLm {
        // The LM head only on the masked positions.
        let (logits, picked) = model.masked_lm_logits(input, labels, &mut dropout)?;
        model.loss(&logits, &picked)?
    } else {
        let out = model.forward(input, &mut dropout)?;
        let logits = out.logits.ok_or_else(|| TrainError::Config("the model has no head".into()))?;
        model.loss(&logits, labels)?
    };
    let value = scalar(&loss)?;
    if !value.is_finite() {
        return Err(TrainError::NonFinite { step, what: "loss", value });
    }
    let grads = if weight == 1.0 { loss.backward()? } else { (loss * weight)?.backward()? };
    Ok((value, grads))
}

/// Clips the gradients to `max_grad_norm` (as `torch.nn.utils.clip_grad_norm_`: scaled by
/// max / (norm + 1e-6) when that is below 1; the optimizer applies the factor as it reads each
/// gradient) and takes one AdamW step at `lr`. Returns the gradient norm before clipping.
pub fn apply_gradients(
    optimizer: &mut AdamW,
    grads: &GradStore,
    vars: &[Var],
    lr: f64,
    max_grad_norm: Option<f64>,
    step: u64,
) -> TrainResult<f64> {
    let norm = grad_norm(grads, vars)?;
    if !norm.is_finite() {
        return Err(TrainError::NonFinite { step, what: "gradient norm", value: norm });
    }
    let clip = match max_grad_norm {
        Some(max) => (max / (norm + 1e-6)).min(1.0),
        None => 1.0,
    };
    optimizer.config.lr = lr;
    optimizer.step_scaled(grads, clip)?;
    Ok(norm)
}
