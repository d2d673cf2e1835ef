//! The run folder, and reading runs back for the GUI's run list and comparison.
//!
//! ```text
//! <runs_dir>/<run_name, or run-YYYYMMDD-HHMMSS>/
//!   config.json                 the TrainConfig (JSON)
//!   metrics.jsonl               one JSON object a line, with a "type" field:
//!                                 {"type":"step", …StepMetrics}       every optimizer step
//!                                 {"type":"evaluation", …EvalReport}  every evaluation (validation; test at the end)
//!                                 {"type":"checkpoint","step":…,"kind":…,"path":…}
//!                                 {"type":"end","status":"finished"|"stopped"|"failed","step":…,"message":…}
//!                                 {"type":"baseline","step":…,"unigram_loss":…}  masked LM, at the start
//!   checkpoints/
//!     last/  best/  step-N/     Hugging Face layout (config.json, model.safetensors, tokenizer files)
//!                               plus trainer_state.json (see checkpoint.rs) and optimizer.safetensors
//! ```
//!
//! Every file is written atomically (a temporary file renamed); a checkpoint is written into
//! `checkpoints/<name>.tmp/` and swapped in only when complete. On resume, metrics.jsonl keeps the
//! lines up to the resumed step and the run continues it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{TrainError, TrainResult};
use super::{EvalReport, StepMetrics, TrainConfig};
use crate::core::model::save::write_atomic;

pub const CONFIG_FILE: &str = "config.json";
pub const METRICS_FILE: &str = "metrics.jsonl";
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// One line of metrics.jsonl.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MetricsLine {
    Step(StepMetrics),
    Evaluation(EvalReport),
    Checkpoint { step: u64, kind: String, path: PathBuf },
    End { status: String, step: u64, message: String },
    /// A classifier run's validation rows on the run's fixed 2D basis (see [`super::snapshot`]).
    Embeddings(super::snapshot::EmbeddingSnapshot),
    /// A masked-LM run's unigram baseline on its validation split (loss units), written when it starts.
    Baseline { step: u64, unigram_loss: f64 },
}

impl MetricsLine {
    fn step(&self) -> u64 {
        match self {
            Self::Step(s) => s.step,
            Self::Evaluation(e) => e.step,
            Self::Checkpoint { step, .. } | Self::End { step, .. } | Self::Baseline { step, .. } => *step,
            Self::Embeddings(s) => s.step,
        }
    }
}

/// `YYYYMMDD-HHMMSS` (UTC) of the current time.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}-{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Creates the folder of a new run (`run_name`, else a timestamp; a number is appended when the
/// timestamped name is taken). A named run that already exists is refused.
pub fn create_run_dir(config: &TrainConfig) -> TrainResult<PathBuf> {
    std::fs::create_dir_all(&config.runs_dir).map_err(|e| TrainError::io(&config.runs_dir, e))?;
    let name = config.run_name.trim();
    if !name.is_empty() {
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(TrainError::Config(format!("run name {name:?} must be a plain folder name")));
        }
        let dir = config.runs_dir.join(name);
        if dir.join(CONFIG_FILE).exists() {
            return Err(TrainError::Config(format!(
                "a run named {name:?} already exists in {} (resume it or pick another name)",
                config.runs_dir.display()
            )));
        }
        std::fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        return Ok(dir);
    }
    let base = format!("run-{}", timestamp());
    for n in 1.. {
        let dir = config.runs_dir.join(if n == 1 { base.clone() } else { format!("{base}-{n}") });
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(TrainError::io(&dir, e)),
        }
    }
    unreachable!("an unbounded loop returns")
}

pub fn write_config(dir: &Path, config: &TrainConfig) -> TrainResult<()> {
    let path = dir.join(CONFIG_FILE);
    let text = serde_json::to_string_pretty(config).map_err(|e| TrainError::parse(&path, e))?;
    Ok(write_atomic(&path, format!("{text}\n").as_bytes())?)
}

/// A recorded run's settings. A setting added after the run was recorded reads as what the run did,
/// not as today's default: a run without `unigram_output_bias` started from transformers' zero bias.
pub fn read_config(dir: &Path) -> TrainResult<TrainConfig> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    let mut value: serde_json::Value = serde_json::from_str(&text).map_err(|e| TrainError::parse(&path, e))?;
    if let Some(fields) = value.as_object_mut() {
        fields.entry("unigram_output_bias").or_insert(serde_json::Value::Bool(false));
    }
    serde_json::from_value(value).map_err(|e| TrainError::parse(&path, e))
}

