//! `lm-workbench eval`: a checkpoint scored on a dataset split — a classifier by accuracy, macro-F1,
//! per-class scores and its confusion matrix; a masked LM by perplexity and masked-token accuracy beside
//! the unigram baseline.

use std::io::Write;

use anyhow::{anyhow, bail};
use serde::Serialize;

use super::train_cmds::TaskArg;
use crate::core::data::SplitName;
use crate::core::hub::HubSettings;
use crate::core::model::source::{load_spec, ModelRequest};
use crate::core::model::{LoadOptions, Task, TaskChoice};
use crate::core::model_source::ModelSpec;
use crate::core::train::setup::{encode_split, load_data, model_max_length};
use crate::core::train::trainer::evaluate_split;
use crate::core::train::{ClassScores, TrainConfig, TrainTask};

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A checkpoint (e.g. RUN/checkpoints/best) or model folder / Hub id: a classifier, or a masked LM
    /// (scored by perplexity and masked-token accuracy beside the unigram baseline).
    #[arg(long)]
    pub model: String,
    /// Default: the run's task when --model is a checkpoint of a run folder, else what the model's
    /// config.json declares (a ...ForMaskedLM is scored as a masked LM).
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Masked LM: score the text cut into blocks of N tokens, as `train --chunk-size` trains on it.
    /// Default: the run's chunk size, else rows truncated at the max length.
    #[arg(long)]
    pub chunk_size: Option<usize>,
    /// A dataset file, folder, Hub id, or builtin:headlines.
    #[arg(long)]
    pub data: String,
    /// train, validation or test. Default: a single file is scored whole; a folder or Hub dataset by
    /// its test split (its validation split when it has no test split).
    #[arg(long)]
    pub split: Option<String>,
    /// Held out from train when the data has no validation split. Default: the run's setting when
    /// --model is a checkpoint of a run folder, else 0.1.
    #[arg(long)]
    pub validation_fraction: Option<f64>,
    /// Default: the run's seed, else 42.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Default: the max length the run trained at, else 128.
    #[arg(long)]
    pub max_length: Option<usize>,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct EvalJson<'a> {
    /// `all` when a file was scored whole.
    split: &'a str,
    rows: usize,
    max_length: usize,
    loss: f64,
    accuracy: f64,
    macro_f1: f64,
    labels: Vec<&'a str>,
    per_class: &'a [ClassScores],
    confusion: &'a [Vec<usize>],
}

#[derive(Serialize)]
struct MaskedLmEvalJson<'a> {
    task: TrainTask,
    /// `all` when a file was scored whole.
    split: &'a str,
    /// Rows of text, or blocks of `chunk_size` tokens.
    rows: usize,
    chunk_size: Option<usize>,
    max_length: usize,
    /// Mean cross-entropy over the masked tokens (nats).
    loss: f64,
    perplexity: f64,
    /// Masked-token accuracy (the top guess is the hidden token).
    accuracy: f64,
    /// The perplexity of predicting each token by its frequency in the data's train split (loss units).
    unigram_loss: Option<f64>,
}

