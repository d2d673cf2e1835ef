//! A run as the Train page follows it: the trainer's (or a replay's) events folded into steps,
//! evaluations, checkpoints, embedding snapshots, log lines and a status.

use std::path::PathBuf;

use crossbeam_channel::{Receiver, Sender};

use crate::core::train::{best_checkpoint_step, EvalReport, StepMetrics, TrainConfig, TrainTask, TrainerCommand, TrainerEvent, TrainerHandle};

#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    Running,
    Paused,
    Finished,
    Stopped(String),
    Failed(String),
}

/// A run in progress (or just ended) and everything it reported.
pub struct LiveRun {
    commands: Sender<TrainerCommand>,
    events: Receiver<TrainerEvent>,
    /// Keeps the trainer thread's handle for as long as the run is shown.
    _handle: TrainerHandle,
    pub run_dir: Option<PathBuf>,
    pub total_steps: u64,
    pub steps_per_epoch: u64,
    pub trainable_params: usize,
    pub total_params: usize,
    pub label_names: Vec<String>,
    /// Masked LM: the unigram baseline in loss units (drawn on the loss chart).
    pub unigram_loss: Option<f64>,
    pub steps: Vec<StepMetrics>,
    pub evals: Vec<EvalReport>,
    /// `(step, kind, folder)` of each checkpoint saved, in order (as a run's record lists them).
    pub checkpoints: Vec<(u64, String, PathBuf)>,
    /// The validation rows on the run's fixed 2D basis, one snapshot per evaluation (classifiers).
    pub snapshots: Vec<std::sync::Arc<crate::core::train::snapshot::EmbeddingSnapshot>>,
    pub log: Vec<String>,
    pub status: RunStatus,
    pub test: Option<EvalReport>,
    /// What the run trains (the Fill-Mask page offers a masked-LM run's checkpoints).
    pub task: TrainTask,
    /// The settings the run started with.
    pub config: TrainConfig,
    /// The texts of the evaluated rows (for the confusion matrix's examples).
    pub texts: crate::core::train::RunTexts,
    /// A recorded run played back, at this many times its pace.
    pub replay: Option<f64>,
}

impl LiveRun {
    pub(super) fn new(handle: TrainerHandle, config: TrainConfig) -> Self {
        let task = config.task;
        Self {
            commands: handle.commands.clone(),
            events: handle.events.clone(),
            _handle: handle,
            run_dir: None,
            total_steps: 0,
            steps_per_epoch: 0,
            trainable_params: 0,
            total_params: 0,
            label_names: Vec::new(),
            steps: Vec::new(),
            evals: Vec::new(),
            checkpoints: Vec::new(),
            snapshots: Vec::new(),
            log: Vec::new(),
            status: RunStatus::Running,
            test: None,
            task,
            config,
            texts: crate::core::train::RunTexts::default(),
            unigram_loss: None,
            replay: None,
        }
    }

    pub(super) fn send(&self, command: TrainerCommand) {
        let _ = self.commands.send(command);
    }

    /// Asks the trainer to stop: it saves its `last` checkpoint and ends.
    pub fn stop(&self) {
        self.send(TrainerCommand::Stop);
    }

    /// Takes the trainer's events (never blocks).
    pub(super) fn poll(&mut self) {
        for event in self.events.try_iter().collect::<Vec<_>>() {
            match event {
                TrainerEvent::Started { run_dir, total_steps, steps_per_epoch, total_params, trainable_params, label_names, texts, unigram_loss, .. } => {
                    self.texts = texts;
                    self.unigram_loss = unigram_loss;
                    self.run_dir = Some(run_dir);
                    (self.total_steps, self.steps_per_epoch) = (total_steps, steps_per_epoch);
                    (self.total_params, self.trainable_params) = (total_params, trainable_params);
                    self.label_names = label_names;
                }
                TrainerEvent::Step(m) => self.steps.push(m),
                TrainerEvent::Evaluation(e) => self.evals.push(e),
                TrainerEvent::Embeddings(s) => self.snapshots.push(std::sync::Arc::new(s)),
                TrainerEvent::CheckpointSaved { step, path, kind } => self.checkpoints.push((step, kind, path)),
                TrainerEvent::Log(line) => self.log.push(line),
                TrainerEvent::Paused { .. } => self.status = RunStatus::Paused,
                TrainerEvent::Resumed { .. } => self.status = RunStatus::Running,
                TrainerEvent::Finished { test, .. } => {
                    self.test = test;
                    self.status = RunStatus::Finished;
                }
                TrainerEvent::Stopped { reason, .. } => self.status = RunStatus::Stopped(reason),
                TrainerEvent::Failed { error } => self.status = RunStatus::Failed(error),
            }
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(self.status, RunStatus::Running | RunStatus::Paused)
    }

    /// The latest checkpoint of a masked-LM run (for the Fill-Mask page).
    pub fn masked_lm_checkpoint(&self) -> Option<(u64, PathBuf)> {
        let (step, _, dir) = self.checkpoints.last().filter(|_| self.task == TrainTask::MaskedLm)?;
        Some((*step, dir.clone()))
    }

    /// Step of the best checkpoint so far.
    pub fn best_step(&self) -> Option<u64> {
        best_checkpoint_step(&self.checkpoints)
    }

    /// Seconds left, from the throughput after warm-up (the first 10% of steps, at least 3, are ignored).
    pub fn eta_secs(&self) -> Option<f64> {
        let last = self.steps.last()?;
        let skip = (self.steps.len() / 10).max(3);
        let first = self.steps.get(skip)?;
        let rate = (last.step - first.step) as f64 / (last.elapsed_secs - first.elapsed_secs).max(1e-9);
        (rate > 0.0).then(|| self.total_steps.saturating_sub(last.step) as f64 / rate)
    }
}

impl LiveRun {
    pub fn samples_per_sec(&self) -> Option<f64> {
        self.steps.last().map(|m| m.samples_per_sec)
    }

    /// This run's throughput, as an estimate for a run of `config`: only when that run would train the
    /// same model the same way (model, task, length, batch, what is frozen, device). A tiny model's speed
    /// says nothing about MiniLM's.
    pub fn samples_per_sec_for(&self, config: &TrainConfig) -> Option<f64> {
        let a = &self.config;
        let same = a.model.trim() == config.model.trim()
            && a.task == config.task
            && a.max_length == config.max_length
            && a.batch_size == config.batch_size
            && a.freeze == config.freeze
            && a.frozen_modules == config.frozen_modules
            && a.device == config.device;
        same.then(|| self.samples_per_sec()).flatten()
    }
}

