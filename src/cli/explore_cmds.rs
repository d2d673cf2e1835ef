//! `lm-workbench attention | neighbours | embed --data … --project pca | ngram`: what the Embeddings
//! page shows, from the command line.

use std::io::{IsTerminal, Write};

use anyhow::{anyhow, bail};
use serde::Serialize;

use super::model_cmds::{load, print_json, ModelArg, PoolingArg};
use crate::core::data::{Dataset, SplitName};
use crate::core::embeddings::{attention_maps, project, sentence_vectors, word_neighbours, SentenceOptions, VocabIndex};
use crate::core::model::infer::Pooling;
use crate::core::model::{Task, TaskChoice};
use crate::core::ngram::{NgramModel, MAX_N};
use crate::core::train::setup::load_data;
use crate::core::train::TrainConfig;

#[derive(Debug, clap::Args)]
pub struct AttentionArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[arg(long)]
    pub text: String,
    /// Truncate the text to this many tokens.
    #[arg(long)]
    pub max_length: Option<usize>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct AttentionJson<'a> {
    tokens: &'a [String],
    ids: &'a [u32],
    /// [layer][head][query][key]
    attentions: &'a [Vec<Vec<Vec<f32>>>],
}

pub fn run_attention(args: &AttentionArgs) -> anyhow::Result<()> {
    let loaded = load(&args.model, TaskChoice::Task(Task::Base), None, true)?;
    let tokenizer = loaded.tokenizer()?;
    let maps = attention_maps(&loaded.model, &tokenizer, &args.text, args.max_length)?;
    if args.json {
        print_json(&AttentionJson { tokens: &maps.tokens, ids: &maps.ids, attentions: &maps.attentions })?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} layers × {} heads over {} tokens", maps.layers(), maps.heads(), maps.tokens.len())?;
    // What each token attends to most, averaged over the last layer's heads.
    if let Some(last) = maps.attentions.last() {
        for (q, token) in maps.tokens.iter().enumerate() {
            let mean: Vec<f32> =
                (0..maps.tokens.len()).map(|k| last.iter().map(|h| h[q][k]).sum::<f32>() / last.len() as f32).collect();
            let best = (0..mean.len()).max_by(|&a, &b| mean[a].total_cmp(&mean[b])).unwrap_or(0);
            writeln!(out, "  {token:<16} → {:<16} {:.3}", maps.tokens[best], mean[best])?;
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct NeighboursArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// A word (several tokens are searched by the mean of their embeddings).
    #[arg(long)]
    pub word: String,
    #[arg(long, default_value_t = 10)]
    pub top_k: usize,
    #[arg(long)]
    pub json: bool,
}

pub fn run_neighbours(args: &NeighboursArgs) -> anyhow::Result<()> {
    let loaded = load(&args.model, TaskChoice::Task(Task::Base), None, true)?;
    let tokenizer = loaded.tokenizer()?;
    let index = VocabIndex::new(&loaded.model, &tokenizer)?;
    let found = word_neighbours(&index, &tokenizer, &args.word, args.top_k)?;
    if args.json {
        print_json(&found)?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} = {}", found.word, found.tokens.join(" "))?;
    for n in &found.neighbours {
        writeln!(out, "  {:<20} {:>7}  {:.4}", n.token, n.id, n.cosine)?;
    }
    Ok(())
}

/// The rows a command reads: the named split of a dataset loaded without a validation hold-out.
fn dataset_rows(data: &str, split: &str) -> anyhow::Result<(Dataset, SplitName)> {
    let name =
        SplitName::from_name(split).ok_or_else(|| anyhow!("unknown split {split:?}: expected train, validation or test"))?;
    let config = TrainConfig { data: data.to_string(), validation_fraction: 0.0, ..TrainConfig::default() };
    let dataset = load_data(&config)?;
    if dataset.split(name).is_none() {
        let found: Vec<&str> = dataset.splits.iter().map(|s| s.name.as_str()).collect();
        bail!("{}: no {split} split (found: {})", dataset.name, found.join(", "));
    }
    Ok((dataset, name))
}

#[derive(Debug, clap::Args)]
pub struct ProjectArgsOpt {
    /// With --project: a dataset file, folder, Hub id or builtin:headlines whose rows are embedded and
    /// projected.
    #[arg(long)]
    pub data: Option<String>,
    /// With --project: the split whose rows are embedded.
    #[arg(long, default_value = "train")]
    pub split: String,
    /// The first N rows of the file or split (no validation hold-out is taken).
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long, default_value_t = 128)]
    pub max_length: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Scale each vector to unit length before projecting (sentence-transformers' Normalize).
    #[arg(long)]
    pub normalize: bool,
}

#[derive(Serialize)]
struct ProjectJson<'a> {
    pooling: &'static str,
    rows: usize,
    points: &'a [[f32; 2]],
    labels: Option<Vec<&'a str>>,
    explained_variance_ratio: &'a [f64],
}

