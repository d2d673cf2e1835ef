//! The trainer: fine-tune a classifier (or pre-train a masked LM) on a named background thread.
//! The UI sends [`TrainerCommand`]s and receives [`TrainerEvent`]s over crossbeam channels, woken by a
//! repaint callback; step events are throttled, terminal events are never dropped.
//!
//! This file is the contract between the trainer and its front ends (GUI, CLI); see `run.rs` for the
//! run folder layout.

pub mod batch;
pub mod checkpoint;
pub mod chunk;
pub mod error;
pub mod trainable;
pub mod handle;
pub mod metrics;
pub mod mlm;
pub mod plan;
pub mod progress;
pub mod replay;
pub mod run;
pub mod schedule;
pub mod scratch;
pub mod setup;
pub mod snapshot;
pub mod step;
pub mod trainer;
pub mod bench;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::hub::HubSettings;

pub use error::{TrainError, TrainResult};
pub use trainable::{estimate_memory, FreezePlan, MemoryEstimate};
pub use handle::{spawn_trainer, TrainerHandle};
pub use plan::{plan_from, plan_inputs, plan_run, PlanInputs, PlanKey, RunPlan};
pub use run::{best_checkpoint_step, diff_configs, list_runs, load_run, ConfigDiff, RunRecord, RunSummary};
pub use schedule::{LrSchedule, StepPlan};
pub use setup::{demo_kit_config, recipe_for, switch_model, Recipe, BUILTIN_TINY, DEMO_ENCODER, FINE_TUNE, FROM_SCRATCH};
pub use trainer::run_training;

/// What to train.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainTask {
    /// Sequence classification (fine-tune a pretrained encoder, or train one from a config).
    #[default]
    Classify,
    /// Masked-language-model pre-training (from scratch or continued).
    MaskedLm,
}

/// Learning-rate schedule after warm-up, as transformers' `get_scheduler`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    #[default]
    Linear,
    Cosine,
    Constant,
}

/// Warm-up length.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warmup {
    Ratio(f64),
    Steps(u64),
}

/// When to evaluate on the validation split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalEvery {
    Steps(u64),
    Epoch,
}

/// The metric that picks the best checkpoint and drives early stopping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BestMetric {
    #[default]
    MacroF1,
    Accuracy,
    Loss,
}

/// Every setting of a run. Serialised as the run's `config.json` (and read from `run.toml` by the CLI).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// A model spec (folder, config.json, Hub id, or `builtin:tiny` for a tiny from-scratch BERT on the demo vocabulary).
    pub model: String,
    /// A dataset spec (file, folder, Hub id, or `builtin:headlines`).
    pub data: String,
    pub task: TrainTask,
    /// `classifier`, `top:K`, `embeddings` (all but the embeddings train) or `none`.
    pub freeze: String,
    /// Extra modules frozen by hand on top of `freeze`: `embeddings`, `layer.N`, `pooler`, `head`.
    pub frozen_modules: Vec<String>,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: u32,
    /// Stops after this many optimizer steps when set (overrides epochs).
    pub max_steps: Option<u64>,
    pub max_length: usize,
    pub warmup: Warmup,
    pub schedule: Schedule,
    /// Not applied to biases and LayerNorm weights, as transformers does.
    pub weight_decay: f64,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_eps: f64,
    /// Clip the global gradient norm to this value (`None`: no clipping).
    pub max_grad_norm: Option<f64>,
    pub gradient_accumulation: u32,
    /// Batches of rows of similar length (less padding; transformers' `group_by_length`).
    pub group_by_length: bool,
    /// Overrides the config's hidden and attention dropout when set.
    pub dropout: Option<f64>,
    /// Masked LM: tokenize the whole split, concatenate, and cut into blocks of this many tokens (special
    /// tokens included; the remainder dropped, as the Hugging Face course's `group_texts`). `None`: one
    /// row per example, truncated to `max_length`.
    pub chunk_size: Option<usize>,
    /// A tokenizer folder (e.g. from `train-tokenizer`) for a model built from scratch (`preset:LxH`,
    /// `builtin:tiny`, a bare config.json): its vocabulary sizes the model. Empty: the model's own
    /// (the demo vocabulary for the built-ins).
    pub tokenizer: String,
    /// Masked LM: mask whole words (all the `##` pieces of a picked word together) instead of tokens.
    pub whole_word_masking: bool,
    /// Masked LM built from scratch: start the output bias at the log of each token's frequency in the
    /// training split, so the first guesses are the unigram baseline's instead of uniform ones (on by
    /// default; a pretrained model's learnt bias and other tasks are left alone).
    pub unigram_output_bias: bool,
    pub seed: u64,
    pub eval_every: EvalEvery,
    /// Stop after this many evaluations without improvement of `best_metric`.
    pub early_stopping_patience: Option<u32>,
    pub best_metric: BestMetric,
    /// Also keep a checkpoint every N steps.
    pub save_every: Option<u64>,
    /// Share of train held out as validation when the data has none.
    pub validation_fraction: f64,
    /// The compute device: `auto` (a GPU where the build and the machine have one, else the CPU), `cpu`,
    /// `cuda` or `cuda:N`.
    pub device: String,
    /// Masked-LM: share of tokens masked.
    pub mlm_probability: f64,
    /// Classifier runs: validation rows whose [CLS] vectors are projected at each evaluation (0: none).
    pub snapshot_rows: usize,
    /// Where runs are written: each run is a folder in here.
    pub runs_dir: PathBuf,
    /// The run's name (its folder); empty: a timestamped name.
    pub run_name: String,
    /// How Hub repo ids (model and dataset) are resolved: the app passes its own settings (endpoint,
    /// cache, offline switch). Not saved with the run; `None` reads the environment, as huggingface_hub does.
    #[serde(skip)]
    pub hub: Option<HubSettings>,
}

