//! Checkpoints: a Hugging Face model folder (the model core's `save_pretrained` plus the tokenizer
//! files) with the trainer's state next to it, enough to continue a run exactly.
//!
//! - `trainer_state.json`: [`TrainerState`] — the step, the epoch and the position in it, the best
//!   metric and the patience counter, the schedule (base rate, warm-up, total), the elapsed time and
//!   the seeds. Shuffling and dropout draw from generators that are a pure function of
//!   (`seed`, epoch) and (`seed`, step, batch): the state of both is the step position itself, so a
//!   resumed run sees the same batches and the same dropout masks.
//! - `optimizer.safetensors`: AdamW's f32 moments, `<param>.exp_avg` / `<param>.exp_avg_sq` for every
//!   trainable parameter (frozen ones have none); the AdamW step count is `TrainerState::step`.
//!
//! A checkpoint is written into `checkpoints/<name>.tmp/` and swapped in when complete (the old one
//! is renamed to `<name>.old/` first and removed after), so a failing write never destroys the
//! previous checkpoint.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::error::{TrainError, TrainResult};
use super::run::CHECKPOINTS_DIR;
use super::schedule::LrSchedule;
use crate::core::model::optim::AdamW;
use crate::core::model::save::{save_pretrained, write_atomic, write_safetensors};
use crate::core::model::TaskModel;
use crate::core::text::tokenizer::TextTokenizer;

pub const STATE_FILE: &str = "trainer_state.json";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";

/// Where a run is, saved with every checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps done.
    pub step: u64,
    /// The epoch in progress (0-based).
    pub epoch: u64,
    /// Optimizer steps done in that epoch.
    pub step_in_epoch: u64,
    /// Batches of that epoch consumed.
    pub batch_in_epoch: u64,
    /// Best validation value of the best metric so far, and its step.
    pub best_metric: Option<f64>,
    pub best_step: Option<u64>,
    /// Evaluations since the last improvement.
    pub patience_counter: u32,
    pub schedule: LrSchedule,
    /// Seed of the per-epoch shuffle (`SeededRng(shuffle_seed ⊕ epoch·φ)`).
    pub shuffle_seed: u64,
    /// Seed of the dropout masks (one generator per batch, seeded from (dropout_seed, step, batch)).
    pub dropout_seed: u64,
    /// Training seconds so far (pauses excluded).
    pub elapsed_secs: f64,
    /// Whether the run's last step was already evaluated (so a resume does not repeat it).
    pub evaluated_at_step: Option<u64>,
}

/// The checkpoint folder of a resume target: a checkpoint folder itself, or a run folder — then its
/// newest complete checkpoint (the highest step among `last`, `best`, `step-N`, …; `last` on a tie).
///
/// A checkpoint is complete when its `trainer_state.json` parses: it is written last, atomically. That
/// also covers a process killed while swapping a new checkpoint in (`last` renamed to `last.old`, the new
/// one still `last.tmp`): both are complete and the newer is taken. A checkpoint cut off mid-write has no
/// state file and is never picked.
pub fn find_checkpoint(path: &Path) -> TrainResult<PathBuf> {
    if path.join(STATE_FILE).is_file() {
        return Ok(path.to_path_buf());
    }
    let mut best: Option<(u64, u8, PathBuf)> = None;
    if let Ok(entries) = std::fs::read_dir(path.join(CHECKPOINTS_DIR)) {
        for entry in entries.flatten() {
            let dir = entry.path();
            let Ok(state) = read_state(&dir) else { continue };
            if !dir.join(OPTIMIZER_FILE).is_file() || !dir.join("config.json").is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            // On equal steps: a finished swap beats a leftover, and `last` beats the others.
            let rank = match name.as_str() {
                "last" => 3,
                n if !n.ends_with(".tmp") && !n.ends_with(".old") => 2,
                n if n.ends_with(".tmp") => 1,
                _ => 0,
            };
            if best.as_ref().is_none_or(|(step, r, _)| (state.step, rank) > (*step, *r)) {
                best = Some((state.step, rank, dir));
            }
        }
    }
    best.map(|(_, _, dir)| dir).ok_or_else(|| TrainError::NoCheckpoint { path: path.to_path_buf() })
}

/// The run folder a checkpoint belongs to (`<run>/checkpoints/<name>`).
pub fn run_dir_of(checkpoint: &Path) -> TrainResult<PathBuf> {
    checkpoint
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == CHECKPOINTS_DIR))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| TrainError::Config(format!("{} is not inside a run's checkpoints folder", checkpoint.display())))
}

pub fn read_state(dir: &Path) -> TrainResult<TrainerState> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| TrainError::parse(&path, e))
}

/// A run's complete checkpoints (weights written, a readable trainer state), one per step, oldest
/// first: `(step, folder)`. `last` and `best` hold steps a `step-N` folder may hold too; the first
/// folder of a step (by name) stands for it. An error when the run has none.
pub fn complete_checkpoints(run: &Path) -> TrainResult<Vec<(u64, PathBuf)>> {
    let dir = run.join(CHECKPOINTS_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|e| TrainError::io(&dir, e))?;
    let mut checkpoints: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("model.safetensors").is_file())
        .filter_map(|p| Some((read_state(&p).ok()?.step, p)))
        .collect();
    checkpoints.sort();
    checkpoints.dedup_by_key(|(step, _)| *step);
    if checkpoints.is_empty() {
        return Err(TrainError::Config(format!("{}: no complete checkpoint", dir.display())));
    }
    Ok(checkpoints)
}

