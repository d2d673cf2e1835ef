//! The headless command line over the same core as the app.

mod bench_cmd;
mod data;
mod eval_cmd;
mod explore_cmds;
mod model_cmds;
mod tokenize;
mod tokenizer_cmd;
mod train_cmds;

use clap::{Parser, Subcommand};

/// LM Workbench: see how text becomes token IDs, fine-tune small language models, play with fill-mask.
/// Without a subcommand, the desktop app opens.
#[derive(Debug, Parser)]
#[command(name = "lm-workbench", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Encode a text (or a pair) as transformers' tokenizer call does.
    Tokenize(tokenize::TokenizeArgs),
    /// Look into a dataset (`data inspect`).
    Data(data::DataArgs),
    /// Count a model's parameters, total and trainable, per module.
    Params(model_cmds::ParamsArgs),
    /// Predict the masked tokens of a text, as transformers' fill-mask pipeline.
    FillMask(model_cmds::FillMaskArgs),
    /// The sentence vector of a text (mean or [CLS] pooling of the last hidden state), or with --data and
    /// --project pca the 2D projection of a dataset's sentence vectors.
    Embed(model_cmds::EmbedArgs),
    /// Attention weights of a text, every layer and head (as transformers' output_attentions).
    Attention(explore_cmds::AttentionArgs),
    /// The vocabulary tokens nearest to a word by cosine of the input embeddings.
    Neighbours(explore_cmds::NeighboursArgs),
    /// Next-word counts and probabilities of a count-based n-gram model built from a dataset's text.
    Ngram(explore_cmds::NgramArgs),
    /// Label probabilities of a sequence classifier.
    Predict(model_cmds::PredictArgs),
    /// Fine-tune a classifier (or pre-train a masked LM) from a run.toml and/or flags.
    Train(Box<train_cmds::TrainArgs>),
    /// Score a checkpoint on a dataset split: a classifier by accuracy, macro-F1, per-class scores and
    /// the confusion matrix; a masked LM by perplexity and masked-token accuracy beside the unigram baseline.
    Eval(eval_cmd::EvalArgs),
    /// Train a tokenizer for a BERT (WordPiece, byte-level BPE or unigram) on a dataset's text
    /// (deterministic) and save it in the Hugging Face layout.
    TrainTokenizer(tokenizer_cmd::TrainTokenizerArgs),
    /// Time training steps of a model on synthetic batches (a benchmark; see scripts/bench-step.sh).
    BenchStep(bench_cmd::BenchStepArgs),
}

/// Exit code for bad input (missing folder, no tokenizer, corrupt file, repo not cached offline).
pub const EXIT_BAD_INPUT: i32 = 2;

/// Runs a subcommand; returns the process exit code. Errors are one line on stderr.
pub fn run(command: CliCommand) -> i32 {
    let result: anyhow::Result<()> = match command {
        CliCommand::Tokenize(args) => tokenize::run(&args).map_err(Into::into),
        CliCommand::Data(args) => data::run(&args),
        CliCommand::Params(args) => model_cmds::run_params(&args).map_err(Into::into),
        CliCommand::FillMask(args) => model_cmds::run_fill_mask(&args).map_err(Into::into),
        CliCommand::Embed(args) => model_cmds::run_embed(&args),
        CliCommand::Attention(args) => explore_cmds::run_attention(&args),
        CliCommand::Neighbours(args) => explore_cmds::run_neighbours(&args),
        CliCommand::Ngram(args) => explore_cmds::run_ngram(&args),
        CliCommand::Predict(args) => model_cmds::run_predict(&args).map_err(Into::into),
        CliCommand::Train(args) => train_cmds::run_train(&args),
        CliCommand::Eval(args) => eval_cmd::run_eval(&args),
        CliCommand::TrainTokenizer(args) => tokenizer_cmd::run(&args),
        CliCommand::BenchStep(args) => bench_cmd::run(&args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}
