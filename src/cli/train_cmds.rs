//! `lm-workbench train`: the trainer from the command line. It reads a run.toml (the TrainConfig
//! fields) and/or flags (flags win), shows a one-line progress on stderr and prints a summary
//! (`--json`: one JSON object) on stdout. `eval` (eval_cmd.rs) scores its checkpoints.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use serde::Serialize;

use crate::core::train::progress::RunProgress;
use crate::core::train::{run_training, EvalEvery, EvalReport, TrainConfig, TrainTask, TrainerEvent};

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