/// What a checkpoint holds.
pub struct CheckpointParts<'a> {
    pub model: &'a TaskModel,
    pub tokenizer: &'a TextTokenizer,
    pub tokenizer_dir: Option<&'a Path>,
    pub optimizer: &'a AdamW,
    /// The names of the optimised (trainable) parameters, in the optimizer's order.
    pub optimized: &'a [String],
    pub state: &'a TrainerState,
}

/// Removes a checkpoint folder, its state file first: a removal cut short by a kill never leaves a
/// folder that looks complete.
fn remove_dir(path: &Path) -> TrainResult<()> {
    match std::fs::remove_file(path.join(STATE_FILE)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(TrainError::io(path, e)),
    }
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(TrainError::io(path, e)),
    }
}

/// Writes `checkpoints/<name>/` of a run atomically; returns its path.
pub fn save_checkpoint(run_dir: &Path, name: &str, parts: &CheckpointParts) -> TrainResult<PathBuf> {
    let root = run_dir.join(CHECKPOINTS_DIR);
    let target = root.join(name);
    let tmp = root.join(format!("{name}.tmp"));
    let old = root.join(format!("{name}.old"));
    remove_dir(&tmp)?;
    std::fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    let written = write_parts(&tmp, parts);
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    remove_dir(&old)?;
    if target.exists() {
        std::fs::rename(&target, &old).map_err(|e| TrainError::io(&target, e))?;
    }
    std::fs::rename(&tmp, &target).map_err(|e| TrainError::io(&target, e))?;
    remove_dir(&old)?;
    Ok(target)
}

fn write_parts(dir: &Path, parts: &CheckpointParts) -> TrainResult<()> {
    save_pretrained(parts.model, dir, Some((parts.tokenizer, parts.tokenizer_dir)))?;
    let mut tensors = Vec::new();
    for (name, (m, v)) in parts.optimized.iter().zip(parts.optimizer.moments()) {
        tensors.push((format!("{name}.exp_avg"), m.to_device(&Device::Cpu)?));
        tensors.push((format!("{name}.exp_avg_sq"), v.to_device(&Device::Cpu)?));
    }
    write_safetensors(&dir.join(OPTIMIZER_FILE), tensors)?;
    let path = dir.join(STATE_FILE);
    let text = serde_json::to_string_pretty(parts.state).map_err(|e| TrainError::parse(&path, e))?;
    write_atomic(&path, format!("{text}\n").as_bytes())?;
    Ok(())
}

/// Restores AdamW's moments from a checkpoint (for the optimised parameters named, in order).
pub fn load_optimizer(dir: &Path, optimizer: &mut AdamW, optimized: &[String], steps: u64) -> TrainResult<()> {
    let path = dir.join(OPTIMIZER_FILE);
    let mut stored: HashMap<String, Tensor> =
        candle_core::safetensors::load(&path, &Device::Cpu).map_err(|e| TrainError::parse(&path, e))?;
    let mut moments = Vec::with_capacity(optimized.len());
    for name in optimized {
        let mut take = |suffix: &str| {
            stored.remove(&format!("{name}.{suffix}")).ok_or_else(|| {
                TrainError::parse(
                    &path,
                    format!("no {name}.{suffix} (was the checkpoint saved with other frozen modules?)"),
                )
            })
        };
        moments.push((take("exp_avg")?, take("exp_avg_sq")?));
    }
    optimizer.restore(steps, moments)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only folders with weights and a readable state count, one per step (`last` beside `step-4` is one
    /// checkpoint); a run without any, or without a checkpoints folder, says so with the path.
    #[test]
    fn complete_checkpoints_are_one_per_step_and_their_absence_is_named() {
        let run = tempfile::tempdir().unwrap();
        let missing = complete_checkpoints(run.path()).unwrap_err().to_string();
        assert!(missing.contains(&run.path().join(CHECKPOINTS_DIR).display().to_string()), "{missing}");
        let make = |name: &str, step: Option<u64>, weights: bool| {
            let dir = run.path().join(CHECKPOINTS_DIR).join(name);
            std::fs::create_dir_all(&dir).unwrap();
            if weights {
                std::fs::write(dir.join("model.safetensors"), b"").unwrap();
            }
            if let Some(step) = step {
                let state = TrainerState {
                    step,
                    epoch: 0,
                    step_in_epoch: step,
                    batch_in_epoch: step,
                    best_metric: None,
                    best_step: None,
                    patience_counter: 0,
                    schedule: LrSchedule::new(1e-3, super::super::Schedule::Linear, super::super::Warmup::Steps(0), 10),
                    shuffle_seed: 1,
                    dropout_seed: 2,
                    elapsed_secs: 0.0,
                    evaluated_at_step: None,
                };
                std::fs::write(dir.join(STATE_FILE), serde_json::to_string(&state).unwrap()).unwrap();
            }
        };
        make("step-2.tmp", Some(2), false);
        let none = complete_checkpoints(run.path()).unwrap_err().to_string();
        assert!(none.contains("no complete checkpoint"), "{none}");
        make("step-4", Some(4), true);
        make("last", Some(4), true);
        make("step-2", Some(2), true);
        make("broken", None, true);
        let found = complete_checkpoints(run.path()).unwrap();
        let found: Vec<(u64, String)> =
            found.into_iter().map(|(step, dir)| (step, dir.file_name().unwrap().to_string_lossy().into_owned())).collect();
        assert_eq!(found, [(2, "step-2".to_string()), (4, "last".to_string())]);
    }
}
