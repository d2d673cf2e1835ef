//! Hugging Face Hub datasets: find a dataset's configs and splits, download one config into the HF
//! cache with progress, and load it through the same readers as local files.
//!
//! Where the data comes from, in order:
//! 1. The repo's own data files on `main` (`.parquet`, `.csv`, `.tsv`, `.jsonl`/`.json`, `.txt`): as
//!    the dataset card's `configs` declare them (`data_files` patterns per split), else by layout. The
//!    split comes from the file name (`train.csv`, `train-00000-of-00001.parquet`, `dev.tsv`) or else
//!    from a folder name (`train/0000.parquet`); the folders above it, less `data`, name the config
//!    (`data/train.csv` → `default`, `sst2/train-….parquet` → `sst2`, `en/train/x.jsonl` → `en`). A
//!    config whose files name no split is all train.
//! 2. Else the Parquet files the Hub converts every dataset to, on the revision `refs/convert/parquet`:
//!    `{config}/{split}/0000.parquet`, and `{config}/partial-{split}/…` where only the first part of a
//!    big split was converted (the older layout `{config}/{name}-{split}[-0000x-of-0000y].parquet`
//!    is read too).
//!
//! ClassLabel names come from the Parquet `huggingface` metadata, else from the dataset card's
//! `dataset_info.features` (`dtype: {class_label: {names: {'0': neg, …}}}`).
//!
//! The card (`README.md`) is downloaded with the data when it declares configs or ClassLabels.
//! Offline (`HF_HUB_OFFLINE`), the listing is made from the cached snapshots of `refs/main`, else
//! `refs/refs/convert/parquet`, and the cached card, so what was downloaded before loads the same way
//! without the network.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use hf_hub::repository::RepoTreeEntry;
use hf_hub::HFError;
use serde::Serialize;

use super::card::{card_class_labels, readme_metadata};
use super::hub_layout::{discover_converted, repo_configs};
use super::dataset::Dataset;
use super::error::{DataError, DataResult};
use super::load::{check_options, load_sources, DatasetOptions};
use super::progress::LoadProgress;
use super::spec::{split_hub_spec, FileFormat, SourceKind, SplitName, SplitSource};
use crate::core::hub::{is_unreachable, HubSettings};
use crate::core::hub::download::{download, DownloadRequest, FileProgress};
use crate::core::hub::search::{scan_cache, RepoFile, RepoKind};

/// The revision holding the Hub's Parquet conversion of every dataset.
pub const CONVERTED_REVISION: &str = "refs/convert/parquet";

/// Which files a listing is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HubDataSource {
    /// The repo's own data files on `main`.
    RepoFiles,
    /// The Hub's Parquet conversion on `refs/convert/parquet`.
    ConvertedParquet,
}

impl HubDataSource {
    pub fn revision(self) -> &'static str {
        match self {
            Self::RepoFiles => "main",
            Self::ConvertedParquet => CONVERTED_REVISION,
        }
    }
}

/// One split of a config.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HubSplit {
    /// The split's name on the Hub (`train`, `validation`, `unsupervised`, …).
    pub name: String,
    /// The split it is loaded as; `None` for names other than train/validation/test and their variants.
    pub split: Option<SplitName>,
    /// Only the first part of the split was converted (`partial-{split}`).
    pub partial: bool,
    /// Paths in the repo (at the listing's revision), in reading order, with sizes.
    pub files: Vec<RepoFile>,
}

impl HubSplit {
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// One config (subset) of a dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HubConfig {
    pub name: String,
    /// Train, validation, test first, then other splits by name.
    pub splits: Vec<HubSplit>,
    /// ClassLabel names by column from the dataset card (empty when it has none).
    pub class_labels: HashMap<String, Vec<String>>,
}

impl HubConfig {
    pub fn bytes(&self) -> u64 {
        self.splits.iter().map(HubSplit::bytes).sum()
    }

    pub fn files(&self) -> impl Iterator<Item = &RepoFile> {
        self.splits.iter().flat_map(|s| s.files.iter())
    }
}

/// What a Hub dataset offers: its configs, their splits and files.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HubDataListing {
    pub repo: String,
    pub source: HubDataSource,
    /// `main` or `refs/convert/parquet`.
    pub revision: String,
    /// `default` first, then by name.
    pub configs: Vec<HubConfig>,
    /// Set when the listing was made from the cache (offline): the snapshot holding the files.
    pub cached_snapshot: Option<PathBuf>,
    /// The dataset card on `main` (`README.md`) when it gives ClassLabel names: it is downloaded with
    /// the data so that the names are known offline too.
    pub card: Option<String>,
}

