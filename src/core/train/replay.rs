//! Record and replay: a run folder (its config and metrics.jsonl) played back as if it were training
//! now, at 1×–50× its real pace — the same [`TrainerEvent`]s a live run sends (steps, evaluations,
//! checkpoints, embedding snapshots, the end), through the same handle, so the Train page shows it as
//! it would a live run, marked as a replay. And a finished run as one small file (its config and
//! metrics, no weights) that another copy of the app imports into its runs folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::{TrainError, TrainResult};
use super::handle::{Throttle, TrainerHandle, STEP_EVENT_INTERVAL};
use super::run::{read_config, read_metrics, MetricsLine, CONFIG_FILE, METRICS_FILE};
use super::{RunTexts, TrainConfig, TrainerCommand, TrainerEvent};

/// The replay speeds offered.
pub const SPEEDS: [f64; 5] = [1.0, 2.0, 5.0, 10.0, 50.0];

/// A run's events in order, each with the training time (seconds) at which it happened.
pub fn timeline(run_dir: &Path) -> TrainResult<(TrainConfig, Vec<(f64, TrainerEvent)>)> {
    let config = read_config(run_dir)?;
    let path = run_dir.join(METRICS_FILE);
    let lines = read_metrics(&path)?;
    if !lines.iter().any(|l| matches!(l, MetricsLine::Step(_))) {
        return Err(TrainError::Config(format!("{}: no training steps to replay", path.display())));
    }
    let steps: Vec<(u64, f64, f64)> =
        lines.iter().filter_map(|l| if let MetricsLine::Step(s) = l { Some((s.step, s.epoch, s.elapsed_secs)) } else { None }).collect();
    let last = steps.last().copied().unwrap_or((0, 0.0, 0.0));
    let steps_per_epoch = if last.1 > 0.0 { (last.0 as f64 / last.1).round() as u64 } else { last.0 };
    let label_names = lines
        .iter()
        .find_map(|l| match l {
            MetricsLine::Evaluation(e) if !e.per_class.is_empty() => Some(e.per_class.iter().map(|c| c.label.clone()).collect()),
            _ => None,
        })
        .unwrap_or_default();
    let time_at = |step: u64| steps.iter().rfind(|s| s.0 <= step).map_or(0.0, |s| s.2);
    let mut events = vec![(
        0.0,
        TrainerEvent::Started {
            run_dir: run_dir.to_path_buf(),
            total_steps: config.max_steps.unwrap_or(last.0).max(last.0),
            steps_per_epoch,
            total_params: 0,
            trainable_params: 0,
            label_names,
            start_step: 0,
            unigram_loss: lines.iter().rev().find_map(|l| match l {
                MetricsLine::Baseline { unigram_loss, .. } => Some(*unigram_loss),
                _ => None,
            }),
            texts: RunTexts::default(),
        },
    )];
    let mut test = None;
    let mut end = None;
    for line in lines {
        match line {
            MetricsLine::Step(s) => events.push((s.elapsed_secs, TrainerEvent::Step(s))),
            MetricsLine::Evaluation(e) if e.split == "test" => test = Some(e),
            MetricsLine::Evaluation(e) => events.push((time_at(e.step), TrainerEvent::Evaluation(e))),
            MetricsLine::Embeddings(s) => events.push((time_at(s.step), TrainerEvent::Embeddings(s))),
            MetricsLine::Checkpoint { step, kind, path } => {
                events.push((time_at(step), TrainerEvent::CheckpointSaved { step, path, kind }));
            }
            MetricsLine::End { status, step, message } => end = Some((status, step, message)),
            MetricsLine::Baseline { .. } => {}
        }
    }
    let terminal = match end {
        Some((status, step, _)) if status == "finished" => TrainerEvent::Finished { step, test },
        Some((status, step, message)) if status == "stopped" => TrainerEvent::Stopped { step, reason: message },
        Some((_, _, message)) => TrainerEvent::Failed { error: format!("the recorded run failed: {message}") },
        None => TrainerEvent::Stopped { step: last.0, reason: "the recording ends here (the run did not finish)".into() },
    };
    events.push((last.2, terminal));
    Ok((config, events))
}