/// `eval` of a masked LM: the split's text (in blocks of the chunk size, or rows truncated at the max
/// length) masked as the run's evaluations mask it (15 %, 80/10/10, the run's seed), scored by perplexity
/// and masked-token accuracy, beside the unigram baseline of the data's train split.
fn eval_masked_lm(
    args: &EvalArgs,
    run: Option<&TrainConfig>,
    spec: &ModelSpec,
    dataset: &crate::core::data::Dataset,
    (split, shown_split): (&crate::core::data::Split, &str),
) -> anyhow::Result<()> {
    use crate::core::train::mlm;
    use crate::core::train::setup::{check_chunk_size, encode_examples};
    let request = ModelRequest {
        task: TaskChoice::Task(Task::MaskedLm),
        num_labels: None,
        require_weights: true,
        options: LoadOptions { device: crate::core::device::best_device(), ..LoadOptions::default() },
    };
    let loaded = load_spec(spec, &HubSettings::from_env(), &request, &mut |_| {})?;
    let tokenizer = loaded.tokenizer()?;
    let model_config = loaded.model.config();
    let defaults = TrainConfig::default();
    let run_config = run.unwrap_or(&defaults);
    let masking_config = TrainConfig { task: TrainTask::MaskedLm, ..run_config.clone() };
    let masking = mlm::masking_for(&masking_config, &tokenizer, model_config.vocab_size)?
        .ok_or_else(|| anyhow!("masked-LM evaluation needs a masking"))?;
    let max_length = args.max_length.or(run.map(|r| r.max_length)).unwrap_or(128).min(model_max_length(model_config));
    let chunk_size = args.chunk_size.or(run.and_then(TrainConfig::text_chunk_size));
    check_chunk_size(chunk_size, model_config)?;
    let encoded = encode_examples(&tokenizer, split, chunk_size, max_length)?;
    if encoded.is_empty() {
        bail!("{}: the {shown_split} text fills no block of {} tokens", dataset.name, chunk_size.unwrap_or(max_length));
    }
    let pad_id = tokenizer.pad_token().map_or(model_config.pad_token_id, |(_, id)| id);
    let batch = run.map_or(args.batch_size, |r| r.batch_size * 2);
    let seed = mlm::evaluation_seed(args.seed.unwrap_or(run_config.seed));
    let report = mlm::evaluate_mlm(&loaded.model, &encoded, pad_id, &masking, batch, seed, (0, 0.0, shown_split))?;
    let unigram_loss = match dataset.split(SplitName::Train) {
        Some(train) if std::ptr::eq(train, split) => mlm::UnigramModel::of(&encoded, model_config.vocab_size),
        Some(train) => mlm::UnigramModel::of(&encode_examples(&tokenizer, train, chunk_size, max_length)?, model_config.vocab_size),
        None => None,
    }
    .and_then(|unigram| mlm::unigram_baseline(&unigram, &encoded));
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = MaskedLmEvalJson {
            task: TrainTask::MaskedLm,
            split: shown_split,
            rows: encoded.len(),
            chunk_size,
            max_length,
            loss: report.loss,
            perplexity: report.perplexity(),
            accuracy: report.accuracy,
            unigram_loss,
        };
        writeln!(out, "{}", serde_json::to_string(&json)?)?;
        return Ok(());
    }
    let shape = match chunk_size {
        Some(size) => format!("{} blocks of {size} tokens", encoded.len()),
        None => format!("{} rows, max length {max_length}", encoded.len()),
    };
    writeln!(out, "{shown_split} ({shape}): {}", report.scores(TrainTask::MaskedLm))?;
    if let Some(loss) = unigram_loss {
        writeln!(out, "unigram baseline (token frequencies of the train split): perplexity {:.1} · loss {loss:.4}", loss.exp())?;
    }
    Ok(())
}

/// The run a checkpoint belongs to (`RUN/checkpoints/NAME`), if `model` is one.
fn run_of_checkpoint(model: &str) -> Option<TrainConfig> {
    let path = std::path::Path::new(model);
    let checkpoints = path.parent().filter(|p| p.file_name().is_some_and(|n| n == "checkpoints"))?;
    crate::core::train::run::read_config(checkpoints.parent()?).ok()
}

