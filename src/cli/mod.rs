//! The headless command line over the same core as the app.

mod data;
mod tokenize;

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
}

/// Exit code for bad input (missing folder, no tokenizer, corrupt file, repo not cached offline).
pub const EXIT_BAD_INPUT: i32 = 2;

/// Runs a subcommand; returns the process exit code. Errors are one line on stderr.
pub fn run(command: CliCommand) -> i32 {
    let result: anyhow::Result<()> = match command {
        CliCommand::Tokenize(args) => tokenize::run(&args).map_err(Into::into),
        CliCommand::Data(args) => data::run(&args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}