/// Plays a run folder back on a background thread ("lmw-replay") at `speed`× its recorded pace.
/// Pause, Resume and Stop work as for a live run; the other commands do nothing.
pub fn spawn_replay(run_dir: &Path, speed: f64, waker: Arc<dyn Fn() + Send + Sync>) -> TrainResult<(TrainConfig, TrainerHandle)> {
    if !(speed.is_finite() && speed > 0.0) {
        return Err(TrainError::Config(format!("replay speed must be above 0, got {speed}")));
    }
    let (config, events) = timeline(run_dir)?;
    let (command_tx, command_rx) = crossbeam_channel::unbounded::<TrainerCommand>();
    let (event_tx, event_rx) = crossbeam_channel::unbounded();
    let name = run_dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let thread = std::thread::Builder::new()
        .name("lmw-replay".into())
        .spawn(move || {
            let mut out = Throttle::new(event_tx, waker, STEP_EVENT_INTERVAL);
            let start = Instant::now();
            let mut paused_for = Duration::ZERO;
            let mut events = events.into_iter();
            if let Some((_, started)) = events.next() {
                out.push(started);
            }
            out.push(TrainerEvent::Log(format!("replaying {name} at {speed}× its recorded pace")));
            for (at, event) in events {
                let due = Duration::from_secs_f64((at / speed).max(0.0));
                loop {
                    let now = start.elapsed().saturating_sub(paused_for);
                    let wait = due.saturating_sub(now).min(Duration::from_millis(20));
                    match command_rx.recv_timeout(wait) {
                        Ok(TrainerCommand::Stop) => {
                            out.push(TrainerEvent::Stopped { step: 0, reason: "replay stopped".into() });
                            return;
                        }
                        Ok(TrainerCommand::Pause) => {
                            out.push(TrainerEvent::Paused { step: 0 });
                            let paused = Instant::now();
                            loop {
                                match command_rx.recv() {
                                    Ok(TrainerCommand::Resume) => break,
                                    Ok(TrainerCommand::Stop) | Err(_) => {
                                        out.push(TrainerEvent::Stopped { step: 0, reason: "replay stopped".into() });
                                        return;
                                    }
                                    Ok(_) => {}
                                }
                            }
                            paused_for += paused.elapsed();
                            out.push(TrainerEvent::Resumed { step: 0 });
                        }
                        Ok(_) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
                    }
                    if start.elapsed().saturating_sub(paused_for) >= due {
                        break;
                    }
                }
                out.push(event);
            }
        })
        .map_err(|e| TrainError::io("lmw-replay thread", e))?;
    Ok((config, TrainerHandle::from_parts(command_tx, event_rx, thread)))
}

/// A finished run as one file: its settings and its metrics (steps, evaluations, confusion matrices,
/// embedding snapshots), no weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunBundle {
    /// Always "lm-workbench-run".
    pub format: String,
    pub version: u32,
    pub name: String,
    pub config: serde_json::Value,
    /// metrics.jsonl, line by line.
    pub metrics: Vec<serde_json::Value>,
}

const BUNDLE_FORMAT: &str = "lm-workbench-run";

/// Writes a run folder's bundle to `path`.
pub fn export_run(run_dir: &Path, path: &Path) -> TrainResult<()> {
    let config_path = run_dir.join(CONFIG_FILE);
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&config_path).map_err(|e| TrainError::io(&config_path, e))?,
    )
    .map_err(|e| TrainError::parse(&config_path, e))?;
    let metrics_path = run_dir.join(METRICS_FILE);
    let text = std::fs::read_to_string(&metrics_path).map_err(|e| TrainError::io(&metrics_path, e))?;
    let metrics = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let name = run_dir.file_name().map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned());
    let bundle = RunBundle { format: BUNDLE_FORMAT.into(), version: 1, name, config, metrics };
    let text = serde_json::to_string(&bundle).map_err(|e| TrainError::parse(path, e))?;
    crate::core::model::save::write_atomic(path, text.as_bytes())?;
    Ok(())
}

/// Unpacks a bundle into a new folder of `runs_dir` (named after the run, `-2`, `-3`, … when taken);
/// returns the folder. Nothing existing is overwritten.
pub fn import_run(path: &Path, runs_dir: &Path) -> TrainResult<PathBuf> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    let bundle: RunBundle = serde_json::from_str(&text).map_err(|e| TrainError::parse(path, e))?;
    if bundle.format != BUNDLE_FORMAT {
        return Err(TrainError::parse(path, format!("not a run bundle (format {:?})", bundle.format)));
    }
    let _: TrainConfig = serde_json::from_value(bundle.config.clone()).map_err(|e| TrainError::parse(path, format!("config: {e}")))?;
    let base: String = bundle.name.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    let base = if base.is_empty() || base.starts_with('.') { "imported-run".to_string() } else { base };
    let mut dir = runs_dir.join(&base);
    let mut n = 2;
    while dir.exists() {
        dir = runs_dir.join(format!("{base}-{n}"));
        n += 1;
    }
    std::fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
    let config = serde_json::to_string_pretty(&bundle.config).map_err(|e| TrainError::parse(path, e))?;
    crate::core::model::save::write_atomic(&dir.join(CONFIG_FILE), config.as_bytes())?;
    let mut metrics = String::new();
    for line in &bundle.metrics {
        metrics.push_str(&serde_json::to_string(line).map_err(|e| TrainError::parse(path, e))?);
        metrics.push('\n');
    }
    crate::core::model::save::write_atomic(&dir.join(METRICS_FILE), metrics.as_bytes())?;
    Ok(dir)
}
