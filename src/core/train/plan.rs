//! What a run will be, before launch: exact parameter counts per module under the freeze settings, the
//! training-memory estimate, steps per epoch and in all, the effective batch, and the learning-rate curve.
//! The slow part — loading the dataset (to count rows and labels) and resolving the model config (no
//! weights, but possibly a Hub request) — is [`plan_inputs`], keyed by [`PlanKey`] so a caller computes
//! it once per model and data; everything else ([`plan_from`]) takes microseconds and follows every
//! edit of the settings.

use serde::Serialize;

use crate::core::data::SplitName;
use crate::core::model::{ModelConfig, ModuleCount, Task};

use super::trainable::{estimate_memory, FreezePlan, MemoryEstimate};
use super::schedule::{LrSchedule, StepPlan};
use super::setup::{load_data, model_config_for};
use super::{TrainConfig, TrainResult};

/// The most points of the learning-rate curve handed to a chart.
const CURVE_POINTS: u64 = 400;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunPlan {
    pub modules: Vec<ModuleCount>,
    pub total_params: usize,
    pub trainable_params: usize,
    pub memory: MemoryEstimate,
    pub train_rows: usize,
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
    pub data: String,
    pub task: super::TrainTask,
    pub validation_fraction: f64,
    pub seed: u64,
    pub hub: Option<crate::core::hub::HubSettings>,
}

impl PlanKey {
    pub fn of(config: &TrainConfig) -> Self {
        Self {
            model: config.model.trim().to_string(),
            data: config.data.trim().to_string(),
            task: config.task,
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
}

/// Loads the dataset and resolves the model config of a run (no weights are read).
pub fn plan_inputs(config: &TrainConfig) -> TrainResult<PlanInputs> {
    let data = load_data(config)?;
    let (model, task) = model_config_for(config, &data.label_names)?;
    let train_rows = data.split(SplitName::Train).map_or(0, |s| s.len());
    Ok(PlanInputs { train_rows, label_names: data.label_names, model, task })
}

pub fn plan_run(config: &TrainConfig) -> TrainResult<RunPlan> {
    plan_from(&plan_inputs(config)?, config)
}

/// The plan of `config` from its inputs: counts, memory, steps and the learning-rate curve.
pub fn plan_from(inputs: &PlanInputs, config: &TrainConfig) -> TrainResult<RunPlan> {
    let (model, task, train_rows) = (&inputs.model, inputs.task, inputs.train_rows);
    let freeze = FreezePlan::from_config(config)?;
    let counts = freeze.counts(model, task);
    let memory = estimate_memory(model, task, &freeze, config.batch_size, config.max_length, 4);
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
}