impl HubDataListing {
    pub fn config(&self, name: &str) -> Option<&HubConfig> {
        self.configs.iter().find(|c| c.name == name)
    }

    /// The named config, else `default`, else the first. The second value is a warning when the
    /// choice was made among several configs.
    pub fn pick_config(&self, name: Option<&str>) -> DataResult<(&HubConfig, Option<String>)> {
        if let Some(name) = name {
            return self.config(name).map(|c| (c, None)).ok_or_else(|| match &self.cached_snapshot {
                // Offline, the listing holds only what is cached.
                Some(snapshot) => DataError::NotCached {
                    repo: format!("{}:{name}", self.repo),
                    cache: snapshot.ancestors().nth(3).unwrap_or(snapshot).to_path_buf(),
                },
                None => DataError::UnknownConfig {
                    repo: self.repo.clone(),
                    config: name.to_string(),
                    available: self.configs.iter().map(|c| c.name.clone()).collect(),
                },
            });
        }
        let config = self.config("default").or(self.configs.first()).ok_or_else(|| self.no_data(Vec::new()))?;
        let warning = (self.configs.len() > 1).then(|| {
            let names: Vec<&str> = self.configs.iter().map(|c| c.name.as_str()).collect();
            format!(
                "{} has the configs {}; loaded {:?} (name another as {}:CONFIG)",
                self.repo,
                names.join(", "),
                config.name,
                self.repo
            )
        });
        Ok((config, warning))
    }

    fn no_data(&self, found: Vec<String>) -> DataError {
        no_data(&self.repo, found)
    }
}

/// Lists the configs and splits of a Hub dataset (`owner/name`; a `:config` suffix is ignored). Offline,
/// from the cache.
pub fn list_hub_dataset(hub: &HubSettings, repo: &str) -> DataResult<HubDataListing> {
    let (repo, _) = split_hub_spec(repo.trim());
    if hub.offline {
        return list_cached(hub, repo);
    }
    let hub_err = |e: HFError| hub_error(repo, e);
    let client = hub.client().map_err(hub_err)?;
    let (owner, name) = hf_hub::split_id(repo);
    let dataset = client.dataset(owner, name);
    let info = match dataset.info().send() {
        Ok(info) => info,
        // No answer from the Hub (no network, a Hub outage): what the cache holds, as if offline.
        Err(e) if is_unreachable(&e) => {
            return list_cached(hub, repo).map_err(|cached| match cached {
                DataError::NotCached { .. } => DataError::Hub {
                    repo: repo.to_string(),
                    message: format!("the Hub could not be reached ({e}) and the dataset is not in the cache"),
                },
                other => other,
            });
        }
        Err(e) => return Err(hub_err(e)),
    };
    let tree = |revision: &str| -> DataResult<Option<Vec<RepoFile>>> {
        match dataset.list_tree().revision(revision.to_string()).recursive(true).send() {
            Ok(entries) => Ok(Some(
                entries
                    .into_iter()
                    .filter_map(|e| match e {
                        RepoTreeEntry::File { path, size, .. } => Some(RepoFile { path, size }),
                        RepoTreeEntry::Directory { .. } => None,
                    })
                    .collect(),
            )),
            Err(HFError::Http { context } | HFError::RevisionNotFound { context: Some(context), .. })
                if context.status.as_u16() == 404 && revision != "main" =>
            {
                Ok(None)
            }
            Err(e) => Err(hub_err(e)),
        }
    };
    let main_files = tree("main")?.unwrap_or_default();
    let card = info.card_data.unwrap_or(serde_json::Value::Null);
    let mut listing = HubDataListing {
        repo: repo.to_string(),
        source: HubDataSource::RepoFiles,
        revision: "main".into(),
        configs: repo_configs(&card, &main_files),
        cached_snapshot: None,
        card: None,
    };
    if listing.configs.is_empty() {
        if let Some(files) = tree(CONVERTED_REVISION)? {
            listing.source = HubDataSource::ConvertedParquet;
            listing.revision = CONVERTED_REVISION.into();
            listing.configs = discover_converted(&files);
        }
    }
    if listing.configs.is_empty() {
        return Err(listing.no_data(main_files.iter().map(|f| f.path.clone()).collect()));
    }
    let card_labels = card_class_labels(&card);
    for config in &mut listing.configs {
        config.class_labels = card_labels.get(&config.name).cloned().unwrap_or_default();
    }
    if !card_labels.is_empty() || card.get("configs").is_some() {
        listing.card = main_files.iter().find(|f| f.path.eq_ignore_ascii_case("README.md")).map(|f| f.path.clone());
    }
    Ok(listing)
}

