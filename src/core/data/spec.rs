//! What the user names (a file, a folder, a Hub dataset) and which files make which split.
//!
//! Folder rules, in order:
//! 1. Data files in the folder (or, failing that, in its `data/` sub-folder, the Hub layout) whose name
//!    starts with a split name: `train`/`training`; `validation`/`valid`/`val`/`dev`; `test`/`testing`,
//!    alone or followed by `-`, `_` or `.` (so `train-00000-of-00002.parquet` shards are read in name
//!    order). One split may not mix file types (`train.csv` with `train.jsonl` is an error).
//! 2. Otherwise, sub-folders named after splits (`train/`, `test/`, ...), each holding class folders.
//! 3. Otherwise, class folders: each sub-folder is a class and holds `.txt` files, one example each.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::{DataError, DataResult};
use super::text_format::{file_name, list_class_folders, sorted_entries};

/// A dataset named by the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DataSpec {
    /// One data file: it becomes the train split.
    File(PathBuf),
    /// A folder with split files or class folders (see the module docs).
    Folder(PathBuf),
    /// A Hugging Face Hub dataset id, `owner/name` or `owner/name:config` (see `hub.rs`).
    Hub { repo: String },
}

impl DataSpec {
    /// Reads a spec as the user typed it: `hub:owner/name` is a Hub dataset; an existing file or folder
    /// is local; a missing path that looks like `owner/name` (optionally `owner/name:config`) is a Hub
    /// dataset; anything else is "not found".
    pub fn parse(spec: &str) -> DataResult<Self> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(DataError::InvalidSpec { spec: spec.into(), message: "empty".into() });
        }
        if let Some(repo) = spec.strip_prefix("hub:") {
            return Ok(Self::Hub { repo: repo.to_string() });
        }
        let path = PathBuf::from(spec);
        if path.is_dir() {
            return Ok(Self::Folder(path));
        }
        if path.is_file() {
            return Ok(Self::File(path));
        }
        let (repo, config) = split_hub_spec(spec);
        if looks_like_dataset_id(repo) && config.is_none_or(looks_like_config) {
            return Ok(Self::Hub { repo: spec.to_string() });
        }
        Err(DataError::NotFound { path })
    }

    pub fn label(&self) -> String {
        match self {
            Self::File(path) | Self::Folder(path) => path.display().to_string(),
            Self::Hub { repo } => repo.clone(),
        }
    }
}

/// `owner/name:config` → (`owner/name`, `Some("config")`); without a `:` the config is `None`.
pub fn split_hub_spec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once(':') {
        Some((repo, config)) => (repo, Some(config)),
        None => (spec, None),
    }
}

fn looks_like_config(config: &str) -> bool {
    !config.is_empty() && config.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn looks_like_dataset_id(spec: &str) -> bool {
    let parts: Vec<&str> = spec.split('/').collect();
    let allowed = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    !spec.starts_with(['.', '/', '~'])
        && parts.len() == 2
        && parts.iter().all(|p| allowed(p) && !p.contains(".."))
        && FileFormat::from_path(Path::new(spec)).is_none()
}

/// A dataset split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitName {
    Train,
    Validation,
    Test,
}

impl SplitName {
    pub const ALL: [SplitName; 3] = [Self::Train, Self::Validation, Self::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Validation => "validation",
            Self::Test => "test",
        }
    }

    /// The split a file or folder name stands for (see the module docs).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        let head = name.split(['-', '_', '.']).next().unwrap_or_default();
        match head {
            "train" | "training" => Some(Self::Train),
            "validation" | "valid" | "val" | "dev" => Some(Self::Validation),
            "test" | "testing" => Some(Self::Test),
            _ => None,
        }
    }
}

impl std::fmt::Display for SplitName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data file format, from the file name's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Tsv,
    /// JSON Lines (`.jsonl`, `.ndjson`, `.json`).
    Jsonl,
    Parquet,
    /// Plain text, one example per line (`.txt`).
    Text,
}

impl FileFormat {
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => Self::Csv,
            "tsv" | "tab" => Self::Tsv,
            "jsonl" | "ndjson" | "json" => Self::Jsonl,
            "parquet" | "pq" => Self::Parquet,
            "txt" | "text" => Self::Text,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Tsv => "tsv",
            Self::Jsonl => "jsonl",
            Self::Parquet => "parquet",
            Self::Text => "text",
        }
    }
}

/// How a split's files are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Files(FileFormat),
    /// A folder of class sub-folders of `.txt` files.
    ClassFolders,
}

/// The files of one split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitSource {
    pub split: SplitName,
    pub kind: SourceKind,
    /// Data files (read in this order), or the one folder of class folders.
    pub paths: Vec<PathBuf>,
}

/// Finds the splits of a local spec.
pub fn resolve(spec: &DataSpec) -> DataResult<Vec<SplitSource>> {
    match spec {
        DataSpec::Hub { repo } => Err(DataError::InvalidSpec {
            spec: repo.clone(),
            message: "a Hub dataset is downloaded first (see hub.rs), not resolved as a local path".into(),
        }),
        DataSpec::File(path) => {
            if !path.is_file() {
                return Err(DataError::NotFound { path: path.clone() });
            }
            let format = FileFormat::from_path(path).ok_or_else(|| DataError::UnknownFormat { path: path.clone() })?;
            Ok(vec![SplitSource {
                split: SplitName::Train,
                kind: SourceKind::Files(format),
                paths: vec![path.clone()],
            }])
        }
        DataSpec::Folder(dir) => resolve_folder(dir),
    }
}