impl TrainConfig {
    /// The chunk size a run cuts its text into: a masked LM's `chunk_size`; `None` for a classifier
    /// (whose rows are truncated at `max_length`, whatever `chunk_size` says).
    pub fn text_chunk_size(&self) -> Option<usize> {
        self.chunk_size.filter(|_| self.task == TrainTask::MaskedLm)
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: "builtin:tiny".into(),
            data: "builtin:headlines".into(),
            task: TrainTask::Classify,
            freeze: "none".into(),
            frozen_modules: Vec::new(),
            learning_rate: 5e-5,
            batch_size: 16,
            epochs: 3,
            max_steps: None,
            max_length: 128,
            warmup: Warmup::Ratio(0.1),
            schedule: Schedule::Linear,
            weight_decay: 0.01,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_eps: 1e-8,
            max_grad_norm: Some(1.0),
            gradient_accumulation: 1,
            dropout: None,
            chunk_size: None,
            tokenizer: String::new(),
            whole_word_masking: false,
            unigram_output_bias: true,
            seed: 42,
            eval_every: EvalEvery::Epoch,
            early_stopping_patience: None,
            best_metric: BestMetric::MacroF1,
            save_every: None,
            validation_fraction: 0.1,
            device: "auto".into(),
            group_by_length: false,
            mlm_probability: 0.15,
            snapshot_rows: snapshot::DEFAULT_SNAPSHOT_ROWS,
            runs_dir: default_runs_dir(),
            run_name: String::new(),
            hub: None,
        }
    }
}

/// `$XDG_DATA_HOME/lm-workbench/runs`, else `~/.local/share/lm-workbench/runs`.
pub fn default_runs_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("lm-workbench").join("runs")
}

/// UI → trainer.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainerCommand {
    Pause,
    Resume,
    /// Stop after the current step, saving a `last` checkpoint so the run can be resumed.
    Stop,
    /// Save a checkpoint now.
    SaveNow,
    SetLearningRate(f64),
}

/// One optimizer step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    pub step: u64,
    /// Fractional epoch (1.5 = half-way through the second epoch).
    pub epoch: f64,
    pub loss: f64,
    pub learning_rate: f64,
    pub grad_norm: f64,
    pub samples_per_sec: f64,
    pub tokens_per_sec: f64,
    /// Seconds since the run started (pauses excluded).
    pub elapsed_secs: f64,
}

/// Scores of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// One validation (or test) example as the model saw it, for the confusion-matrix drill-down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Row in the split.
    pub index: usize,
    pub label: u32,
    pub predicted: u32,
    pub probabilities: Vec<f32>,
}

