//! Learning-rate schedules with warm-up, as transformers' `get_scheduler` (`get_linear_schedule_with_warmup`,
//! `get_cosine_schedule_with_warmup` with `num_cycles = 0.5`, `get_constant_schedule_with_warmup`), and the
//! step counts of a run.
//!
//! `lr_at(s)` is the learning rate of the update with 0-based index `s` (transformers' `lr_lambda(s) · lr`:
//! the scheduler is stepped after each optimizer step, so the first update uses `lr_lambda(0)`, which is 0
//! when there is a warm-up):
//!
//! ```text
//! warm-up (s < w):  lr · s / max(1, w)
//! linear:           lr · max(0, (T − s) / max(1, T − w))
//! cosine:           lr · max(0, ½ · (1 + cos(π · (s − w) / max(1, T − w))))
//! constant:         lr
//! ```
//!
//! with `T` the total number of updates and `w` the warm-up steps (`Warmup::Steps(n)` = n,
//! `Warmup::Ratio(r)` = ⌈r · T⌉ as transformers' `get_warmup_steps`).

use serde::{Deserialize, Serialize};

use super::{Schedule, TrainConfig, Warmup};

/// The schedule of one run, ready to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    pub base_lr: f64,
    pub schedule: Schedule,
    pub warmup_steps: u64,
    pub total_steps: u64,
}

impl LrSchedule {
    pub fn new(base_lr: f64, schedule: Schedule, warmup: Warmup, total_steps: u64) -> Self {
        Self { base_lr, schedule, warmup_steps: warmup_steps(warmup, total_steps), total_steps }
    }

    pub fn for_config(config: &TrainConfig, total_steps: u64) -> Self {
        Self::new(config.learning_rate, config.schedule, config.warmup, total_steps)
    }

    /// The multiplier of the base rate for the update with 0-based index `step`.
    pub fn factor(&self, step: u64) -> f64 {
        let (s, w, t) = (step as f64, self.warmup_steps as f64, self.total_steps as f64);
        if step < self.warmup_steps {
            return s / w.max(1.0);
        }
        match self.schedule {
            Schedule::Constant => 1.0,
            Schedule::Linear => ((t - s) / (t - w).max(1.0)).max(0.0),
            Schedule::Cosine => {
                let progress = (s - w) / (t - w).max(1.0);
                (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0)
            }
        }
    }

    /// The learning rate of the update with 0-based index `step`.
    pub fn lr_at(&self, step: u64) -> f64 {
        self.base_lr * self.factor(step)
    }

    /// The rate of every update, `0..total_steps` (for the GUI's preview).
    pub fn curve(&self) -> Vec<f64> {
        (0..self.total_steps).map(|s| self.lr_at(s)).collect()
    }
}

/// Warm-up length in updates.
pub fn warmup_steps(warmup: Warmup, total_steps: u64) -> u64 {
    match warmup {
        Warmup::Steps(n) => n,
        Warmup::Ratio(r) => (r.max(0.0) * total_steps as f64).ceil() as u64,
    }
}

/// How many steps a run takes, known before launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPlan {
    /// Batches of `batch_size` rows per epoch (the last one may be smaller).
    pub batches_per_epoch: u64,
    /// Optimizer updates per epoch: ⌈batches / gradient_accumulation⌉ (the last update of an epoch
    /// may accumulate fewer batches).
    pub steps_per_epoch: u64,
    /// `max_steps` when set, else `epochs × steps_per_epoch`.
    pub total_steps: u64,
    /// Epochs started (the last one may be partial with `max_steps`).
    pub epochs: u64,
    /// `batch_size × gradient_accumulation`.
    pub effective_batch: usize,
}

impl StepPlan {
    pub fn new(train_rows: usize, config: &TrainConfig) -> Self {
        let batch = config.batch_size.max(1) as u64;
        let accum = u64::from(config.gradient_accumulation.max(1));
        let batches_per_epoch = (train_rows as u64).div_ceil(batch).max(1);
        let steps_per_epoch = batches_per_epoch.div_ceil(accum).max(1);
        let total_steps = config.max_steps.unwrap_or(u64::from(config.epochs) * steps_per_epoch);
        Self {
            batches_per_epoch,
            steps_per_epoch,
            total_steps,
            epochs: total_steps.div_ceil(steps_per_epoch),
            effective_batch: config.batch_size.max(1) * config.gradient_accumulation.max(1) as usize,
        }
    }

    /// The batches (index range within the epoch) of the update `step_in_epoch` (0-based).
    pub fn batches_of_step(&self, step_in_epoch: u64, accumulation: u32) -> std::ops::Range<u64> {
        let accum = u64::from(accumulation.max(1));
        let start = step_in_epoch * accum;
        start.min(self.batches_per_epoch)..(start + accum).min(self.batches_per_epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values computed by hand from transformers' lambdas (`optimization.py`).
    #[test]
    fn schedules_match_transformers_formulas() {
        let linear = LrSchedule::new(1e-3, Schedule::Linear, Warmup::Steps(10), 100);
        assert_eq!(linear.lr_at(0), 0.0);
        assert!((linear.lr_at(5) - 5e-4).abs() < 1e-15);
        assert!((linear.lr_at(10) - 1e-3).abs() < 1e-15);
        // (100 − 55) / 90 = 0.5
        assert!((linear.lr_at(55) - 5e-4).abs() < 1e-15);
        assert_eq!(linear.lr_at(100), 0.0);
        let cosine = LrSchedule::new(2.0, Schedule::Cosine, Warmup::Ratio(0.1), 100);
        assert_eq!(cosine.warmup_steps, 10);
        // progress (55 − 10) / 90 = 0.5: ½(1 + cos(π/2)) = 0.5
        assert!((cosine.lr_at(55) - 1.0).abs() < 1e-12);
        // progress (35 − 10) / 100 = 0.25: ½(1 + cos(π/4)) = 0.853553…
        let cosine2 = LrSchedule::new(2.0, Schedule::Cosine, Warmup::Steps(10), 110);
        assert!((cosine2.lr_at(35) - 2.0 * 0.853_553_390_593_273_7).abs() < 1e-12, "{}", cosine2.lr_at(35));
        assert!(cosine.lr_at(100).abs() < 1e-12);
        let constant = LrSchedule::new(3e-5, Schedule::Constant, Warmup::Steps(4), 20);
        assert!((constant.lr_at(2) - 1.5e-5).abs() < 1e-18);
        assert_eq!(constant.lr_at(4), 3e-5);
        assert_eq!(constant.lr_at(19), 3e-5);
        // ⌈0.06 · 250⌉ = 15, as get_warmup_steps.
        assert_eq!(warmup_steps(Warmup::Ratio(0.06), 250), 15);
        assert_eq!(LrSchedule::new(1.0, Schedule::Linear, Warmup::Steps(0), 4).curve(), vec![1.0, 0.75, 0.5, 0.25]);
    }

    #[test]
    fn step_plan_counts() {
        let config = TrainConfig { batch_size: 16, gradient_accumulation: 2, epochs: 3, ..TrainConfig::default() };
        let plan = StepPlan::new(324, &config);
        assert_eq!((plan.batches_per_epoch, plan.steps_per_epoch, plan.total_steps), (21, 11, 33));
        assert_eq!(plan.effective_batch, 32);
        assert_eq!(plan.batches_of_step(10, 2), 20..21);
        let capped = StepPlan::new(324, &TrainConfig { max_steps: Some(25), ..config });
        assert_eq!((capped.total_steps, capped.epochs), (25, 3));
    }
}