pub fn run_eval(args: &EvalArgs) -> anyhow::Result<()> {
    let run = run_of_checkpoint(&args.model);
    let single_file = args.data.trim() == crate::core::demo::DEMO_DATA_SPEC
        || matches!(crate::core::data::DataSpec::parse(&args.data), Ok(crate::core::data::DataSpec::File(_)));
    // A file given to eval is scored whole, unless a split (or a hold-out) is asked for.
    let whole_file = single_file && args.split.is_none() && args.validation_fraction.is_none();
    let config = TrainConfig {
        data: args.data.clone(),
        validation_fraction: if whole_file {
            0.0
        } else {
            args.validation_fraction.or(run.as_ref().map(|r| r.validation_fraction)).unwrap_or(0.1)
        },
        seed: args.seed.or(run.as_ref().map(|r| r.seed)).unwrap_or(42),
        ..TrainConfig::default()
    };
    let dataset = load_data(&config)?;
    let split_name = match &args.split {
        Some(name) => SplitName::from_name(name)
            .ok_or_else(|| anyhow!("unknown split {name:?}: expected train, validation or test"))?,
        None if whole_file => SplitName::Train,
        None if dataset.split(SplitName::Test).is_some() => SplitName::Test,
        None => SplitName::Validation,
    };
    let split = dataset.split(split_name).ok_or_else(|| {
        let found: Vec<&str> = dataset.splits.iter().map(|s| s.name.as_str()).collect();
        anyhow!("{}: no {} split (found: {})", dataset.name, split_name.as_str(), found.join(", "))
    })?;
    let shown_split = if whole_file { "all" } else { split_name.as_str() };
    let spec = ModelSpec::parse(&args.model)?;
    let masked_lm = match (args.task, &run) {
        (Some(task), _) => matches!(task, TaskArg::Mlm),
        (None, Some(run)) => run.task == TrainTask::MaskedLm,
        (None, None) => {
            let resolved = crate::core::model::source::resolve(&spec, &HubSettings::from_env(), &mut |_| {})?;
            crate::core::model::ModelConfig::from_file(&resolved.config_path)?.declared_task() == Task::MaskedLm
        }
    };
    if masked_lm {
        return eval_masked_lm(args, run.as_ref(), &spec, &dataset, (split, shown_split));
    }
    if split.labels.is_none() {
        bail!(
            "{}: the {} split has no labels (to score a masked LM on its text: --task mlm)",
            dataset.name,
            split_name.as_str()
        );
    }
    let request = ModelRequest {
        task: TaskChoice::Task(Task::SequenceClassification),
        num_labels: None,
        require_weights: true,
        options: LoadOptions { device: crate::core::device::best_device(), ..LoadOptions::default() },
    };
    let loaded = load_spec(&spec, &HubSettings::from_env(), &request, &mut |_| {})?;
    let tokenizer = loaded.tokenizer()?;
    let model_labels = loaded.model.config().id2label.clone();
    // Data label ids → the model's label ids, by name.
    let mapping: Vec<u32> = dataset
        .label_names
        .iter()
        .map(|name| {
            model_labels.iter().position(|l| l == name).map(|i| i as u32).ok_or_else(|| {
                anyhow!("the data's label {name:?} is not one of the model's labels ({})", model_labels.join(", "))
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let max_length = args
        .max_length
        .or(run.as_ref().map(|r| r.max_length))
        .unwrap_or(128)
        .min(model_max_length(loaded.model.config()));
    let mut encoded = encode_split(&tokenizer, split, max_length)?;
    encoded.labels = encoded.labels.iter().map(|&l| mapping[l as usize]).collect();
    let pad_id = tokenizer.pad_token().map_or(loaded.model.config().pad_token_id, |(_, id)| id);
    let report =
        evaluate_split(&loaded.model, &encoded, &model_labels, pad_id, args.batch_size, (0, 0.0, shown_split))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = EvalJson {
            split: shown_split,
            rows: encoded.len(),
            max_length,
            loss: report.loss,
            accuracy: report.accuracy,
            macro_f1: report.macro_f1,
            labels: model_labels.iter().map(String::as_str).collect(),
            per_class: &report.per_class,
            confusion: &report.confusion,
        };
        writeln!(out, "{}", serde_json::to_string(&json)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} ({} rows, max length {max_length}): accuracy {:.4}  macro-F1 {:.4}  loss {:.4}",
        shown_split,
        encoded.len(),
        report.accuracy,
        report.macro_f1,
        report.loss
    )?;
    writeln!(out, "{:<20} {:>9} {:>9} {:>9} {:>8}", "label", "precision", "recall", "f1", "support")?;
    for c in &report.per_class {
        writeln!(out, "{:<20} {:>9.4} {:>9.4} {:>9.4} {:>8}", c.label, c.precision, c.recall, c.f1, c.support)?;
    }
    writeln!(out, "confusion (rows: true, columns: predicted):")?;
    for row in &report.confusion {
        writeln!(out, "  {}", row.iter().map(|n| format!("{n:>5}")).collect::<String>())?;
    }
    Ok(())
}
