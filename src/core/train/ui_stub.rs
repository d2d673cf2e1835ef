// TEMPORARY (not committed): signatures the UI expects, until the trainer branch lands.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use crossbeam_channel::{Receiver, Sender};
use super::*;
use crate::core::model::ModuleCount;
pub struct TrainerHandle { pub commands: Sender<TrainerCommand>, pub events: Receiver<TrainerEvent> }
pub fn spawn_trainer(_c: TrainConfig, _r: Option<PathBuf>, _w: Arc<dyn Fn() + Send + Sync>) -> Result<TrainerHandle, String> { Err("stub".into()) }
#[derive(Clone, Debug)]
pub struct MemoryEstimate { pub weights_bytes: u64, pub gradients_bytes: u64, pub optimizer_bytes: u64, pub activations_bytes: u64, pub total_bytes: u64 }
#[derive(Clone, Debug)]
pub struct RunPlan { pub modules: Vec<ModuleCount>, pub total_params: usize, pub trainable_params: usize, pub memory: MemoryEstimate, pub train_rows: usize, pub steps_per_epoch: u64, pub total_steps: u64, pub effective_batch: usize, pub lr_curve: Vec<(u64, f64)> }
pub fn plan_run(_c: &TrainConfig) -> Result<RunPlan, String> { Err("stub".into()) }
#[derive(Clone, Debug)]
pub struct RunSummary { pub dir: PathBuf }
impl RunSummary { pub fn label(&self) -> String { self.dir.display().to_string() } }
#[derive(Clone, Debug)]
pub struct RunRecord { pub config: TrainConfig, pub steps: Vec<StepMetrics>, pub evals: Vec<EvalReport>, pub best_step: Option<u64> }
pub fn list_runs(_d: &Path) -> Vec<RunSummary> { Vec::new() }
pub fn load_run(_d: &Path) -> Result<RunRecord, String> { Err("stub".into()) }
pub fn diff_configs(_c: &[&TrainConfig]) -> Vec<(String, Vec<String>)> { Vec::new() }
