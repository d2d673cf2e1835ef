//! What a run will be, before launch: exact parameter counts per module under the freeze settings, the
//! training-memory estimate, steps per epoch and in all, the effective batch, and the learning-rate curve.
//! The slow part — loading the dataset (to count rows and labels), resolving the model config (no
//! weights, but possibly a Hub request) and, for a masked LM on text in chunks, tokenising the train
//! split (its blocks are what an epoch runs over) — is [`plan_inputs`], keyed by [`PlanKey`] so a caller
//! computes it once per model, tokenizer and data; everything else ([`plan_from`]) takes microseconds
//! and follows every edit of the settings.

use serde::Serialize;

use crate::core::data::SplitName;
use crate::core::model::{ModelConfig, ModuleCount, Task};

use super::trainable::{estimate_memory, FreezePlan, MemoryEstimate};
use super::schedule::{LrSchedule, StepPlan};
use super::setup::{load_data, model_config_for, run_text_tokenizer};
use super::{TrainConfig, TrainResult};

/// The most points of the learning-rate curve handed to a chart.
const CURVE_POINTS: u64 = 400;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunPlan {
    pub modules: Vec<ModuleCount>,
    pub total_params: usize,
    pub trainable_params: usize,
    pub memory: MemoryEstimate,
    /// The examples an epoch runs over: the train split's rows, or its blocks when the text is chunked.
    pub train_rows: usize,
    /// Masked LM on text in chunks: the train split's rows of text (`train_rows` counts its blocks).
    pub text_rows: Option<usize>,
    /// Tokens per example the memory estimate assumes: the chunk size, else the maximum length.
    pub seq_len: usize,
    pub num_labels: usize,
    pub steps_per_epoch: u64,
    pub total_steps: u64,
    pub effective_batch: usize,
    /// `(step, learning rate)`, at most [`CURVE_POINTS`] points spread over the run (and the last step).
    pub lr_curve: Vec<(u64, f64)>,
}

/// What the slow part of a plan depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanKey {
    pub model: String,
    /// The run's own tokenizer folder (it sizes a from-scratch model's vocabulary and cuts its text).
    pub tokenizer: String,
    pub data: String,
    pub task: super::TrainTask,
    /// Masked LM on text in chunks: the train split's tokens are counted.
    pub chunked: bool,
    pub validation_fraction: f64,
    pub seed: u64,
    pub hub: Option<crate::core::hub::HubSettings>,
}

impl PlanKey {
    pub fn of(config: &TrainConfig) -> Self {
        Self {
            model: config.model.trim().to_string(),
            tokenizer: config.tokenizer.trim().to_string(),
            data: config.data.trim().to_string(),
            task: config.task,
            chunked: config.text_chunk_size().is_some(),
            validation_fraction: config.validation_fraction,
            seed: config.seed,
            hub: config.hub.clone(),
        }
    }
}

/// The slow part of a plan: the train split's size, the labels and the model config.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanInputs {
    pub train_rows: usize,
    pub label_names: Vec<String>,
    pub model: ModelConfig,
    pub task: Task,
    /// Masked LM on text in chunks: the train split's token count (no special tokens) and the special
    /// tokens that frame each block ([CLS] and [SEP]: 2).
    pub train_stream: Option<TokenStream>,
}

/// A split's text as one stream of tokens, and the frame of special tokens around each block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenStream {
    pub tokens: usize,
    pub frame: usize,
}

impl TokenStream {
    /// The whole blocks of `chunk_size` tokens (frame included) the stream fills (see [`super::chunk`]).
    pub fn blocks(&self, chunk_size: usize) -> usize {
        chunk_size.checked_sub(self.frame).filter(|&c| c > 0).map_or(0, |content| self.tokens / content)
    }
}


/// Loads the dataset and resolves the model config of a run (no weights are read).
pub fn plan_inputs(config: &TrainConfig) -> TrainResult<PlanInputs> {
    let data = load_data(config)?;
    let (model, task) = model_config_for(config, &data.label_names)?;
    let train = data.split(SplitName::Train);
    let train_rows = train.map_or(0, |s| s.len());
    let train_stream = match train.filter(|_| config.text_chunk_size().is_some()) {
        Some(split) => {
            let tokenizer = run_text_tokenizer(config)?;
            let (prefix, suffix) = tokenizer.special_frame()?;
            let tokens = tokenizer.encode_plain_batch(&split.texts)?.iter().map(Vec::len).sum();
            Some(TokenStream { tokens, frame: prefix.len() + suffix.len() })
        }
        None => None,
    };
    Ok(PlanInputs { train_rows, label_names: data.label_names, model, task, train_stream })
}

pub fn plan_run(config: &TrainConfig) -> TrainResult<RunPlan> {
    plan_from(&plan_inputs(config)?, config)
}