/// Appends lines to metrics.jsonl.
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsLog {
    /// Opens the log of a run; on resume (`keep_until: Some(step)`) the lines after `step` are dropped
    /// first, so the file continues exactly where the checkpoint was taken.
    pub fn open(dir: &Path, keep_until: Option<u64>) -> TrainResult<Self> {
        let path = dir.join(METRICS_FILE);
        match keep_until {
            Some(step) if path.exists() => {
                let kept: Vec<MetricsLine> = read_metrics(&path)?
                    .into_iter()
                    .filter(|l| l.step() <= step && !matches!(l, MetricsLine::End { .. }))
                    .collect();
                let mut text = String::new();
                for line in &kept {
                    text.push_str(&serde_json::to_string(line).map_err(|e| TrainError::parse(&path, e))?);
                    text.push('\n');
                }
                write_atomic(&path, text.as_bytes())?;
            }
            Some(_) => {}
            None => write_atomic(&path, b"")?,
        }
        let file =
            std::fs::OpenOptions::new().append(true).create(true).open(&path).map_err(|e| TrainError::io(&path, e))?;
        Ok(Self { path, file })
    }

    pub fn append(&mut self, line: &MetricsLine) -> TrainResult<()> {
        let mut text = serde_json::to_string(line).map_err(|e| TrainError::parse(&self.path, e))?;
        text.push('\n');
        self.file.write_all(text.as_bytes()).map_err(|e| TrainError::io(&self.path, e))
    }
}

/// Reads metrics.jsonl (lines that do not parse, e.g. a last line cut by a crash, are skipped).
pub fn read_metrics(path: &Path) -> TrainResult<Vec<MetricsLine>> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    Ok(text.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).ok()).collect())
}

/// A run for the run list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub name: String,
    pub dir: PathBuf,
    pub config: TrainConfig,
    /// The last step logged.
    pub last_step: u64,
    /// "finished", "stopped", "failed", or "incomplete" (running, or killed).
    pub status: String,
    /// The best validation value of the config's best metric.
    pub best: Option<f64>,
    pub last_eval: Option<EvalReport>,
    /// Seconds since the epoch of the run folder's last change.
    pub modified_secs: u64,
}

/// A whole run for the comparison view.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub dir: PathBuf,
    pub config: TrainConfig,
    pub steps: Vec<StepMetrics>,
    /// Validation evaluations, then the test one at the end when there is one.
    pub evals: Vec<EvalReport>,
    /// `(step, kind, folder)` of each checkpoint saved, in order.
    pub checkpoints: Vec<(u64, String, PathBuf)>,
    /// Embedding snapshots, one per evaluation (classifier runs).
    pub snapshots: Vec<super::snapshot::EmbeddingSnapshot>,
    /// "finished", "stopped", "failed" or "incomplete", and the end message.
    pub status: String,
    pub message: String,
    /// Masked LM: the unigram baseline of the validation split (loss units), when the run recorded it.
    pub unigram_loss: Option<f64>,
}

/// The step of the latest `best` checkpoint among `(step, kind, folder)` entries.
pub fn best_checkpoint_step(checkpoints: &[(u64, String, PathBuf)]) -> Option<u64> {
    checkpoints.iter().rev().find(|(_, kind, _)| kind == "best").map(|(step, _, _)| *step)
}

pub fn load_run(dir: &Path) -> TrainResult<RunRecord> {
    let config = read_config(dir)?;
    let path = dir.join(METRICS_FILE);
    let lines = if path.exists() { read_metrics(&path)? } else { Vec::new() };
    let mut record = RunRecord {
        dir: dir.to_path_buf(),
        config,
        steps: Vec::new(),
        evals: Vec::new(),
        checkpoints: Vec::new(),
        snapshots: Vec::new(),
        status: "incomplete".into(),
        message: String::new(),
        unigram_loss: None,
    };
    for line in lines {
        match line {
            MetricsLine::Step(s) => record.steps.push(s),
            MetricsLine::Evaluation(e) => record.evals.push(e),
            MetricsLine::Checkpoint { step, kind, path } => record.checkpoints.push((step, kind, path)),
            MetricsLine::Embeddings(s) => record.snapshots.push(s),
            MetricsLine::Baseline { unigram_loss, .. } => record.unigram_loss = Some(unigram_loss),
            MetricsLine::End { status, message, .. } => {
                record.status = status;
                record.message = message;
            }
        }
    }
    Ok(record)
}

