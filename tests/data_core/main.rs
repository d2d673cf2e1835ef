//! Dataset core: real datasets from ../shared/data, Parquet round trips, small formats, bad input, CLI.

mod bad_input;
mod cli;
mod formats;
mod parquet;
mod real_data;
mod stats;

use std::path::{Path, PathBuf};

use lm_workbench::core::data::{load_dataset, DataResult, DataSpec, Dataset, DatasetOptions, SplitName};

/// A dataset folder of `../shared/data` (or `$LMW_SHARED_DATA`). Fails loudly when it is missing.
pub fn shared_data(name: &str) -> PathBuf {
    let base = std::env::var_os("LMW_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let dir = base.join(name);
    assert!(
        dir.is_dir(),
        "the shared dataset {} is missing: put shared/ beside the repository or set LMW_SHARED_DATA",
        dir.display()
    );
    dir
}

/// Options that keep the files' own splits (no held-out validation).
pub fn as_is() -> DatasetOptions {
    DatasetOptions { validation_fraction: 0.0, ..DatasetOptions::default() }
}

pub fn load(path: &Path, options: &DatasetOptions) -> DataResult<Dataset> {
    let spec = if path.is_dir() { DataSpec::Folder(path.to_path_buf()) } else { DataSpec::File(path.to_path_buf()) };
    load_dataset(&spec, options, &mut |_| {})
}

/// The error message of a load that must fail.
pub fn load_error(path: &Path, options: &DatasetOptions) -> String {
    match load(path, options) {
        Ok(d) => panic!(
            "{} loaded, with splits {:?}",
            path.display(),
            d.splits.iter().map(|s| (s.name, s.len())).collect::<Vec<_>>()
        ),
        Err(e) => e.to_string(),
    }
}

/// `(label name, count)` of a split.
pub fn counts(dataset: &Dataset, split: SplitName) -> Vec<(String, usize)> {
    dataset.label_names.iter().cloned().zip(dataset.label_counts(split)).collect()
}

pub fn rows(dataset: &Dataset, split: SplitName) -> usize {
    dataset.split(split).map_or(0, |s| s.len())
}

/// Writes a file into a folder and returns its path.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}
