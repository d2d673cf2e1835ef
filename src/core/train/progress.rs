//! The run-event reducer: a run's events (from the trainer, or a replay) folded into what a front end
//! shows — the plan it started with, steps, evaluations, checkpoints, embedding snapshots, log lines and
//! a status. The Train page and the CLI follow a run through it.

use std::path::PathBuf;
use std::sync::Arc;

use super::run::best_checkpoint_step;
use super::snapshot::EmbeddingSnapshot;
use super::{EvalReport, RunTexts, StepMetrics, TrainerEvent};

/// Where a run is.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    Running,
    Paused,
    Finished,
    Stopped(String),
    Failed(String),
}

/// Everything a run reported, in order.
#[derive(Clone, Debug)]
pub struct RunProgress {
    pub run_dir: Option<PathBuf>,
    pub total_steps: u64,
    pub steps_per_epoch: u64,
    /// The step the run (re)started from.
    pub start_step: u64,
    pub trainable_params: usize,
    pub total_params: usize,
    pub label_names: Vec<String>,
    /// Masked LM: the unigram baseline in loss units.
    pub unigram_loss: Option<f64>,
    pub steps: Vec<StepMetrics>,
    /// Every evaluation (validation and test), in order.
    pub evals: Vec<EvalReport>,
    /// `(step, kind, folder)` of each checkpoint saved, in order (as a run's record lists them).
    pub checkpoints: Vec<(u64, String, PathBuf)>,
    /// The validation rows on the run's fixed 2D basis, one snapshot per evaluation (classifiers).
    pub snapshots: Vec<Arc<EmbeddingSnapshot>>,
    pub log: Vec<String>,
    pub status: RunStatus,
    /// The test split's scores, when the run finished with one.
    pub test: Option<EvalReport>,
    /// The texts of the evaluated rows (for the confusion matrix's examples).
    pub texts: RunTexts,
}

impl Default for RunProgress {
    fn default() -> Self {
        Self {
            run_dir: None,
            total_steps: 0,
            steps_per_epoch: 0,
            start_step: 0,
            trainable_params: 0,
            total_params: 0,
            label_names: Vec::new(),
            unigram_loss: None,
            steps: Vec::new(),
            evals: Vec::new(),
            checkpoints: Vec::new(),
            snapshots: Vec::new(),
            log: Vec::new(),
            status: RunStatus::Running,
            test: None,
            texts: RunTexts::default(),
        }
    }
}

impl RunProgress {
    /// Folds one event in.
    pub fn apply(&mut self, event: TrainerEvent) {
        match event {
            TrainerEvent::Started { run_dir, total_steps, steps_per_epoch, total_params, trainable_params, label_names, start_step, texts, unigram_loss } => {
                self.run_dir = Some(run_dir);
                (self.total_steps, self.steps_per_epoch, self.start_step) = (total_steps, steps_per_epoch, start_step);
                (self.total_params, self.trainable_params) = (total_params, trainable_params);
                self.label_names = label_names;
                self.texts = texts;
                self.unigram_loss = unigram_loss;
            }
            TrainerEvent::Step(m) => self.steps.push(m),
            TrainerEvent::Evaluation(e) => self.evals.push(e),
            TrainerEvent::Embeddings(s) => self.snapshots.push(Arc::new(s)),
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

    pub fn is_active(&self) -> bool {
        matches!(self.status, RunStatus::Running | RunStatus::Paused)
    }

    /// The latest validation evaluation.
    pub fn last_validation(&self) -> Option<&EvalReport> {
        self.evals.iter().rfind(|e| e.split == "validation")
    }

    /// Step of the best checkpoint so far.
    pub fn best_step(&self) -> Option<u64> {
        best_checkpoint_step(&self.checkpoints)
    }

    /// The latest step's throughput.
    pub fn samples_per_sec(&self) -> Option<f64> {
        self.steps.last().map(|m| m.samples_per_sec)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step: u64) -> StepMetrics {
        StepMetrics {
            step,
            epoch: step as f64 / 10.0,
            loss: 1.0 / step as f64,
            learning_rate: 1e-3,
            grad_norm: 1.0,
            samples_per_sec: 100.0,
            tokens_per_sec: 3200.0,
            elapsed_secs: step as f64,
        }
    }

    fn eval(step: u64, split: &str, accuracy: f64) -> EvalReport {
        EvalReport {
            step,
            epoch: 0.0,
            split: split.into(),
            loss: 0.5,
            accuracy,
            macro_f1: accuracy,
            per_class: Vec::new(),
            confusion: Vec::new(),
            predictions: Vec::new(),
        }
    }

    #[test]
    fn events_fold_into_the_runs_progress() {
        let mut run = RunProgress::default();
        run.apply(TrainerEvent::Started {
            run_dir: "runs/x".into(),
            total_steps: 20,
            steps_per_epoch: 10,
            total_params: 100,
            trainable_params: 40,
            label_names: vec!["a".into(), "b".into()],
            start_step: 0,
            texts: RunTexts::default(),
            unigram_loss: Some(6.8),
        });
        for s in 1..=10 {
            run.apply(TrainerEvent::Step(step(s)));
        }
        run.apply(TrainerEvent::Evaluation(eval(10, "validation", 0.7)));
        run.apply(TrainerEvent::CheckpointSaved { step: 10, kind: "best".into(), path: "runs/x/checkpoints/best".into() });
        run.apply(TrainerEvent::Paused { step: 10 });
        assert_eq!(run.status, RunStatus::Paused);
        assert!(run.is_active());
        run.apply(TrainerEvent::Resumed { step: 10 });
        run.apply(TrainerEvent::Evaluation(eval(20, "test", 0.6)));
        run.apply(TrainerEvent::Finished { step: 20, test: Some(eval(20, "test", 0.6)) });
        assert_eq!((run.total_steps, run.trainable_params, run.unigram_loss), (20, 40, Some(6.8)));
        assert_eq!(run.steps.len(), 10);
        // The last validation evaluation, not the test one that came after it.
        assert_eq!(run.last_validation().map(|e| (e.step, e.accuracy)), Some((10, 0.7)));
        assert_eq!(run.best_step(), Some(10));
        assert_eq!(run.status, RunStatus::Finished);
        assert!(!run.is_active());
        assert_eq!(run.eta_secs(), Some(10.0));
    }
}
