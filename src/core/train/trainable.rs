//! Which parameters train in a run (the `freeze` preset plus the per-module `frozen_modules`
//! toggles), exact parameter counts for the GUI's freeze map, and a training-memory estimate, all
//! without training.
//!
//! # Memory estimate
//!
//! With `P` parameters (`T` of them trainable), `b` bytes per value of the weights' dtype, batch `B`,
//! sequence length `L`, hidden size `H`, intermediate size `I`, `A` heads, `C` outputs of the head
//! (labels, or the vocabulary for masked LM):
//!
//! ```text
//! weights      = P · b
//! gradients    = T · b
//! AdamW state  = T · 8                      (two f32 moments per trainable value)
//! activations  = 4 · ( E + N_act · (B·L·(8H + 2I) + 3·B·A·L²) + head )
//!     E        = 4·B·L·H   when the embeddings train, else 0
//!     N_act    = the encoder layers from the lowest one that trains (or above trainable embeddings) to the top
//!     head     = B·(2H + C) for a classifier, B·L·(2H + C) for masked LM
//! ```
//!
//! The activation term counts the f32 values the backward pass keeps per layer (inputs of the Q/K/V,
//! output and FFN projections, LayerNorm inputs, GELU input, dropout masks: about 8 of width H and 2 of
//! width I per token, plus the attention scores, probabilities and their dropout mask per head). Only the
//! layers that a gradient has to pass through keep them. It is an estimate (allocator overhead and
//! temporaries are not counted), good to an order of magnitude for choosing batch × length.

use serde::Serialize;

use super::error::{TrainError, TrainResult};
use super::TrainConfig;
use crate::core::model::keys::param_specs;
use crate::core::model::{FreezeSpec, ModelConfig, ModuleId, ParamCounts, ParamStore, Task};

/// The freeze preset plus the hand-frozen modules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreezePlan {
    pub spec: FreezeSpec,
    pub frozen: Vec<ModuleId>,
}

/// Reads a module name of `frozen_modules`: `embeddings`, `layer.N` (or `encoder.layer.N`), `pooler`,
/// `head` (or `classifier`).
pub fn parse_module(name: &str) -> TrainResult<ModuleId> {
    let name = name.trim();
    match name {
        "embeddings" => return Ok(ModuleId::Embeddings),
        "pooler" => return Ok(ModuleId::Pooler),
        "head" | "classifier" => return Ok(ModuleId::Head),
        _ => {}
    }
    let index =
        name.strip_prefix("encoder.layer.").or_else(|| name.strip_prefix("layer.")).and_then(|i| i.parse().ok());
    index.map(ModuleId::Layer).ok_or_else(|| {
        TrainError::Config(format!(
            "unknown module {name:?} in frozen_modules: expected embeddings, layer.N, pooler or head"
        ))
    })
}

impl FreezePlan {
    pub fn from_config(config: &TrainConfig) -> TrainResult<Self> {
        let spec: FreezeSpec = config.freeze.parse().map_err(TrainError::Config)?;
        let frozen = config.frozen_modules.iter().map(|m| parse_module(m)).collect::<TrainResult<Vec<_>>>()?;
        Ok(Self { spec, frozen })
    }

    pub fn trains(&self, module: ModuleId, num_layers: usize) -> bool {
        self.spec.trains(module, num_layers) && !self.frozen.contains(&module)
    }

    /// Sets every parameter's trainable flag.
    pub fn apply(&self, store: &ParamStore, num_layers: usize) {
        for p in store.params() {
            p.set_trainable(self.trains(p.module(), num_layers));
        }
    }

    /// Exact total/trainable counts, overall and per module, from the architecture plan (nothing is
    /// allocated).
    pub fn counts(&self, model: &ModelConfig, task: Task) -> ParamCounts {
        let layers = model.num_hidden_layers;
        ParamCounts::from_params(
            param_specs(model, task).iter().map(|s| (s.module, s.elem_count(), self.trains(s.module, layers))),
        )
    }
}

/// Bytes a training run needs, by kind (see the module docs for the formula).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MemoryEstimate {
    pub weights_bytes: u64,
    pub gradients_bytes: u64,
    pub optimizer_bytes: u64,
    pub activations_bytes: u64,
    pub total_bytes: u64,
}

