//! `lm-workbench train | eval`: the trainer from the command line. `train` reads a run.toml (the
//! TrainConfig fields) and/or flags (flags win), shows a one-line progress on stderr and prints a
//! summary (`--json`: one JSON object) on stdout. `eval` scores a classifier checkpoint on a split.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use serde::Serialize;

use crate::core::data::SplitName;
use crate::core::hub::HubSettings;
use crate::core::model::source::{load_spec, ModelRequest};
use crate::core::model::{LoadOptions, Task, TaskChoice};
use crate::core::model_source::ModelSpec;
use crate::core::train::progress::RunProgress;
use crate::core::train::setup::{encode_split, load_data, model_max_length};
use crate::core::train::trainer::evaluate_split;
use crate::core::train::{run_training, ClassScores, EvalEvery, EvalReport, TrainConfig, TrainTask, TrainerEvent};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TaskArg {
    Classify,
    Mlm,
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// A run.toml with TrainConfig fields (e.g. `learning_rate = 2e-3`, `eval_every = "epoch"`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Continue a stopped run: its folder (its `last` checkpoint) or a checkpoint folder.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// A model folder, config.json, Hub id, builtin:demo (the demo encoder), builtin:tiny, or preset:LxH
    /// (a BERT of L layers of H built from scratch: 2x128, 4x256, 4x512, 6x384, 8x512, 12x768; any
    /// shape as preset:LxHxHEADSxFEEDFORWARD[,positions=N][,dropout=P]).
    #[arg(long)]
    pub model: Option<String>,
    /// A dataset file, folder, Hub id, or builtin:headlines.
    #[arg(long)]
    pub data: Option<String>,
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// classifier, top:K, embeddings or none.
    #[arg(long)]
    pub freeze: Option<String>,
    #[arg(long)]
    pub epochs: Option<u32>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// The peak learning rate. Default (without --config): the model's recipe, as the Train page
    /// picks it: 2e-3 for a model built from scratch and for builtin:demo, 1e-4 to fine-tune a
    /// pretrained model.
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub max_length: Option<usize>,
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// auto (a GPU where this build and the machine have one, else the CPU), cpu, cuda or cuda:N.
    #[arg(long)]
    pub device: Option<String>,
    /// Batches of rows of similar length (less padding, faster on data of mixed lengths).
    #[arg(long)]
    pub group_by_length: bool,
    /// Classifier runs: validation rows projected to 2D at each evaluation, written to metrics.jsonl
    /// (0: none; default 256).
    #[arg(long)]
    pub snapshot_rows: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Evaluate every N steps (default: each epoch).
    #[arg(long)]
    pub eval_steps: Option<u64>,
    /// Also keep a checkpoint every N steps (checkpoints/step-N).
    #[arg(long)]
    pub save_every: Option<u64>,
    /// Masked LM: concatenate the text and cut it into blocks of N tokens (specials included) instead of
    /// one truncated row per example.
    #[arg(long)]
    pub chunk_size: Option<usize>,
    /// A tokenizer folder (from train-tokenizer) for a model built from scratch: --model preset:LxH
    /// (e.g. preset:2x128), builtin:tiny or a bare config.json. Its vocabulary sizes the model.
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// Masked LM: mask whole words (every ## piece of a picked word) instead of single tokens.
    #[arg(long)]
    pub whole_word_masking: bool,
    /// Masked LM built from scratch: start the output bias at the log of each token's training
    /// frequency, so the first guesses are the unigram baseline's, not uniform (default true; false:
    /// transformers' zero bias).
    #[arg(long)]
    pub unigram_output_bias: Option<bool>,
    /// The hidden and attention dropout of the run (overrides the model's config), e.g. 0 or 0.1.
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Gradient accumulation: the effective batch is batch size × this (e.g. 32 × 8 = 256).
    #[arg(long)]
    pub grad_accum: Option<u32>,
    /// Warm-up as a share of all steps (e.g. 0.1).
    #[arg(long)]
    pub warmup_ratio: Option<f64>,
    /// AdamW weight decay (not applied to biases and LayerNorm weights).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Share of train held out for validation when the data has no validation split (0: none).
    #[arg(long)]
    pub validation_fraction: Option<f64>,
    /// The runs folder (each run is a folder in it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub run_name: Option<String>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn load_config(args: &TrainArgs) -> anyhow::Result<TrainConfig> {
    let mut config = match (&args.config, &args.resume) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str(&text).map_err(|e| anyhow!("{}: {}", path.display(), e.to_string().replace('\n', " ")))?
        }
        (None, Some(dir)) => {
            let checkpoint = crate::core::train::checkpoint::find_checkpoint(dir)?;
            crate::core::train::run::read_config(&crate::core::train::checkpoint::run_dir_of(&checkpoint)?)?
        }
        (None, None) => TrainConfig::default(),
    };
    if let Some(v) = &args.model {
        config.model = v.clone();
    }
    if args.config.is_none() && args.resume.is_none() && args.lr.is_none() {
        // As the Train page does: the rate that suits the model (a model built from scratch learns
        // little at transformers' 5e-5 in a few hundred steps).
        config.learning_rate = crate::core::train::recipe_for(&config.model).learning_rate;
    }
    if let Some(v) = &args.data {
        config.data = v.clone();
    }
    if let Some(v) = args.task {
        config.task = match v {
            TaskArg::Classify => TrainTask::Classify,
            TaskArg::Mlm => TrainTask::MaskedLm,
        };
    }
    if let Some(v) = &args.freeze {
        config.freeze = v.clone();
    }
    if let Some(v) = args.epochs {
        config.epochs = v;
    }
    if let Some(v) = args.batch_size {
        config.batch_size = v;
    }
    if let Some(v) = args.lr {
        config.learning_rate = v;
    }
    if let Some(v) = args.max_length {
        config.max_length = v;
    }
    if let Some(v) = args.max_steps {
        config.max_steps = Some(v);
    }
    if let Some(v) = &args.device {
        config.device = v.clone();
    }
    if let Some(rows) = args.snapshot_rows {
        config.snapshot_rows = rows;
    }
    if args.group_by_length {
        config.group_by_length = true;
    }
    if let Some(v) = args.seed {
        config.seed = v;
    }
    if let Some(v) = args.eval_steps {
        config.eval_every = EvalEvery::Steps(v);
    }
    if let Some(v) = args.save_every {
        config.save_every = Some(v);
    }
    if let Some(v) = args.chunk_size {
        config.chunk_size = Some(v);
    }
    if let Some(v) = &args.tokenizer {
        config.tokenizer = v.clone();
    }
    if args.whole_word_masking {
        config.whole_word_masking = true;
    }
    if let Some(on) = args.unigram_output_bias {
        config.unigram_output_bias = on;
    }
    if let Some(p) = args.dropout {
        config.dropout = Some(p);
    }
    if let Some(v) = args.grad_accum {
        config.gradient_accumulation = v;
    }
    if let Some(v) = args.warmup_ratio {
        config.warmup = crate::core::train::Warmup::Ratio(v);
    }
    if let Some(v) = args.weight_decay {
        config.weight_decay = v;
    }
    if let Some(v) = args.validation_fraction {
        config.validation_fraction = v;
    }
    if let Some(v) = &args.out {
        config.runs_dir = v.clone();
    }
    if let Some(v) = &args.run_name {
        config.run_name = v.clone();
    }
    Ok(config)
}

