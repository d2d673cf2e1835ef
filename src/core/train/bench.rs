//! The step benchmark: times whole training steps (forward with dropout, loss, backward, global-norm
//! clip, AdamW) of a model on synthetic batches, through the same step functions as the trainer. The
//! CLI's `bench-step` prints it; `scripts/bench-step.sh` runs it beside PyTorch + transformers.

use std::time::Instant;

use candle_core::Tensor;
use serde::Serialize;

use super::error::{TrainError, TrainResult};
use super::step::{apply_gradients, micro_batch_grads};
use crate::core::model::ops::{self, IGNORE_INDEX};
use crate::core::model::optim::{AdamW, AdamWConfig};
use crate::core::model::rng::SeededRng;
use crate::core::model::{ModelInput, Task, TaskModel};

#[derive(Clone, Debug)]
pub struct StepBenchConfig {
    pub batch_size: usize,
    pub seq_len: usize,
    /// Timed steps.
    pub steps: usize,
    /// Untimed steps first.
    pub warmup: usize,
    pub learning_rate: f64,
    pub seed: u64,
    /// Masked LM: the share of positions that carry a label.
    pub mlm_probability: f64,
}

impl Default for StepBenchConfig {
    fn default() -> Self {
        Self { batch_size: 16, seq_len: 128, steps: 10, warmup: 2, learning_rate: 5e-5, seed: 42, mlm_probability: 0.15 }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StepBenchReport {
    pub task: String,
    pub kernels: String,
    pub device: String,
    pub dtype: String,
    pub threads: usize,
    pub batch_size: usize,
    pub seq_len: usize,
    pub trainable_params: usize,
    pub steps: usize,
    /// Seconds of each timed step.
    pub step_secs: Vec<f64>,
    pub median_step_secs: f64,
    /// Batch size / median step time.
    pub samples_per_sec: f64,
    pub tokens_per_sec: f64,
    pub final_loss: f64,
    /// The process's peak resident memory (Linux), in bytes.
    pub peak_rss_bytes: Option<u64>,
}

/// The process's peak resident set size (VmHWM), where /proc tells it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A synthetic batch: token ids drawn uniformly from the vocabulary above the first 1000 ids (where
/// BERT vocabularies keep their special and unused tokens), every position attended; labels uniform
/// over the classes, or (masked LM) the token id at ~`mlm_probability` of the positions and −100
/// elsewhere.
fn synthetic_batch(model: &TaskModel, cfg: &StepBenchConfig, rng: &mut SeededRng) -> TrainResult<(ModelInput, Tensor)> {
    let c = model.config();
    let (b, s) = (cfg.batch_size, cfg.seq_len);
    let low = 1000.min(c.vocab_size / 2) as u64;
    let span = c.vocab_size as u64 - low;
    let ids: Vec<Vec<u32>> = (0..b).map(|_| (0..s).map(|_| (low + rng.next_u64() % span) as u32).collect()).collect();
    let types = vec![vec![0u32; s]; b];
    let mask = vec![vec![1u32; s]; b];
    let input = ModelInput::from_rows(&ids, &types, &mask, model.device())?;
    let labels = match model.task() {
        Task::SequenceClassification => {
            let n = c.num_labels().max(1) as u64;
            let l: Vec<i64> = (0..b).map(|_| (rng.next_u64() % n) as i64).collect();
            Tensor::new(l.as_slice(), model.device())?
        }
        Task::MaskedLm => {
            let l: Vec<i64> = ids
                .iter()
                .flatten()
                .map(|&id| if rng.uniform() < cfg.mlm_probability { i64::from(id) } else { IGNORE_INDEX })
                .collect();
            Tensor::from_vec(l, (b, s), model.device())?
        }
        Task::Base => return Err(TrainError::Config("the step benchmark needs a model with a head".into())),
    };
    Ok((input, labels))
}

/// Runs `warmup + steps` training steps (the trainer's forward/backward/clip/AdamW, dropout on, max
/// gradient norm 1.0, weight decay 0.01 except biases and LayerNorm weights) and times the last `steps`.
pub fn bench_steps(model: &TaskModel, cfg: &StepBenchConfig) -> TrainResult<StepBenchReport> {
    if cfg.batch_size == 0 || cfg.seq_len == 0 || cfg.steps == 0 {
        return Err(TrainError::Config("batch size, sequence length and steps must be at least 1".into()));
    }
    let adam = AdamWConfig { lr: cfg.learning_rate, weight_decay: 0.01, ..AdamWConfig::default() };
    let mut optimizer = AdamW::for_params(model.params(), false, adam)?;
    let vars = model.params().trainable_vars();
    let mut rng = SeededRng::new(cfg.seed);
    let mut step_secs = Vec::with_capacity(cfg.steps);
    let mut final_loss = f64::NAN;
    for step in 0..cfg.warmup + cfg.steps {
        let (input, labels) = synthetic_batch(model, cfg, &mut rng)?;
        let t0 = Instant::now();
        let (loss, grads) = micro_batch_grads(model, &input, &labels, cfg.seed ^ step as u64, 1.0, step as u64 + 1)?;
        apply_gradients(&mut optimizer, &grads, &vars, cfg.learning_rate, Some(1.0), step as u64 + 1)?;
        drop(grads);
        if step >= cfg.warmup {
            step_secs.push(t0.elapsed().as_secs_f64());
        }
        final_loss = loss;
    }
    let mut sorted = step_secs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let counts = model.counts();
    Ok(StepBenchReport {
        task: format!("{:?}", model.task()),
        kernels: format!("{:?}", ops::kernels()).to_lowercase(),
        device: crate::core::device::device_label(model.device()),
        dtype: format!("{:?}", model.dtype()).to_lowercase(),
        threads: candle_core::utils::get_num_threads(),
        batch_size: cfg.batch_size,
        seq_len: cfg.seq_len,
        trainable_params: counts.trainable,
        steps: cfg.steps,
        median_step_secs: median,
        samples_per_sec: cfg.batch_size as f64 / median,
        tokens_per_sec: (cfg.batch_size * cfg.seq_len) as f64 / median,
        step_secs,
        final_loss,
        peak_rss_bytes: peak_rss_bytes(),
    })
}