/// An evaluation on a split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub step: u64,
    pub epoch: f64,
    /// "validation" or "test".
    pub split: String,
    pub loss: f64,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassScores>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Per-example predictions (classification; at most the first 5,000 rows).
    pub predictions: Vec<Prediction>,
}

impl EvalReport {
    /// `exp(loss)`: for a masked LM, the perplexity over the masked tokens.
    pub fn perplexity(&self) -> f64 {
        self.loss.exp()
    }

    /// The report's scores in words, as the task measures them: a classifier by accuracy, macro-F1 and
    /// loss; a masked LM by perplexity, masked-token accuracy and loss (it has no classes, so no F1).
    pub fn scores(&self, task: TrainTask) -> String {
        match task {
            TrainTask::Classify => {
                format!("accuracy {:.4} · macro-F1 {:.4} · loss {:.4}", self.accuracy, self.macro_f1, self.loss)
            }
            TrainTask::MaskedLm => format!(
                "perplexity {:.1} · masked-token accuracy {:.4} · loss {:.4}",
                self.perplexity(),
                self.accuracy,
                self.loss
            ),
        }
    }

    /// The same in a few characters (a progress line): `acc 0.912 f1 0.905` or `ppl 612.3 acc 0.081`.
    pub fn short_scores(&self, task: TrainTask) -> String {
        match task {
            TrainTask::Classify => format!("acc {:.3} f1 {:.3}", self.accuracy, self.macro_f1),
            TrainTask::MaskedLm => format!("ppl {:.1} acc {:.3}", self.perplexity(), self.accuracy),
        }
    }
}

impl BestMetric {
    /// A best value in words: `macro-F1 0.986`; the loss of a masked LM as its perplexity.
    pub fn describe(self, task: TrainTask, value: f64) -> String {
        match (self, task) {
            (BestMetric::Loss, TrainTask::MaskedLm) => format!("perplexity {:.1}", value.exp()),
            (BestMetric::Loss, TrainTask::Classify) => format!("loss {value:.4}"),
            (BestMetric::Accuracy, _) => format!("accuracy {value:.3}"),
            (BestMetric::MacroF1, _) => format!("macro-F1 {value:.3}"),
        }
    }
}

/// Trainer → UI.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainerEvent {
    Started {
        run_dir: PathBuf,
        total_steps: u64,
        steps_per_epoch: u64,
        total_params: usize,
        trainable_params: usize,
        label_names: Vec<String>,
        /// The step the run (re)starts from (0 for a new run).
        start_step: u64,
        /// The texts of the evaluated splits, so that evaluations' predictions (which name rows by
        /// index) can be shown with their text.
        texts: RunTexts,
        /// Masked LM with a validation split: the unigram baseline in loss units (see
        /// [`mlm::unigram_baseline`]); the model has learnt something once its loss is below it.
        unigram_loss: Option<f64>,
    },
    Step(StepMetrics),
    Evaluation(EvalReport),
    /// After a classifier's evaluation: validation rows on the run's fixed 2D basis.
    Embeddings(snapshot::EmbeddingSnapshot),
    CheckpointSaved { step: u64, path: PathBuf, kind: String },
    Log(String),
    Paused { step: u64 },
    Resumed { step: u64 },
    /// Terminal: the run completed (test-split report included when the data has one).
    Finished { step: u64, test: Option<EvalReport> },
    /// Terminal: stopped by the user (or early stopping); resumable from `last`.
    Stopped { step: u64, reason: String },
    /// Terminal: the error names what went wrong (e.g. the step of a non-finite loss).
    Failed { error: String },
}

/// The texts of a run's validation and test rows, in split order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunTexts {
    pub validation: std::sync::Arc<Vec<String>>,
    pub test: std::sync::Arc<Vec<String>>,
}

impl RunTexts {
    /// The texts of the split an evaluation names ("validation" or "test").
    pub fn of(&self, split: &str) -> &[String] {
        if split == "test" { &self.test } else { &self.validation }
    }
}

impl TrainerEvent {
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Finished { .. } | Self::Stopped { .. } | Self::Failed { .. })
    }
}
