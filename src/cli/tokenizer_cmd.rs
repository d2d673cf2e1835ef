//! `lm-workbench train-tokenizer`: a WordPiece, byte-level BPE or unigram tokenizer (with BERT's special
//! tokens) trained on a dataset's text, saved in the Hugging Face layout.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use serde::Serialize;

use super::model_cmds::print_json;
use crate::core::text::tokenizer_train::{save_trained, train_tokenizer, CoverageReport, SubwordModel, TokenizerTrainSettings};
use crate::core::train::setup::load_data;
use crate::core::train::TrainConfig;

#[derive(Debug, Args)]
pub struct TrainTokenizerArgs {
    /// A dataset file, folder, Hub id or builtin:headlines: the text of its train split is read.
    #[arg(long)]
    pub data: String,
    #[arg(long, default_value_t = 30_000)]
    pub vocab_size: usize,
    /// A pair seen fewer times is never merged (wordpiece and bpe).
    #[arg(long, default_value_t = 2)]
    pub min_frequency: u64,
    /// wordpiece (BERT's), bpe (byte-level, as GPT-2 and RoBERTa) or unigram (as SentencePiece).
    #[arg(long, default_value = "wordpiece")]
    pub model_type: String,
    /// Keep case (and accents): a cased tokenizer. Default: uncased, as bert-base-uncased.
    #[arg(long)]
    pub cased: bool,
    /// Strip accents (true/false); default: when lower-casing, as BERT.
    #[arg(long)]
    pub strip_accents: Option<bool>,
    /// The special tokens, first in the vocabulary in this order (comma-separated; must include
    /// [UNK], [CLS] and [SEP]).
    #[arg(long, value_delimiter = ',', default_value = "[PAD],[UNK],[CLS],[SEP],[MASK]")]
    pub special_tokens: Vec<String>,
    /// The folder to write tokenizer.json, tokenizer_config.json, special_tokens_map.json (and vocab.txt
    /// for wordpiece) to.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct TrainTokenizerJson<'a> {
    out: &'a std::path::Path,
    vocab_size: usize,
    files: Vec<PathBuf>,
    settings: &'a TokenizerTrainSettings,
    coverage: &'a CoverageReport,
}

pub fn run(args: &TrainTokenizerArgs) -> anyhow::Result<()> {
    let Some(model) = SubwordModel::parse(&args.model_type) else {
        bail!("--model-type {}: not a tokenizer kind (wordpiece, bpe or unigram)", args.model_type);
    };
    let settings = TokenizerTrainSettings {
        model,
        vocab_size: args.vocab_size,
        min_frequency: args.min_frequency,
        lowercase: !args.cased,
        strip_accents: args.strip_accents,
        special_tokens: args.special_tokens.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
    };
    let config = TrainConfig { data: args.data.clone(), validation_fraction: 0.0, ..TrainConfig::default() };
    let dataset = load_data(&config)?;
    let Some(train) = dataset.train_or_first() else {
        bail!("{}: no rows to learn from", dataset.name);
    };
    let mut last_stage = String::new();
    let trained = train_tokenizer(train.texts.iter().map(String::as_str), &settings, &mut |stage, _| {
        if !args.json && stage != last_stage {
            eprintln!("{stage}…");
            last_stage = stage.to_string();
        }
        true
    })?;
    let files = save_trained(&trained, &args.out)?;
    let report = &trained.report;
    if args.json {
        print_json(&TrainTokenizerJson { out: &args.out, vocab_size: trained.vocab.len(), files, settings: &settings, coverage: report })?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} {} tokens learnt from {} words ({} different) in {}; wrote {}",
        trained.vocab.len(),
        model.name(),
        report.words,
        report.distinct_words,
        dataset.name,
        args.out.display()
    )?;
    writeln!(
        out,
        "{:.3} tokens per word · {:.1}% of words are one token · [UNK] {:.3}% of tokens",
        report.tokens_per_word,
        100.0 * report.whole_word_share,
        100.0 * report.unk_rate
    )?;
    writeln!(out, "most frequent words it splits:")?;
    for w in report.most_split.iter().take(10) {
        writeln!(out, "  {:<16} {:>8}×  {}", w.word, w.count, w.pieces.join(" "))?;
    }
    Ok(())
}