fn no_data(repo: &str, mut found: Vec<String>) -> DataError {
    const SHOWN: usize = 20;
    if found.len() > SHOWN {
        let more = found.len() - SHOWN;
        found.truncate(SHOWN);
        found.push(format!("… ({more} more)"));
    }
    DataError::NoHubData { repo: repo.to_string(), found }
}

fn hub_error(repo: &str, error: HFError) -> DataError {
    let message = match &error {
        HFError::RepoNotFound { .. } => "no such dataset on the Hub (or it is private: set HF_TOKEN)".to_string(),
        HFError::AuthRequired { .. } | HFError::Forbidden { .. } => {
            "access denied: the dataset is gated or private (set HF_TOKEN)".to_string()
        }
        _ => error.to_string(),
    };
    DataError::Hub { repo: repo.to_string(), message }
}

/// The listing of what the cache holds for a dataset.
fn list_cached(hub: &HubSettings, repo: &str) -> DataResult<HubDataListing> {
    let not_cached = || DataError::NotCached { repo: repo.to_string(), cache: hub.cache_dir.clone() };
    let cached = scan_cache(&hub.cache_dir)
        .into_iter()
        .find(|r| r.kind == RepoKind::Dataset && r.id == repo)
        .ok_or_else(not_cached)?;
    let snapshot_of = |reference: &str| {
        let commit = cached.refs.iter().find(|(name, _)| name == reference).map(|(_, c)| c)?;
        cached.snapshots.iter().find(|s| s.file_name().is_some_and(|n| n == commit.as_str())).cloned()
    };
    // The cached card, read as the Hub reads it online: its configs and ClassLabel names.
    let readme = snapshot_of("main").map(|s| s.join("README.md")).filter(|p| p.is_file());
    let card = readme
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| readme_metadata(&t))
        .unwrap_or(serde_json::Value::Null);
    let card_labels = card_class_labels(&card);
    let mut found = Vec::new();
    for source in [HubDataSource::RepoFiles, HubDataSource::ConvertedParquet] {
        let Some(snapshot) = snapshot_of(source.revision()) else { continue };
        let files = snapshot_files(&snapshot);
        let configs = match source {
            HubDataSource::RepoFiles => repo_configs(&card, &files),
            HubDataSource::ConvertedParquet => discover_converted(&files),
        };
        found.extend(files.into_iter().map(|f| f.path));
        if !configs.is_empty() {
            let mut listing = HubDataListing {
                repo: repo.to_string(),
                source,
                revision: source.revision().into(),
                configs,
                cached_snapshot: Some(snapshot),
                card: None,
            };
            for config in &mut listing.configs {
                config.class_labels = card_labels.get(&config.name).cloned().unwrap_or_default();
            }
            return Ok(listing);
        }
    }
    if found.is_empty() {
        return Err(not_cached());
    }
    Err(no_data(repo, found))
}

/// The files under a snapshot folder, as repo paths with sizes (following the blob links).
fn snapshot_files(snapshot: &Path) -> Vec<RepoFile> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<RepoFile>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            let path = entry.path();
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => walk(&path, &format!("{name}/"), out),
                Ok(m) => out.push(RepoFile { path: name, size: m.len() }),
                Err(_) => {}
            }
        }
    }
    let mut files = Vec::new();
    walk(snapshot, "", &mut files);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

pub fn fetch_hub_config(
    hub: &HubSettings,
    listing: &HubDataListing,
    config: &HubConfig,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(FileProgress),
) -> DataResult<PathBuf> {
    if let Some(snapshot) = &listing.cached_snapshot {
        return Ok(snapshot.clone());
    }
    let files = config.splits.iter().filter(|s| s.split.is_some()).flat_map(|s| s.files.iter());
    let request = DownloadRequest {
        kind: RepoKind::Dataset,
        repo: listing.repo.clone(),
        revision: Some(listing.revision.clone()),
        files: files.map(|f| f.path.clone()).collect(),
    };
    let snapshot = download(hub, &request, cancel, on_progress)?;
    if let Some(card) = &listing.card {
        let request = DownloadRequest { revision: Some("main".into()), files: vec![card.clone()], ..request };
        // The card only adds label names offline: a failure to fetch it is no reason to stop.
        if let Err(crate::core::CoreError::Cancelled) = download(hub, &request, cancel, on_progress) {
            return Err(DataError::Cancelled);
        }
    }
    Ok(snapshot)
}