/// The training-memory estimate for a model, a freeze plan, and `batch × seq_len` tokens.
pub fn estimate_memory(
    model: &ModelConfig,
    task: Task,
    freeze: &FreezePlan,
    batch: usize,
    seq_len: usize,
    bytes_per_value: usize,
) -> MemoryEstimate {
    let counts = freeze.counts(model, task);
    let (b, l) = (batch as u64, seq_len as u64);
    let (h, i, a) = (model.hidden_size as u64, model.intermediate_size as u64, model.num_attention_heads as u64);
    let layers = model.num_hidden_layers;
    let classes = match task {
        Task::MaskedLm => model.vocab_size as u64,
        _ => model.num_labels() as u64,
    };
    let embeddings_train = freeze.trains(ModuleId::Embeddings, layers);
    let lowest =
        if embeddings_train { Some(0) } else { (0..layers).find(|&k| freeze.trains(ModuleId::Layer(k), layers)) };
    let active_layers = lowest.map_or(0, |k| (layers - k) as u64);
    let per_layer = b * l * (8 * h + 2 * i) + 3 * b * a * l * l;
    let embed = if embeddings_train { 4 * b * l * h } else { 0 };
    let head = match task {
        Task::MaskedLm => b * l * (2 * h + classes),
        _ => b * (2 * h + classes),
    };
    let activations_bytes = 4 * (embed + active_layers * per_layer + head);
    let weights_bytes = counts.total as u64 * bytes_per_value as u64;
    let gradients_bytes = counts.trainable as u64 * bytes_per_value as u64;
    let optimizer_bytes = counts.trainable as u64 * 8;
    MemoryEstimate {
        weights_bytes,
        gradients_bytes,
        optimizer_bytes,
        activations_bytes,
        total_bytes: weights_bytes + gradients_bytes + optimizer_bytes + activations_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::train::setup::tiny_model_config;

    #[test]
    fn presets_and_toggles_count_exactly() {
        let cfg = tiny_model_config(1000, &["a".into(), "b".into()]).unwrap();
        let plan_of = |freeze: &str, frozen: &[&str]| {
            let config = TrainConfig {
                freeze: freeze.into(),
                frozen_modules: frozen.iter().map(|s| s.to_string()).collect(),
                ..TrainConfig::default()
            };
            FreezePlan::from_config(&config).unwrap()
        };
        let all = plan_of("none", &[]).counts(&cfg, Task::SequenceClassification);
        assert_eq!(all.total, all.trainable);
        // embeddings: 1000·64 + 128·64 + 2·64 + 2·64 (LayerNorm)
        let emb = 1000 * 64 + 128 * 64 + 2 * 64 + 2 * 64;
        assert_eq!(all.modules[0].total, emb);
        let no_emb = plan_of("embeddings", &[]).counts(&cfg, Task::SequenceClassification);
        assert_eq!(no_emb.trainable, all.total - emb);
        // head: 64·2 + 2; pooler: 64·64 + 64
        let head = plan_of("classifier", &[]).counts(&cfg, Task::SequenceClassification);
        assert_eq!(head.trainable, 64 * 2 + 2);
        let toggled = plan_of("top:1", &["pooler"]).counts(&cfg, Task::SequenceClassification);
        let layer = toggled.modules.iter().find(|m| m.name == "encoder.layer.1").unwrap().total;
        assert_eq!(toggled.trainable, layer + 64 * 2 + 2);
        assert!(FreezePlan::from_config(&TrainConfig {
            frozen_modules: vec!["layer.x".into()],
            ..TrainConfig::default()
        })
        .is_err());
        let m_all = estimate_memory(&cfg, Task::SequenceClassification, &plan_of("none", &[]), 16, 32, 4);
        let m_head = estimate_memory(&cfg, Task::SequenceClassification, &plan_of("classifier", &[]), 16, 32, 4);
        assert_eq!(m_all.optimizer_bytes, all.total as u64 * 8);
        assert!(m_head.activations_bytes < m_all.activations_bytes && m_head.total_bytes < m_all.total_bytes);
    }
}
