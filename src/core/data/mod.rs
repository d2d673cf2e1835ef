//! Datasets for classification and masked-language-model training: reading CSV/TSV, JSON Lines,
//! Parquet, plain text and class folders into memory, with column detection, label ids, splits,
//! token-length statistics and loading progress. UI-free.
//!
//! ```text
//! use lm_workbench::core::data::{load_dataset, DataSpec, DatasetOptions, SplitName};
//! let spec = DataSpec::parse("data/bbc-news").unwrap();
//! let dataset = load_dataset(&spec, &DatasetOptions::default(), &mut |p| eprintln!("{:.0}%", 100.0 * p.fraction())).unwrap();
//! println!("{} train rows, labels {:?}", dataset.split(SplitName::Train).unwrap().len(), dataset.label_names);
//! ```
//!
//! [`load_dataset`] is a plain blocking function that reports [`LoadProgress`]; the UI runs it on a
//! background thread, and can stop it with [`load_dataset_cancellable`]. Label name order is described
//! in `labels.rs` (ClassLabel order, else numeric for integers, else sorted strings), column detection
//! in `columns.rs`, folder layouts in `spec.rs`, the held-out split in `split.rs`.
//!
//! # Errors and warnings
//!
//! Loading stops with a [`DataError`] that names the file and, where it applies, the row (see [`At`]
//! for how rows and lines are counted) and the column, for:
//! - a missing file or folder, an unknown file type, an empty file, a header without rows;
//! - a CSV record with a different number of fields than the header, malformed JSON, a JSON line that
//!   is not an object or lacks the text/label field, a value of the wrong type (e.g. a number as text,
//!   a null text), bytes that are not UTF-8 (in the columns read);
//! - a named column that does not exist (the message lists the available ones), or no column that
//!   looks like text;
//! - a truncated or corrupt Parquet file;
//! - a label in validation/test that train does not have, or a value outside the ClassLabel names;
//! - a train split whose label cells are all empty;
//! - a folder without split files or class folders, without a train split, or with two file types
//!   for one split;
//! - a Hub dataset that does not exist (or is private), that has no data files and no Parquet
//!   conversion, that is not cached while offline, or a config it does not have.
//!
//! Loading goes on and adds a line to [`Dataset::warnings`] for:
//! - blank lines in text and JSON Lines files (skipped; the count is given);
//! - rows whose label cell is empty (skipped; the count and the first row are given);
//! - a validation/test file without the label column, or with every label cell empty (the split is
//!   kept without labels);
//! - empty `.txt` files and class folders without `.txt` files (skipped);
//! - Hub splits other than train/validation/test (left out), a split the Hub converted only in part,
//!   and a config picked among several because none was named.

mod card;
mod columns;
mod csv_format;
mod dataset;
mod error;
mod hub;
mod hub_layout;
mod jsonl_format;
mod labels;
mod load;
mod parquet_format;
mod progress;
mod raw;
mod spec;
mod split;
mod stats;
mod text_format;

pub use card::{card_class_labels, readme_metadata};
pub use columns::{ColumnOptions, ColumnPick};
pub use dataset::{ColumnMapping, Dataset, PreviewRow, Split, SplitOrigin};
pub use error::{At, DataError, DataResult};
pub use hub_layout::{card_configs, discover_converted, discover_repo_files};
pub use hub::{
    fetch_hub_config, list_hub_dataset, load_hub_config, load_hub_dataset,
    HubConfig, HubDataListing, HubDataSource, HubSplit, CONVERTED_REVISION,
};
pub use labels::LabelKind;
pub use load::{load_dataset, load_dataset_cancellable, DatasetOptions};
pub use parquet_format::{class_labels_from_hf_json, HF_METADATA_KEY};
pub use progress::LoadProgress;
pub use spec::{split_hub_spec, DataSpec, FileFormat, SourceKind, SplitName};
pub use split::stratified_split;
pub use stats::{
    stats_from_lengths, token_length_stats, token_lengths, HistogramBin, TokenLengthStats, DEFAULT_BIN_EDGES,
};