/// The split sources of a config in a snapshot folder, with warnings for splits that are left out or
/// only partly converted.
fn split_sources(
    listing: &HubDataListing,
    config: &HubConfig,
    snapshot: &Path,
) -> DataResult<(Vec<SplitSource>, Vec<String>)> {
    let mut sources: Vec<SplitSource> = Vec::new();
    let mut warnings = Vec::new();
    for hub_split in &config.splits {
        let Some(split) = hub_split.split else {
            warnings.push(format!(
                "{}: the {:?} split is not train, validation or test; it is left out",
                listing.repo, hub_split.name
            ));
            continue;
        };
        if sources.iter().any(|s| s.split == split) {
            warnings.push(format!(
                "{}: the {:?} split is left out: another split is already loaded as {split}",
                listing.repo, hub_split.name
            ));
            continue;
        }
        if hub_split.partial {
            warnings.push(format!(
                "{}: the Hub converted only the first part of the {} split ({} files)",
                listing.repo,
                hub_split.name,
                hub_split.files.len()
            ));
        }
        let paths: Vec<PathBuf> = hub_split.files.iter().map(|f| snapshot.join(&f.path)).collect();
        let mut format = None;
        for path in &paths {
            let this = FileFormat::from_path(path).ok_or_else(|| DataError::UnknownFormat { path: path.clone() })?;
            if format.is_some_and(|f| f != this) {
                return Err(DataError::DuplicateSplit {
                    path: snapshot.join(&config.name),
                    split: split.to_string(),
                    files: hub_split.files.iter().map(|f| f.path.clone()).collect(),
                });
            }
            format = Some(this);
        }
        let Some(format) = format else { continue };
        sources.push(SplitSource { split, kind: SourceKind::Files(format), paths });
    }
    if !sources.iter().any(|s| s.split == SplitName::Train) {
        return Err(DataError::NoTrainSplit {
            path: PathBuf::from(format!("{}:{}", listing.repo, config.name)),
            found: config.splits.iter().map(|s| s.name.clone()).collect(),
        });
    }
    sources.sort_by_key(|s| s.split);
    Ok((sources, warnings))
}

/// Loads a Hub dataset (`owner/name` or `owner/name:config`): lists it, downloads the config's files
/// with `on_download` progress (or takes them from the cache offline), then reads them with
/// `progress` as a local dataset.
pub fn load_hub_dataset(
    hub: &HubSettings,
    spec: &str,
    options: &DatasetOptions,
    on_download: &mut dyn FnMut(FileProgress),
    progress: &mut dyn FnMut(LoadProgress),
    cancel: Option<&AtomicBool>,
) -> DataResult<Dataset> {
    check_options(options)?;
    let (repo, config) = split_hub_spec(spec.trim());
    let listing = list_hub_dataset(hub, repo)?;
    load_hub_config(hub, &listing, config, options, on_download, progress, cancel)
}

/// [`load_hub_dataset`] for a listing already made (the UI lists first, then lets the user pick a
/// config): `config` `None` picks as [`HubDataListing::pick_config`] does.
pub fn load_hub_config(
    hub: &HubSettings,
    listing: &HubDataListing,
    config: Option<&str>,
    options: &DatasetOptions,
    on_download: &mut dyn FnMut(FileProgress),
    progress: &mut dyn FnMut(LoadProgress),
    cancel: Option<&AtomicBool>,
) -> DataResult<Dataset> {
    check_options(options)?;
    let (config, choice_warning) = listing.pick_config(config)?;
    if !config.splits.iter().any(|s| s.split == Some(SplitName::Train)) {
        return Err(DataError::NoTrainSplit {
            path: PathBuf::from(format!("{}:{}", listing.repo, config.name)),
            found: config.splits.iter().map(|s| s.name.clone()).collect(),
        });
    }
    let not_cancelled = AtomicBool::new(false);
    let snapshot = fetch_hub_config(hub, listing, config, cancel.unwrap_or(&not_cancelled), on_download)?;
    let (sources, mut warnings) = split_sources(listing, config, &snapshot)?;
    let name = if listing.configs.len() > 1 || config.name != "default" {
        format!("{}:{}", listing.repo, config.name)
    } else {
        listing.repo.clone()
    };
    let mut dataset = load_sources(name, &sources, &config.class_labels, options, progress, cancel)?;
    warnings.extend(choice_warning);
    warnings.append(&mut dataset.warnings);
    dataset.warnings = warnings;
    Ok(dataset)
}
