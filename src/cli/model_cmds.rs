//! `lm-workbench params | fill-mask | embed | predict`: the model core from the command line.

use std::io::Write;

use serde::Serialize;

use crate::core::device::best_device;
use crate::core::hub::HubSettings;
use crate::core::model::infer::{self, Pooling};
use crate::core::model::keys::param_specs;
use crate::core::model::source::{load_spec, request_config, resolve, ModelRequest, SpecModel};
use crate::core::model::{FreezeSpec, LoadOptions, ModelError, ModuleCount, ParamCounts, Task, TaskChoice};
use crate::core::model_source::ModelSpec;
use crate::core::text::tokenizer::EncodeRequest;

/// The model a command runs on.
#[derive(Debug, clap::Args)]
pub struct ModelArg {
    /// A model folder, a bare config.json (random initialisation) or a Hub repo id (owner/name[@revision]).
    #[arg(long)]
    pub model: String,
    /// Read pytorch_model.bin (a pickle) when the model has no safetensors weights.
    #[arg(long)]
    pub allow_pickle: bool,
}

#[derive(Debug, clap::Args)]
pub struct ParamsArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Count with a sequence-classification head of this many labels.
    #[arg(long)]
    pub num_labels: Option<usize>,
    /// Which parameters train: classifier (head only), top:K (top K layers + pooler + head) or none.
    #[arg(long, default_value = "none")]
    pub freeze: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct FillMaskArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// A text with one or more mask tokens ([MASK] or <mask>).
    #[arg(long)]
    pub text: String,
    /// Candidates per mask.
    #[arg(long, default_value_t = 5)]
    pub top_k: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PoolingArg {
    Cls,
    Mean,
}

#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// The text to embed (or give --data and --project).
    #[arg(long, required_unless_present = "project")]
    pub text: Option<String>,
    /// cls: the first token's vector; mean: the attention-mask-weighted mean of the last hidden state.
    #[arg(long, value_enum, default_value = "mean")]
    pub pooling: PoolingArg,
    /// Embed the rows of a dataset and project them to 2D (pca).
    #[arg(long, value_enum, requires = "data")]
    pub project: Option<ProjectMethod>,
    #[command(flatten)]
    pub rows: super::explore_cmds::ProjectArgsOpt,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ProjectMethod {
    Pca,
}

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[arg(long)]
    pub text: String,
    /// A second text (sentence-pair classification).
    #[arg(long)]
    pub pair: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn load(
    arg: &ModelArg,
    task: TaskChoice,
    num_labels: Option<usize>,
    require_weights: bool,
) -> Result<SpecModel, ModelError> {
    let spec = ModelSpec::parse(&arg.model)?;
    let options = LoadOptions { device: best_device(), allow_pickle: arg.allow_pickle, ..LoadOptions::default() };
    let request = ModelRequest { task, num_labels, require_weights, options };
    let loaded = load_spec(&spec, &HubSettings::from_env(), &request, &mut |_| {})?;
    if !loaded.report.newly_initialized.is_empty() {
        eprintln!(
            "warning: not in the checkpoint, newly initialised (train before use): {}",
            loaded.report.newly_initialized.join(", ")
        );
    }
    Ok(loaded)
}

pub(super) fn print_json(value: &impl Serialize) -> Result<(), ModelError> {
    let text = serde_json::to_string(value).map_err(|e| ModelError::Input(e.to_string()))?;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    Ok(())
}

#[derive(Serialize)]
struct ParamsJson<'a> {
    total: usize,
    trainable: usize,
    modules: &'a [ModuleCount],
}

