//! `lm-workbench bench-step`: times training steps of a model on synthetic batches (see
//! `core::train::bench`). Not a test: `scripts/bench-step.sh` runs it beside PyTorch.

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::core::model::ops::{with_kernels, Kernels};
use crate::core::model::{LoadOptions, ModelConfig, Task, TaskChoice, TaskModel};
use crate::core::train::bench::{bench_steps, StepBenchConfig};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum BenchTask {
    Classify,
    Mlm,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum KernelsArg {
    Fused,
    Composed,
}

#[derive(Debug, clap::Args)]
pub struct BenchStepArgs {
    /// A model folder (config.json + weights) or a bare config.json (freshly initialised weights).
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, value_enum, default_value = "classify")]
    pub task: BenchTask,
    /// Classes of the classifier head.
    #[arg(long, default_value_t = 5)]
    pub num_labels: usize,
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 128)]
    pub seq_len: usize,
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    #[arg(long, default_value_t = 5e-5)]
    pub lr: f64,
    #[arg(long, value_enum, default_value = "fused")]
    pub kernels: KernelsArg,
    /// auto (a GPU where this build and the machine have one, else the CPU), cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &BenchStepArgs) -> anyhow::Result<()> {
    let task = match args.task {
        BenchTask::Classify => Task::SequenceClassification,
        BenchTask::Mlm => Task::MaskedLm,
    };
    let device = crate::core::device::parse_device(&args.device).map_err(|e| anyhow::anyhow!(e))?;
    let options = LoadOptions { device, ..LoadOptions::default() };
    let (config_path, dir) = if args.model.is_dir() {
        (args.model.join("config.json"), Some(args.model.clone()))
    } else {
        (args.model.clone(), None)
    };
    if !config_path.is_file() {
        bail!("{}: no config.json (give a model folder or a config.json)", config_path.display());
    }
    let mut config = ModelConfig::from_file(&config_path).with_context(|| config_path.display().to_string())?;
    if task == Task::SequenceClassification {
        config.set_num_labels(args.num_labels);
    }
    let model = match dir {
        Some(dir) => TaskModel::from_dir_with_config(&dir, config, TaskChoice::Task(task), &options)?.0,
        None => TaskModel::from_config(config, task, &options)?,
    };
    let cfg = StepBenchConfig {
        batch_size: args.batch_size,
        seq_len: args.seq_len,
        steps: args.steps,
        warmup: args.warmup,
        learning_rate: args.lr,
        ..StepBenchConfig::default()
    };
    let kernels = match args.kernels {
        KernelsArg::Fused => Kernels::Fused,
        KernelsArg::Composed => Kernels::Composed,
    };
    let report = with_kernels(kernels, || bench_steps(&model, &cfg))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} {} on {} ({} threads), batch {}×{}: {:.1} samples/s ({:.3} s/step median of {}), peak RSS {} MiB",
            report.task,
            report.kernels,
            report.device,
            report.threads,
            report.batch_size,
            report.seq_len,
            report.samples_per_sec,
            report.median_step_secs,
            report.steps,
            report.peak_rss_bytes.map_or("?".into(), |b| (b / (1024 * 1024)).to_string()),
        );
    }
    Ok(())
}
