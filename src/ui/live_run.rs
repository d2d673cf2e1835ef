//! A run as the Train page follows it: the trainer's (or a replay's) channels, with its events folded
//! by the core's reducer ([`RunProgress`]) into steps, evaluations, checkpoints, snapshots and a status.

use std::path::PathBuf;

use crossbeam_channel::{Receiver, Sender};

use crate::core::train::progress::RunProgress;
use crate::core::train::{TrainConfig, TrainTask, TrainerCommand, TrainerEvent, TrainerHandle};

pub use crate::core::train::progress::RunStatus;

/// A run in progress (or just ended): the trainer's (or a replay's) channels and the core's reducer of
/// its events ([`RunProgress`], whose fields read through this type).
pub struct LiveRun {
    commands: Sender<TrainerCommand>,
    events: Receiver<TrainerEvent>,
    /// Keeps the trainer thread's handle for as long as the run is shown.
    _handle: TrainerHandle,
    /// Everything the run reported.
    pub progress: RunProgress,
    /// What the run trains (the Fill-Mask page offers a masked-LM run's checkpoints).
    pub task: TrainTask,
    /// The settings the run started with.
    pub config: TrainConfig,
    /// A recorded run played back, at this many times its pace.
    pub replay: Option<f64>,
}

impl std::ops::Deref for LiveRun {
    type Target = RunProgress;

    fn deref(&self) -> &RunProgress {
        &self.progress
    }
}

impl LiveRun {
    pub(super) fn new(handle: TrainerHandle, config: TrainConfig) -> Self {
        Self {
            commands: handle.commands.clone(),
            events: handle.events.clone(),
            _handle: handle,
            progress: RunProgress::default(),
            task: config.task,
            config,
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
            self.progress.apply(event);
        }
    }

    pub fn is_active(&self) -> bool {
        self.progress.is_active()
    }

    /// The latest checkpoint of a masked-LM run (for the Fill-Mask page).
    pub fn masked_lm_checkpoint(&self) -> Option<(u64, PathBuf)> {
        let (step, _, dir) = self.checkpoints.last().filter(|_| self.task == TrainTask::MaskedLm)?;
        Some((*step, dir.clone()))
    }
}

impl LiveRun {
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