#[derive(Serialize)]
struct TrainSummary<'a> {
    run_dir: Option<&'a PathBuf>,
    task: TrainTask,
    status: &'a str,
    step: u64,
    message: &'a str,
    validation: Option<&'a EvalReport>,
    /// Masked LM: `exp` of the last validation loss.
    validation_perplexity: Option<f64>,
    /// Masked LM: the unigram baseline of the validation split (loss units).
    unigram_loss: Option<f64>,
    test: Option<&'a EvalReport>,
}

pub fn run_train(args: &TrainArgs) -> anyhow::Result<()> {
    let config = load_config(args)?;
    let task = config.task;
    let (tx, rx) = crossbeam_channel::unbounded();
    // Ctrl-C stops the run cleanly: the trainer saves its `last` checkpoint and writes the end record,
    // so the run resumes. A second Ctrl-C quits at once (the run still resumes from its newest complete
    // checkpoint).
    let interrupts = std::sync::atomic::AtomicUsize::new(0);
    let handler = ctrlc::set_handler(move || {
        if interrupts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            eprintln!("\ninterrupted: stopping and saving the last checkpoint (Ctrl-C again to quit at once)");
            let _ = tx.send(crate::core::train::TrainerCommand::Stop);
        } else {
            std::process::exit(130);
        }
    });
    if let Err(e) = handler {
        tracing::warn!("Ctrl-C will not stop the run cleanly: {e}");
    }
    // The core's reducer follows the run; the lines below print as events arrive.
    let mut run = RunProgress::default();
    let mut stderr = std::io::stderr();
    let mut progress_shown = false;
    let end = run_training(
        config,
        args.resume.clone(),
        &mut |event| {
            match &event {
                TrainerEvent::Started { run_dir: dir, total_steps, start_step, unigram_loss, .. } => {
                    let _ = writeln!(stderr, "training in {} ({total_steps} steps, from step {start_step})", dir.display());
                    if let Some(loss) = unigram_loss {
                        let _ = writeln!(stderr, "unigram baseline: validation loss {loss:.4} (perplexity {:.1})", loss.exp());
                    }
                }
                TrainerEvent::Step(s) => {
                    progress_shown = true;
                    let eval = run
                        .last_validation()
                        .map_or(String::new(), |e| format!("  val {}", e.short_scores(task)));
                    let _ = write!(
                        stderr,
                        "\rstep {}/{}  epoch {:.2}  loss {:.4}  lr {:.2e}  {:.0} samples/s{eval}   ",
                        s.step, run.total_steps, s.epoch, s.loss, s.learning_rate, s.samples_per_sec
                    );
                }
                TrainerEvent::Log(m) => {
                    let _ = writeln!(stderr, "\n{m}");
                }
                _ => {}
            }
            run.apply(event);
        },
        &rx,
    );
    if progress_shown {
        let _ = writeln!(stderr);
    }
    let (status, step, message, test) = match &end {
        TrainerEvent::Finished { step, test } => ("finished", *step, String::new(), test.as_ref()),
        TrainerEvent::Stopped { step, reason } => ("stopped", *step, reason.clone(), None),
        TrainerEvent::Failed { error } => bail!("{error}"),
        other => bail!("the trainer ended unexpectedly: {other:?}"),
    };
    let summary = TrainSummary {
        run_dir: run.run_dir.as_ref(),
        task,
        status,
        step,
        message: &message,
        validation: run.last_validation(),
        validation_perplexity: run.last_validation().filter(|_| task == TrainTask::MaskedLm).map(EvalReport::perplexity),
        unigram_loss: run.unigram_loss,
        test,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&summary)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{status} at step {step}{}",
        if message.is_empty() { String::new() } else { format!(": {message}") }
    )?;
    if let Some(dir) = &run.run_dir {
        writeln!(out, "run folder: {}", dir.display())?;
    }
    for report in [run.last_validation(), test].into_iter().flatten() {
        writeln!(out, "{}: {}", report.split, report.scores(task))?;
    }
    if let Some(loss) = run.unigram_loss {
        writeln!(out, "unigram baseline: perplexity {:.1} · loss {loss:.4}", loss.exp())?;
    }
    Ok(())
}

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
    use crate::core::train::{chunk::chunk_split, mlm};
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
    let chunk_size = args.chunk_size.or(run.and_then(|r| r.chunk_size));
    let encode = |split: &crate::core::data::Split| -> anyhow::Result<crate::core::train::setup::EncodedSplit> {
        Ok(match chunk_size {
            Some(size) if size > model_max_length(model_config) => {
                bail!("chunk size {size} is longer than the model takes ({} positions)", model_max_length(model_config))
            }
            Some(size) => chunk_split(&tokenizer, split, size)?,
            None => encode_split(&tokenizer, split, max_length)?,
        })
    };
    let encoded = encode(split)?;
    if encoded.is_empty() {
        bail!("{}: the {shown_split} text fills no block of {} tokens", dataset.name, chunk_size.unwrap_or(max_length));
    }
    let pad_id = tokenizer.pad_token().map_or(model_config.pad_token_id, |(_, id)| id);
    let batch = run.map_or(args.batch_size, |r| r.batch_size * 2);
    let seed = mlm::evaluation_seed(args.seed.unwrap_or(run_config.seed));
    let report = mlm::evaluate_mlm(&loaded.model, &encoded, pad_id, &masking, batch, seed, (0, 0.0, shown_split))?;
    let unigram_loss = match dataset.split(SplitName::Train) {
        Some(train) if std::ptr::eq(train, split) => mlm::UnigramModel::of(&encoded, model_config.vocab_size),
        Some(train) => mlm::UnigramModel::of(&encode(train)?, model_config.vocab_size),
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