fn resolve_folder(dir: &Path) -> DataResult<Vec<SplitSource>> {
    if !dir.is_dir() {
        return Err(DataError::NotFound { path: dir.to_path_buf() });
    }
    let entries = sorted_entries(dir)?;
    let mut sources = split_files(dir, &entries)?;
    let data_dir = dir.join("data");
    if sources.is_empty() && data_dir.is_dir() {
        sources = split_files(&data_dir, &sorted_entries(&data_dir)?)?;
    }
    if sources.is_empty() {
        sources = split_folders(&entries)?;
    }
    if sources.is_empty() && list_class_folders(dir)?.iter().any(|(_, files)| !files.is_empty()) {
        sources.push(SplitSource {
            split: SplitName::Train,
            kind: SourceKind::ClassFolders,
            paths: vec![dir.to_path_buf()],
        });
    }
    if sources.is_empty() {
        let found = entries.iter().map(|p| file_name(p) + if p.is_dir() { "/" } else { "" }).collect();
        return Err(DataError::NoSplitFiles { path: dir.to_path_buf(), found });
    }
    if !sources.iter().any(|s| s.split == SplitName::Train) {
        let found = sources.iter().flat_map(|s| s.paths.iter().map(|p| file_name(p))).collect();
        return Err(DataError::NoTrainSplit { path: dir.to_path_buf(), found });
    }
    sources.sort_by_key(|s| s.split);
    Ok(sources)
}

/// Split files directly in `dir`.
fn split_files(dir: &Path, entries: &[PathBuf]) -> DataResult<Vec<SplitSource>> {
    let mut sources: Vec<SplitSource> = Vec::new();
    for path in entries.iter().filter(|p| p.is_file()) {
        let name = file_name(path);
        let (Some(split), Some(format)) = (SplitName::from_name(&name), FileFormat::from_path(path)) else {
            continue;
        };
        match sources.iter_mut().find(|s| s.split == split) {
            Some(source) if source.kind == SourceKind::Files(format) => source.paths.push(path.clone()),
            Some(source) => {
                let mut files: Vec<String> = source.paths.iter().map(|p| file_name(p)).collect();
                files.push(name);
                return Err(DataError::DuplicateSplit { path: dir.to_path_buf(), split: split.to_string(), files });
            }
            None => sources.push(SplitSource { split, kind: SourceKind::Files(format), paths: vec![path.clone()] }),
        }
    }
    Ok(sources)
}

/// Sub-folders named after splits, each holding class folders.
fn split_folders(entries: &[PathBuf]) -> DataResult<Vec<SplitSource>> {
    let mut sources: Vec<SplitSource> = Vec::new();
    for path in entries.iter().filter(|p| p.is_dir()) {
        let Some(split) = SplitName::from_name(&file_name(path)) else { continue };
        if sources.iter().any(|s| s.split == split) || !list_class_folders(path)?.iter().any(|(_, f)| !f.is_empty()) {
            continue;
        }
        sources.push(SplitSource { split, kind: SourceKind::ClassFolders, paths: vec![path.clone()] });
    }
    Ok(sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_names_follow_the_hub_conventions() {
        assert_eq!(SplitName::from_name("train.csv"), Some(SplitName::Train));
        assert_eq!(SplitName::from_name("train-00000-of-00002.parquet"), Some(SplitName::Train));
        assert_eq!(SplitName::from_name("dev.tsv"), Some(SplitName::Validation));
        assert_eq!(SplitName::from_name("valid.txt"), Some(SplitName::Validation));
        assert_eq!(SplitName::from_name("Validation.jsonl"), Some(SplitName::Validation));
        assert_eq!(SplitName::from_name("test.parquet"), Some(SplitName::Test));
        assert_eq!(SplitName::from_name("trainer.csv"), None);
        assert_eq!(SplitName::from_name("README.md"), None);
    }

    #[test]
    fn specs_parse() {
        assert_eq!(DataSpec::parse("stanfordnlp/imdb").unwrap(), DataSpec::Hub { repo: "stanfordnlp/imdb".into() });
        assert_eq!(DataSpec::parse("hub:glue").unwrap(), DataSpec::Hub { repo: "glue".into() });
        assert!(matches!(DataSpec::parse("./nope/x.csv"), Err(DataError::NotFound { .. })));
        assert!(matches!(DataSpec::parse("nope/x.csv"), Err(DataError::NotFound { .. })));
        assert_eq!(DataSpec::parse("nyu-mll/glue:sst2").unwrap(), DataSpec::Hub { repo: "nyu-mll/glue:sst2".into() });
        assert!(matches!(DataSpec::parse("nyu-mll/glue:"), Err(DataError::NotFound { .. })));
        assert_eq!(split_hub_spec("nyu-mll/glue:sst2"), ("nyu-mll/glue", Some("sst2")));
        assert_eq!(split_hub_spec("nyu-mll/glue"), ("nyu-mll/glue", None));
    }
}