fn best_of(config: &TrainConfig, evals: &[EvalReport]) -> Option<f64> {
    let metric = super::trainer::best_metric_of(config);
    let values = evals.iter().filter(|e| e.split == "validation").map(|e| super::trainer::metric_value(metric, e));
    match metric {
        super::BestMetric::Loss => values.reduce(f64::min),
        _ => values.reduce(f64::max),
    }
}

/// The runs in a runs folder (sub-folders with a config.json), newest first. Unreadable runs are left out.
pub fn list_runs(runs_dir: &Path) -> Vec<RunSummary> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return Vec::new();
    };
    let mut runs: Vec<RunSummary> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(CONFIG_FILE).is_file())
        .filter_map(|dir| {
            let record = load_run(&dir).ok()?;
            let modified_secs = std::fs::metadata(dir.join(METRICS_FILE))
                .or_else(|_| std::fs::metadata(&dir))
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            Some(RunSummary {
                name: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                last_step: record.steps.last().map_or(0, |s| s.step),
                best: best_of(&record.config, &record.evals),
                last_eval: record.evals.iter().rev().find(|e| e.split == "validation").cloned(),
                status: record.status,
                config: record.config,
                dir,
                modified_secs,
            })
        })
        .collect();
    runs.sort_by(|a, b| b.modified_secs.cmp(&a.modified_secs).then(a.name.cmp(&b.name)));
    runs
}

/// One setting that differs between runs: its name and its value in each config (JSON text, strings
/// without their quotes; `—` where a config lacks the setting).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigDiff {
    pub key: String,
    pub values: Vec<String>,
}

/// The settings that differ between configs (`runs_dir` and `run_name` are left out).
pub fn diff_configs(configs: &[&TrainConfig]) -> Vec<ConfigDiff> {
    let maps: Vec<BTreeMap<String, Value>> = configs
        .iter()
        .map(|c| match serde_json::to_value(c) {
            Ok(Value::Object(map)) => map.into_iter().collect(),
            _ => BTreeMap::new(),
        })
        .collect();
    let mut keys: Vec<&String> = maps.iter().flat_map(BTreeMap::keys).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| k.as_str() != "runs_dir" && k.as_str() != "run_name")
        .filter_map(|k| {
            let values: Vec<String> =
                maps.iter().map(|m| m.get(k).map_or_else(|| "—".into(), display_value)).collect();
            values.windows(2).any(|w| w[0] != w[1]).then(|| ConfigDiff { key: k.clone(), values })
        })
        .collect()
}

fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_only_differing_settings() {
        let a = TrainConfig::default();
        let b = TrainConfig { learning_rate: 1e-3, run_name: "x".into(), ..TrainConfig::default() };
        let c = TrainConfig { freeze: "top:2".into(), ..TrainConfig::default() };
        let diff = diff_configs(&[&a, &b, &c]);
        let keys: Vec<&str> = diff.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, vec!["freeze", "learning_rate"]);
        assert_eq!(diff[0].values, vec!["none", "none", "top:2"]);
        assert_eq!(diff[1].values, vec!["0.00005", "0.001", "0.00005"]);
    }

    #[test]
    fn a_run_recorded_before_the_unigram_bias_reads_back_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut old: serde_json::Value = serde_json::to_value(TrainConfig::default()).unwrap();
        old.as_object_mut().unwrap().remove("unigram_output_bias");
        std::fs::write(dir.path().join(CONFIG_FILE), old.to_string()).unwrap();
        assert!(!read_config(dir.path()).unwrap().unigram_output_bias, "it trained from a zero bias");
        write_config(dir.path(), &TrainConfig::default()).unwrap();
        assert!(read_config(dir.path()).unwrap().unigram_output_bias, "a new run records what it did");
    }

    #[test]
    fn timestamp_shape() {
        let t = timestamp();
        assert_eq!(t.len(), 15, "{t}");
        assert!(t.starts_with("20") && t.as_bytes()[8] == b'-');
    }
}
