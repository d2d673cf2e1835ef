//! `lm-workbench data inspect`: load a dataset and summarize its splits, columns, labels and token lengths.

use std::io::{IsTerminal, Write};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::core::data::{
    list_hub_dataset, load_dataset, load_hub_dataset, token_length_stats, HubDataSource, ColumnMapping, ColumnOptions, ColumnPick, DataSpec, Dataset, LabelKind,
    DatasetOptions, SourceKind, SplitOrigin, TokenLengthStats,
};
use crate::core::hub::HubSettings;
use crate::core::model_source::{load_model, ModelSpec};

#[derive(Debug, clap::Args)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Load a dataset and show its splits, columns, labels and (with --tokenizer) token lengths.
    Inspect(InspectArgs),
    /// List a Hugging Face Hub dataset's configs, splits and files (from the cache when offline).
    Hub(HubArgs),
}

#[derive(Debug, clap::Args)]
pub struct HubArgs {
    /// The dataset, `owner/name`.
    pub repo: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A data file (.csv, .tsv, .jsonl, .parquet, .txt), a folder (split files or class folders), or a
    /// Hugging Face Hub dataset `owner/name` or `owner/name:config` (downloaded into the HF cache;
    /// HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE and HF_TOKEN apply).
    #[arg(long)]
    pub data: String,
    /// The text column (detected by name when left out).
    #[arg(long)]
    pub text_column: Option<String>,
    /// The second text column of a sentence-pair dataset (detected when left out).
    #[arg(long)]
    pub pair_column: Option<String>,
    /// The label column (detected when left out).
    #[arg(long, conflicts_with = "no_label")]
    pub label_column: Option<String>,
    /// Treat the dataset as unlabeled.
    #[arg(long)]
    pub no_label: bool,
    /// A tokenizer for token-length statistics: a model folder, a Hub repo id or builtin:demo.
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// The sequence length to compare token lengths with.
    #[arg(long, default_value_t = 512)]
    pub max_length: usize,
    /// Share of train held out as validation when the data has no validation split.
    #[arg(long, default_value_t = 0.1)]
    pub validation_fraction: f64,
    /// Seed of that held-out split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct InspectJson<'a> {
    data: &'a str,
    source: SourceKind,
    files: Vec<String>,
    columns: &'a [String],
    mapping: &'a ColumnMapping,
    label_kind: Option<LabelKind>,
    labels: &'a [String],
    tokenizer: Option<String>,
    splits: Vec<SplitJson<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct SplitJson<'a> {
    name: &'static str,
    rows: usize,
    origin: &'a SplitOrigin,
    /// Label name → rows, in label order (empty for an unlabeled split).
    label_counts: OrderedCounts,
    token_lengths: Option<TokenLengthStats>,
}

/// A JSON object that keeps its keys in the given order.
struct OrderedCounts(Vec<(String, usize)>);

impl Serialize for OrderedCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

pub fn run(args: &DataArgs) -> anyhow::Result<()> {
    match &args.command {
        DataCommand::Inspect(inspect) => run_inspect(inspect),
        DataCommand::Hub(hub) => run_hub(hub),
    }
}

fn run_hub(args: &HubArgs) -> anyhow::Result<()> {
    let listing = list_hub_dataset(&HubSettings::from_env(), &args.repo)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let _ = writeln!(out, "{}", serde_json::to_string(&listing)?);
        return Ok(());
    }
    let source = match listing.source {
        HubDataSource::RepoFiles => "the repo's own files",
        HubDataSource::ConvertedParquet => "the Hub's Parquet conversion",
    };
    let _ = writeln!(out, "dataset  {} ({source}, revision {})", listing.repo, listing.revision);
    for config in &listing.configs {
        let _ = writeln!(out, "\nconfig {} ({})", config.name, size(config.bytes()));
        for split in &config.splits {
            let note = match (split.split, split.partial) {
                (None, _) => " (not loaded: not train, validation or test)",
                (_, true) => " (partly converted)",
                _ => "",
            };
            let files = split.files.len();
            let _ = writeln!(
                out,
                "  {:<14} {files:>4} file{} {:>10}{note}",
                split.name,
                if files == 1 { " " } else { "s" },
                size(split.bytes())
            );
        }
    }
    Ok(())
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / f64::from(1 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} B"),
    }
}

