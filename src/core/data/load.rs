//! Loading a dataset: find the split files, pick the columns, read every file, turn labels into ids,
//! and hold out a validation split when the data has none. A plain function: the UI runs it on a
//! background thread and shows the [`LoadProgress`] it reports.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::columns::{resolve_columns, ColumnOptions};
use super::dataset::{ColumnMapping, Dataset, Split, SplitOrigin};
use super::error::{At, DataError, DataResult};
use super::labels::LabelSet;
use super::progress::{LoadProgress, ProgressSink};
use super::raw::{FileHeader, RawTable, Selection};
use super::spec::{resolve, DataSpec, FileFormat, SourceKind, SplitName, SplitSource};
use super::split::stratified_split;
use super::{csv_format, jsonl_format, parquet_format, text_format};

/// How to load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatasetOptions {
    pub columns: ColumnOptions,
    /// Share of train held out as validation when the data has no validation split (0 = none).
    pub validation_fraction: f64,
    /// Seed of the held-out split.
    pub seed: u64,
}

impl Default for DatasetOptions {
    fn default() -> Self {
        Self { columns: ColumnOptions::default(), validation_fraction: 0.1, seed: 42 }
    }
}

/// Loads a dataset into memory. See the module docs of [`crate::core::data`] for what is an error and
/// what is a warning. A Hub dataset is downloaded first (settings from the environment, see
/// [`super::load_hub_dataset`] for one with download progress and explicit settings).
pub fn load_dataset(
    spec: &DataSpec,
    options: &DatasetOptions,
    progress: &mut dyn FnMut(LoadProgress),
) -> DataResult<Dataset> {
    load_dataset_cancellable(spec, options, progress, None)
}

/// [`load_dataset`] that stops with [`DataError::Cancelled`] soon after `cancel` is set (checked
/// between batches of rows).
pub fn load_dataset_cancellable(
    spec: &DataSpec,
    options: &DatasetOptions,
    progress: &mut dyn FnMut(LoadProgress),
    cancel: Option<&AtomicBool>,
) -> DataResult<Dataset> {
    check_options(options)?;
    if let DataSpec::Hub { repo } = spec {
        let hub = crate::core::hub::HubSettings::from_env();
        return super::hub::load_hub_dataset(&hub, repo, options, &mut |_| {}, progress, cancel);
    }
    let sources = resolve(spec)?;
    load_sources(spec.label(), &sources, &HashMap::new(), options, progress, cancel)
}

pub(super) fn check_options(options: &DatasetOptions) -> DataResult<()> {
    if !(0.0..1.0).contains(&options.validation_fraction) {
        return Err(DataError::InvalidOption(format!(
            "the validation fraction must be at least 0 and below 1, not {}",
            options.validation_fraction
        )));
    }
    Ok(())
}