pub fn run_projection(model: &ModelArg, pooling: PoolingArg, args: &ProjectArgsOpt, json: bool) -> anyhow::Result<()> {
    let data = args.data.as_deref().ok_or_else(|| anyhow!("--project needs --data"))?;
    let (dataset, name) = dataset_rows(data, &args.split)?;
    let split = dataset.split(name).ok_or_else(|| anyhow!("no {} split", args.split))?;
    let rows = args.limit.unwrap_or(usize::MAX).min(split.len());
    let loaded = load(model, TaskChoice::Task(Task::Base), None, true)?;
    let tokenizer = loaded.tokenizer()?;
    let (pool, pooling_name) = match pooling {
        PoolingArg::Cls => (Pooling::Cls, "cls"),
        PoolingArg::Mean => (Pooling::Mean, "mean"),
    };
    let options =
        SentenceOptions { pooling: pool, max_length: args.max_length, batch_size: args.batch_size, normalize: args.normalize };
    let show = std::io::stderr().is_terminal();
    let mut progress = |done: usize, total: usize| {
        if show {
            eprint!("\rembedding {done}/{total}");
        }
    };
    let vectors = sentence_vectors(&loaded.model, &tokenizer, &split.texts[..rows], &options, &mut progress, None)?;
    if show {
        eprintln!();
    }
    let projection = project(&vectors)?;
    let labels = split.labels.as_ref().map(|l| {
        l[..rows].iter().map(|&id| dataset.label_names.get(id as usize).map_or("", String::as_str)).collect::<Vec<_>>()
    });
    if json {
        print_json(&ProjectJson {
            pooling: pooling_name,
            rows,
            points: &projection.points,
            labels,
            explained_variance_ratio: &projection.pca.explained_variance_ratio,
        })?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let ratio = &projection.pca.explained_variance_ratio;
    writeln!(out, "{rows} rows, {pooling_name} pooling; PC1 {:.1} %, PC2 {:.1} % of the variance", 100.0 * ratio[0], 100.0 * ratio.get(1).unwrap_or(&0.0))?;
    for (i, p) in projection.points.iter().enumerate().take(20) {
        let label = labels.as_ref().map_or("", |l| l[i]);
        writeln!(out, "  {i:>5} {:>9.4} {:>9.4}  {label}", p[0], p[1])?;
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct NgramArgs {
    /// A dataset file, folder, Hub id or builtin:headlines: the text of every split's rows is counted.
    #[arg(long)]
    pub data: String,
    /// The order: 1 (unigram) to 4.
    #[arg(long, default_value_t = 2)]
    pub n: usize,
    /// The text so far; its last n − 1 words are the context.
    #[arg(long, default_value = "")]
    pub context: String,
    #[arg(long, default_value_t = 10)]
    pub top_k: usize,
    /// Add-k smoothing (0 = none).
    #[arg(long, default_value_t = 0.0)]
    pub add_k: f64,
    /// Also continue the context with this many sampled words.
    #[arg(long, default_value_t = 0)]
    pub sample: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct NgramJson<'a> {
    #[serde(flatten)]
    table: &'a crate::core::ngram::NextWords,
    vocabulary: usize,
    total_words: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample: Option<Vec<String>>,
}

pub fn run_ngram(args: &NgramArgs) -> anyhow::Result<()> {
    if !(1..=MAX_N).contains(&args.n) {
        bail!("--n must be 1 to {MAX_N}, got {}", args.n);
    }
    let config = TrainConfig { data: args.data.clone(), validation_fraction: 0.0, ..TrainConfig::default() };
    let dataset = load_data(&config)?;
    let model = NgramModel::new(dataset.splits.iter().flat_map(|s| s.texts.iter().map(String::as_str)));
    if model.total_words() == 0 {
        bail!("{}: the text column holds no words", dataset.name);
    }
    let table = model.next_words(args.n, &args.context, args.top_k, args.add_k).map_err(|e| anyhow!(e))?;
    let sample = (args.sample > 0).then(|| model.sample(args.n, &args.context, args.sample, args.add_k, args.seed));
    if args.json {
        print_json(&NgramJson { table: &table, vocabulary: model.vocabulary(), total_words: model.total_words(), sample })?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}-gram model of {} words ({} different); count({:?}) = {}",
        args.n,
        model.total_words(),
        model.vocabulary(),
        table.context.join(" "),
        table.context_count
    )?;
    for w in &table.next {
        writeln!(out, "  {:<20} {:>8}  {:.4}", w.word, w.count, w.p)?;
    }
    if let Some(words) = sample {
        writeln!(out, "sample: {} {}", args.context.trim(), words.join(" "))?;
    }
    Ok(())
}