/// The plan of `config` from its inputs: counts, memory, steps and the learning-rate curve.
pub fn plan_from(inputs: &PlanInputs, config: &TrainConfig) -> TrainResult<RunPlan> {
    let (model, task, train_rows) = (&inputs.model, inputs.task, inputs.train_rows);
    let freeze = FreezePlan::from_config(config)?;
    let counts = freeze.counts(model, task);
    let chunk = config.text_chunk_size().zip(inputs.train_stream);
    let (train_rows, text_rows, seq_len) = match chunk {
        Some((size, stream)) => (stream.blocks(size), Some(train_rows), size),
        None => (train_rows, None, config.max_length),
    };
    let memory = estimate_memory(model, task, &freeze, config.batch_size, seq_len, 4);
    let steps = StepPlan::new(train_rows, config);
    let schedule = LrSchedule::for_config(config, steps.total_steps);
    let stride = steps.total_steps.div_ceil(CURVE_POINTS).max(1);
    let mut lr_curve: Vec<(u64, f64)> = (0..steps.total_steps).step_by(stride as usize).map(|s| (s, schedule.lr_at(s))).collect();
    if let Some(last) = steps.total_steps.checked_sub(1).filter(|l| lr_curve.last().is_none_or(|(s, _)| s != l)) {
        lr_curve.push((last, schedule.lr_at(last)));
    }
    Ok(RunPlan {
        modules: counts.modules,
        total_params: counts.total,
        trainable_params: counts.trainable,
        memory,
        train_rows,
        text_rows,
        seq_len,
        num_labels: inputs.label_names.len(),
        steps_per_epoch: steps.steps_per_epoch,
        total_steps: steps.total_steps,
        effective_batch: steps.effective_batch,
        lr_curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_kit_plan() {
        let config = TrainConfig { runs_dir: std::env::temp_dir(), ..TrainConfig::default() };
        let plan = plan_run(&config).unwrap();
        // 2,100 headlines (350 per label), 10% of each label held out for validation: 1,890 train rows,
        // 16 per batch → 119 steps per epoch, 3 epochs.
        assert_eq!(plan.train_rows, 1890);
        assert_eq!(plan.num_labels, 6);
        assert_eq!(plan.steps_per_epoch, 119);
        assert_eq!(plan.total_steps, 357);
        assert_eq!(plan.trainable_params, plan.total_params);
        assert_eq!(plan.modules.iter().map(|m| m.total).sum::<usize>(), plan.total_params);
        // Linear warm-up over the first 10%, then linear decay to 0.
        assert_eq!(plan.lr_curve.first(), Some(&(0, 0.0)));
        let peak = plan.lr_curve.iter().map(|&(_, lr)| lr).fold(0.0, f64::max);
        assert!((peak - config.learning_rate).abs() < 1e-12, "{peak}");

        let head_only = plan_run(&TrainConfig { freeze: "classifier".into(), ..config }).unwrap();
        assert_eq!(head_only.total_params, plan.total_params);
        assert!(head_only.trainable_params < plan.total_params / 10);
        assert!(head_only.memory.optimizer_bytes < plan.memory.optimizer_bytes);
    }

    /// A masked LM on text in chunks runs an epoch over the split's blocks, not its rows of text: the
    /// plan counts the blocks the trainer cuts, and its memory estimate assumes blocks of the chunk size.
    #[test]
    fn a_chunked_masked_lm_plan_counts_the_blocks_the_trainer_cuts() {
        let config = TrainConfig {
            model: super::super::BUILTIN_TINY.into(),
            task: super::super::TrainTask::MaskedLm,
            chunk_size: Some(32),
            max_length: 128,
            batch_size: 16,
            epochs: 2,
            runs_dir: std::env::temp_dir(),
            ..TrainConfig::default()
        };
        let plan = plan_run(&config).unwrap();
        let dataset = load_data(&config).unwrap();
        let tokenizer = run_text_tokenizer(&config).unwrap();
        let (model, _) = model_config_for(&config, &[]).unwrap();
        let blocks = super::super::setup::encode_dataset(&config, &dataset, &tokenizer, &model).unwrap().train.len();
        let text_rows = dataset.split(SplitName::Train).unwrap().len();
        assert_eq!((plan.train_rows, plan.text_rows, plan.seq_len), (blocks, Some(text_rows), 32));
        assert_ne!(blocks, text_rows);
        assert_eq!(plan.steps_per_epoch, blocks.div_ceil(16) as u64);
        assert_eq!(plan.total_steps, 2 * plan.steps_per_epoch);
        // Blocks of 32 tokens take a quarter of the activations of rows of 128.
        let rows = plan_run(&TrainConfig { chunk_size: None, ..config.clone() }).unwrap();
        assert_eq!((rows.train_rows, rows.text_rows, rows.seq_len), (text_rows, None, 128));
        assert!(plan.memory.activations_bytes * 3 < rows.memory.activations_bytes);
        // The tokenizer is part of what the slow part depends on (it sizes the vocabulary and the blocks).
        let other = TrainConfig { tokenizer: "/some/tokenizer".into(), ..config.clone() };
        assert_ne!(PlanKey::of(&config), PlanKey::of(&other));
        assert_ne!(PlanKey::of(&config), PlanKey::of(&TrainConfig { chunk_size: None, ..config }));
    }
}