/// Reads the split files. `class_labels` gives ClassLabel names by column for files that carry none
/// themselves (from a Hub dataset card).
pub(super) fn load_sources(
    name: String,
    sources: &[SplitSource],
    class_labels: &HashMap<String, Vec<String>>,
    options: &DatasetOptions,
    progress: &mut dyn FnMut(LoadProgress),
    cancel: Option<&AtomicBool>,
) -> DataResult<Dataset> {
    check_options(options)?;
    let train_source = sources
        .iter()
        .find(|s| s.split == SplitName::Train)
        .ok_or_else(|| DataError::NoTrainSplit { path: name.clone().into(), found: Vec::new() })?;
    let first = &train_source.paths[0];
    let header = read_header(train_source.kind, first)?;
    let selection = resolve_columns(first, &header, &options.columns)?;
    let class_label =
        selection.label.as_ref().and_then(|l| header.class_labels.get(l).or_else(|| class_labels.get(l)).cloned());

    let total_bytes = sources.iter().map(source_bytes).sum::<DataResult<u64>>()?;
    let mut sink = ProgressSink::new(progress, cancel, total_bytes);
    let mut warnings = Vec::new();
    let mut read: Vec<(&SplitSource, Vec<RawTable>)> = Vec::new();
    for source in sources {
        let mut tables = Vec::new();
        for path in &source.paths {
            let file_selection = selection_for(source, path, &selection, &mut warnings)?;
            sink.check_cancel()?;
            let mut table = read_file(source.kind, path, &file_selection, &mut sink)?;
            warnings.append(&mut table.warnings);
            tables.push(table);
        }
        read.push((source, tables));
    }

    let label_set = selection.label.as_ref().map(|_| {
        let train: &[RawTable] =
            read.iter().find(|(s, _)| s.split == SplitName::Train).map_or(&[][..], |(_, t)| t.as_slice());
        let all: Vec<&RawTable> = read.iter().flat_map(|(_, t)| t.iter()).collect();
        LabelSet::build(train, &all, class_label)
    });

    let mut splits = Vec::new();
    for (source, tables) in read {
        splits.push(build_split(source, tables, label_set.as_ref(), selection.label.as_deref(), &mut warnings)?);
    }
    hold_out_validation(&mut splits, options);

    Ok(Dataset {
        name,
        source_kind: train_source.kind,
        source_paths: sources.iter().flat_map(|s| s.paths.iter().cloned()).collect(),
        splits,
        columns: header.columns,
        mapping: ColumnMapping { text: selection.text, pair: selection.pair, label: selection.label },
        label_kind: label_set.as_ref().map(|s| s.kind),
        label_names: label_set.map(|s| s.names).unwrap_or_default(),
        warnings,
    })
}

fn read_header(kind: SourceKind, path: &Path) -> DataResult<FileHeader> {
    match kind {
        SourceKind::Files(FileFormat::Csv) => csv_format::read_header(path, b','),
        SourceKind::Files(FileFormat::Tsv) => csv_format::read_header(path, b'\t'),
        SourceKind::Files(FileFormat::Jsonl) => jsonl_format::read_header(path),
        SourceKind::Files(FileFormat::Parquet) => parquet_format::read_header(path),
        SourceKind::Files(FileFormat::Text) => Ok(text_format::text_header()),
        SourceKind::ClassFolders => Ok(text_format::class_folders_header()),
    }
}

fn read_file(
    kind: SourceKind,
    path: &Path,
    selection: &Selection,
    sink: &mut ProgressSink<'_>,
) -> DataResult<RawTable> {
    match kind {
        SourceKind::Files(FileFormat::Csv) => csv_format::read(path, b',', selection, sink),
        SourceKind::Files(FileFormat::Tsv) => csv_format::read(path, b'\t', selection, sink),
        SourceKind::Files(FileFormat::Jsonl) => jsonl_format::read(path, selection, sink),
        SourceKind::Files(FileFormat::Parquet) => parquet_format::read(path, selection, sink),
        SourceKind::Files(FileFormat::Text) => text_format::read_lines(path, sink),
        SourceKind::ClassFolders => {
            let mut table = text_format::read_class_folders(path, sink)?;
            if selection.label.is_none() {
                table.labels = None;
            }
            Ok(table)
        }
    }
}

/// The train selection, less the label column where a validation or test file has none (that split
/// is then unlabeled, with a warning).
fn selection_for(
    source: &SplitSource,
    path: &Path,
    selection: &Selection,
    warnings: &mut Vec<String>,
) -> DataResult<Selection> {
    let Some(label) = selection.label.as_deref() else {
        return Ok(selection.clone());
    };
    if source.split == SplitName::Train || matches!(source.kind, SourceKind::ClassFolders) {
        return Ok(selection.clone());
    }
    let header = read_header(source.kind, path)?;
    if header.columns.iter().any(|c| c == label) {
        return Ok(selection.clone());
    }
    warnings.push(format!("{}: no {label:?} column; the {} split is unlabeled", path.display(), source.split));
    Ok(Selection { label: None, ..selection.clone() })
}