pub fn run_params(args: &ParamsArgs) -> Result<(), ModelError> {
    let freeze: FreezeSpec = args.freeze.parse().map_err(ModelError::Input)?;
    let spec = ModelSpec::parse(&args.model.model)?;
    let hub = HubSettings::from_env();
    let resolved = resolve(&spec, &hub, &mut |_| {})?;
    let counts = if resolved.weights.is_none() {
        // A bare config: count the planned architecture without initialising hundreds of MB.
        let request = ModelRequest {
            task: TaskChoice::FromConfig,
            num_labels: args.num_labels,
            require_weights: false,
            options: LoadOptions::default(),
        };
        let (config, task) = request_config(&resolved, &request)?;
        ParamCounts::for_plan(&param_specs(&config, task), freeze, config.num_hidden_layers)
    } else {
        let loaded = load(&args.model, TaskChoice::FromConfig, args.num_labels, false)?;
        loaded.model.freeze(freeze);
        loaded.model.counts()
    };
    if args.json {
        return print_json(&ParamsJson { total: counts.total, trainable: counts.trainable, modules: &counts.modules });
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{:<20} {:>14} {:>14}", "module", "total", "trainable");
    for m in &counts.modules {
        let _ = writeln!(out, "{:<20} {:>14} {:>14}", m.name, m.total, m.trainable);
    }
    let _ = writeln!(out, "{:<20} {:>14} {:>14}", "all", counts.total, counts.trainable);
    Ok(())
}

#[derive(Serialize)]
struct FillMaskJson<'a> {
    masks: &'a [Vec<infer::MaskPrediction>],
}

pub fn run_fill_mask(args: &FillMaskArgs) -> Result<(), ModelError> {
    let loaded = load(&args.model, TaskChoice::Task(Task::MaskedLm), None, true)?;
    let tokenizer = loaded.tokenizer()?;
    let masks = infer::fill_mask(&loaded.model, &tokenizer, &args.text, args.top_k)?;
    if args.json {
        return print_json(&FillMaskJson { masks: &masks });
    }
    let mut out = std::io::stdout().lock();
    for (i, predictions) in masks.iter().enumerate() {
        let _ = writeln!(out, "mask {}:", i + 1);
        for p in predictions {
            let _ = writeln!(out, "  {:<20} {:>7}  {:.4}", p.token, p.id, p.score);
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct EmbedJson<'a> {
    pooling: &'static str,
    dim: usize,
    vector: &'a [f32],
}

pub fn run_embed(args: &EmbedArgs) -> anyhow::Result<()> {
    if args.project.is_some() {
        return super::explore_cmds::run_projection(&args.model, args.pooling, &args.rows, args.json);
    }
    let text = args.text.clone().ok_or_else(|| anyhow::anyhow!("--text is required without --project"))?;
    let loaded = load(&args.model, TaskChoice::Task(Task::Base), None, true)?;
    let tokenizer = loaded.tokenizer()?;
    let (pooling, name) = match args.pooling {
        PoolingArg::Cls => (Pooling::Cls, "cls"),
        PoolingArg::Mean => (Pooling::Mean, "mean"),
    };
    let vector = infer::embed(&loaded.model, &tokenizer, &EncodeRequest::text(text), pooling)?;
    if args.json {
        return Ok(print_json(&EmbedJson { pooling: name, dim: vector.len(), vector: &vector })?);
    }
    let shown: Vec<String> = vector.iter().take(8).map(|v| format!("{v:.4}")).collect();
    let _ = writeln!(std::io::stdout().lock(), "{} dims ({name} pooling): [{}, …]", vector.len(), shown.join(", "));
    Ok(())
}

#[derive(Serialize)]
struct PredictJson<'a> {
    label: &'a str,
    labels: &'a [infer::LabelScore],
}

pub fn run_predict(args: &PredictArgs) -> Result<(), ModelError> {
    let loaded = load(&args.model, TaskChoice::Task(Task::SequenceClassification), None, true)?;
    let tokenizer = loaded.tokenizer()?;
    let request = EncodeRequest { text: args.text.clone(), pair: args.pair.clone(), ..EncodeRequest::default() };
    let labels = infer::predict(&loaded.model, &tokenizer, &request)?;
    let best = labels.iter().max_by(|a, b| a.score.total_cmp(&b.score)).map_or("", |l| l.label.as_str());
    if args.json {
        return print_json(&PredictJson { label: best, labels: &labels });
    }
    let mut out = std::io::stdout().lock();
    for l in &labels {
        let _ = writeln!(out, "{:<20} {:.4}", l.label, l.score);
    }
    Ok(())
}