fn run_inspect(args: &InspectArgs) -> anyhow::Result<()> {
    let pick = |name: &Option<String>| name.clone().map_or(ColumnPick::Auto, ColumnPick::Named);
    let options = DatasetOptions {
        columns: ColumnOptions {
            text: args.text_column.clone(),
            pair: pick(&args.pair_column),
            label: if args.no_label { ColumnPick::Off } else { pick(&args.label_column) },
        },
        validation_fraction: args.validation_fraction,
        seed: args.seed,
    };
    let spec = DataSpec::parse(&args.data)?;
    let show_progress = !args.json && std::io::stderr().is_terminal();
    let mut on_read = |p: crate::core::data::LoadProgress| {
        if show_progress {
            eprint!("\rreading {}: {:>3.0}%", p.file.display(), 100.0 * p.fraction());
        }
    };
    let dataset = match &spec {
        DataSpec::Hub { repo } => {
            let mut on_download = |p: crate::core::hub::download::FileProgress| {
                if show_progress {
                    let percent = if p.total == 0 { 100.0 } else { 100.0 * p.bytes as f64 / p.total as f64 };
                    eprint!("\rdownloading {}: {percent:>3.0}%", p.file);
                    if p.done {
                        eprintln!();
                    }
                }
            };
            load_hub_dataset(&HubSettings::from_env(), repo, &options, &mut on_download, &mut on_read, None)?
        }
        _ => load_dataset(&spec, &options, &mut on_read)?,
    };
    if show_progress {
        eprintln!();
    }
    let tokenizer = match &args.tokenizer {
        Some(spec) => Some(load_model(&ModelSpec::parse(spec)?, &HubSettings::from_env(), &mut |_, _| {})?),
        None => None,
    };
    let mut splits = Vec::new();
    for split in &dataset.splits {
        let counts = dataset.label_counts(split.name);
        let label_counts = match split.labels {
            Some(_) => dataset.label_names.iter().cloned().zip(counts).collect(),
            None => Vec::new(),
        };
        let token_lengths = match &tokenizer {
            Some(model) => Some(token_length_stats(&model.tokenizer, split, args.max_length)?),
            None => None,
        };
        splits.push(SplitJson {
            name: split.name.as_str(),
            rows: split.len(),
            origin: &split.origin,
            label_counts: OrderedCounts(label_counts),
            token_lengths,
        });
    }
    let report = InspectJson {
        data: &dataset.name,
        source: dataset.source_kind,
        files: dataset.source_paths.iter().map(|p| p.display().to_string()).collect(),
        columns: &dataset.columns,
        mapping: &dataset.mapping,
        label_kind: dataset.label_kind,
        labels: &dataset.label_names,
        tokenizer: tokenizer.as_ref().map(|m| m.name.clone()),
        splits,
        warnings: &dataset.warnings,
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth a message.
    let _ = if args.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)
    } else {
        print_text(&mut out, &report, &dataset)
    };
    Ok(())
}

fn print_text(out: &mut impl Write, report: &InspectJson<'_>, dataset: &Dataset) -> std::io::Result<()> {
    writeln!(out, "dataset  {}", report.data)?;
    writeln!(out, "columns  {}", report.columns.join(", "))?;
    let m = report.mapping;
    writeln!(
        out,
        "using    text={}{}{}",
        m.text,
        m.pair.as_ref().map_or(String::new(), |p| format!(" pair={p}")),
        m.label.as_ref().map_or(String::new(), |l| format!(" label={l}"))
    )?;
    if let Some(tokenizer) = &report.tokenizer {
        writeln!(out, "tokens   by {tokenizer}")?;
    }
    for split in &report.splits {
        writeln!(out, "\n{} ({} rows)", split.name, split.rows)?;
        for (name, count) in &split.label_counts.0 {
            writeln!(out, "  {name:<30} {count:>8}")?;
        }
        if let Some(s) = &split.token_lengths {
            writeln!(
                out,
                "  tokens: mean {:.1}, median {:.1}, p95 {}, max {}; {:.1}% longer than {}",
                s.mean,
                s.median,
                s.p95,
                s.max,
                100.0 * s.over_max_share,
                s.max_length
            )?;
        }
    }
    for warning in &dataset.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}