fn source_bytes(source: &SplitSource) -> DataResult<u64> {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).map_err(|e| DataError::io(p, e));
    match source.kind {
        SourceKind::ClassFolders => {
            let mut total = 0;
            for dir in &source.paths {
                for (_, files) in text_format::list_class_folders(dir)? {
                    for file in files {
                        total += size(&file)?;
                    }
                }
            }
            Ok(total)
        }
        SourceKind::Files(_) => source.paths.iter().map(|p| size(p)).sum(),
    }
}

/// Concatenates a split's files and maps labels to ids. Rows with a missing label are skipped (with a
/// warning); a split whose label cells are all missing is kept unlabeled, except train (an error).
fn build_split(
    source: &SplitSource,
    tables: Vec<RawTable>,
    label_set: Option<&LabelSet>,
    label_column: Option<&str>,
    warnings: &mut Vec<String>,
) -> DataResult<Split> {
    let mut split = Split {
        name: source.split,
        origin: SplitOrigin::Files,
        paths: source.paths.clone(),
        texts: Vec::new(),
        pairs: tables.first().and_then(|t| t.pairs.as_ref()).map(|_| Vec::new()),
        labels: None,
    };
    let mut ids_per_table = Vec::new();
    if let (Some(set), Some(column)) = (label_set, label_column) {
        if tables.iter().all(|t| t.labels.is_some()) {
            for table in &tables {
                ids_per_table.push(set.map(table, source.split, column)?);
            }
        }
    }
    let labeled = !ids_per_table.is_empty() && ids_per_table.iter().flatten().any(Option::is_some);
    if !ids_per_table.is_empty() && !labeled {
        let column = label_column.unwrap_or_default();
        if source.split == SplitName::Train {
            return Err(DataError::Malformed {
                at: At::file(&source.paths[0]).column(column),
                message: "every label cell is empty; name another label column, or none".into(),
            });
        }
        warnings.push(format!(
            "{}: every {column:?} cell is empty; the {} split is unlabeled",
            source.paths[0].display(),
            source.split
        ));
    }
    let mut labels = Vec::new();
    for (t, table) in tables.into_iter().enumerate() {
        let ids = ids_per_table.get(t).filter(|_| labeled);
        let missing: Vec<usize> =
            ids.map(|ids| (0..ids.len()).filter(|&i| ids[i].is_none()).collect()).unwrap_or_default();
        if let Some(&first) = missing.first() {
            warnings.push(format!(
                "{}: skipped {} row(s) with an empty {:?} cell (the first at {})",
                table.path.display(),
                missing.len(),
                label_column.unwrap_or_default(),
                table.place(first)
            ));
        }
        let keep = |i: usize| ids.is_none_or(|ids| ids[i].is_some());
        let RawTable { texts, pairs, .. } = table;
        if let (Some(all), Some(pairs)) = (split.pairs.as_mut(), pairs) {
            all.extend(pairs.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, p)| p));
        }
        split.texts.extend(texts.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, t)| t));
        if let Some(ids) = ids {
            labels.extend(ids.iter().flatten().copied());
        }
    }
    if labeled {
        split.labels = Some(labels);
    }
    Ok(split)
}

/// Adds a validation split held out from train when there is none and the fraction is above 0.
fn hold_out_validation(splits: &mut Vec<Split>, options: &DatasetOptions) {
    if options.validation_fraction <= 0.0 || splits.iter().any(|s| s.name == SplitName::Validation) {
        return;
    }
    let Some(position) = splits.iter().position(|s| s.name == SplitName::Train) else {
        return;
    };
    let train = splits.remove(position);
    let (_, held) = stratified_split(train.len(), train.labels.as_deref(), options.validation_fraction, options.seed);
    if held.is_empty() {
        splits.insert(position, train);
        return;
    }
    let mut flags = vec![false; train.len()];
    for row in held {
        flags[row] = true;
    }
    let origin =
        SplitOrigin::HeldOut { from: SplitName::Train, fraction: options.validation_fraction, seed: options.seed };
    let (train, validation) = train.divide(&flags, SplitName::Validation, origin);
    splits.insert(position, train);
    splits.insert(position + 1, validation);
}
