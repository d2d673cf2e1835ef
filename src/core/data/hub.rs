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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use hf_hub::repository::RepoTreeEntry;
use hf_hub::HFError;
use serde::Serialize;

use super::card::{card_class_labels, readme_metadata};
use super::dataset::Dataset;
use super::error::{DataError, DataResult};
use super::load::{check_options, load_sources, LoadOptions};
use super::progress::LoadProgress;
use super::spec::{split_hub_spec, FileFormat, SourceKind, SplitName, SplitSource};
use crate::core::hub::HubSettings;
use crate::core::hub_download::{download, DownloadRequest, FileProgress};
use crate::core::hub_search::{scan_cache, RepoFile, RepoKind};

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
    let info = dataset.info().send().map_err(hub_err)?;
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

/// The configs of a repo's own files: as the card's `configs` declare them where it does (and they
/// match files), else from the file layout.
fn repo_configs(card: &serde_json::Value, files: &[RepoFile]) -> Vec<HubConfig> {
    let declared = card_configs(card, files);
    if declared.is_empty() {
        discover_repo_files(files)
    } else {
        declared
    }
}

/// Configs as a card's `configs` list declares them: `data_files` is a pattern or a list of patterns
/// (all train), or a list of `{split, path}` where `path` is a pattern or a list of them. Patterns
/// are matched against the repo's files (`*` within a folder, `**` across folders). The config marked
/// `default: true` comes first.
pub fn card_configs(card: &serde_json::Value, files: &[RepoFile]) -> Vec<HubConfig> {
    use serde_json::Value;
    fn patterns(value: &Value) -> Vec<String> {
        match value {
            Value::String(s) if s.trim_start().starts_with('[') => {
                // A flow list as the YAML reader keeps it: `["a.csv", "b.csv"]`.
                let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
                inner
                    .split(',')
                    .map(|p| p.trim().trim_matches(['"', '\'']).to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            }
            Value::String(s) => vec![s.clone()],
            Value::Array(list) => list.iter().flat_map(patterns).collect(),
            _ => Vec::new(),
        }
    }
    let Some(declared) = card.get("configs").and_then(|c| c.as_array()) else { return Vec::new() };
    let mut configs = Vec::new();
    let mut default_name = None;
    for entry in declared {
        let name = entry.get("config_name").and_then(|n| n.as_str()).unwrap_or("default").to_string();
        if entry.get("default").is_some_and(|d| d == true || d == "true") {
            default_name = Some(name.clone());
        }
        let data_files = entry.get("data_files").cloned().unwrap_or(Value::Null);
        let by_split: Vec<(String, Vec<String>)> = match &data_files {
            Value::Array(list) if list.iter().any(|i| i.is_object()) => list
                .iter()
                .filter_map(|item| {
                    let split = item.get("split")?.as_str()?.to_string();
                    Some((split, patterns(item.get("path")?)))
                })
                .collect(),
            Value::Object(map) => map.iter().map(|(split, paths)| (split.clone(), patterns(paths))).collect(),
            other => vec![("train".to_string(), patterns(other))],
        };
        let mut splits = Vec::new();
        for (split, patterns) in by_split {
            let matched: Vec<RepoFile> = files
                .iter()
                .filter(|f| FileFormat::from_path(Path::new(&f.path)).is_some())
                .filter(|f| patterns.iter().any(|p| glob_match(p.trim_start_matches("./"), &f.path)))
                .cloned()
                .collect();
            if !matched.is_empty() {
                splits.push(HubSplit { split: exact_split(&split), name: split, partial: false, files: matched });
            }
        }
        finish_config(&mut configs, name, splits);
    }
    sort_configs(&mut configs);
    if let Some(name) = default_name {
        if let Some(i) = configs.iter().position(|c| c.name == name) {
            let config = configs.remove(i);
            configs.insert(0, config);
        }
    }
    configs
}

/// A path pattern as `datasets` matches `data_files`: `*` and `?` within one path segment, `**`
/// across segments.
fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
                (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/') && go(rest, &s[i..])) || go(&p[2..], s)
            }
            Some(b'*') => (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != b'/').any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => s.first().is_some_and(|&c| c != b'/') && go(&p[1..], &s[1..]),
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

/// [`DataError::NoHubData`] naming at most 20 of the files found.
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

/// Files that have a data file's extension but are never data.
fn is_metadata_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "dataset_infos.json" | "dataset_info.json" | "dataset_dict.json" | "state.json")
        || ["readme", "license", "licence", "citation", "requirements", "changelog", "notice"]
            .iter()
            .any(|p| lower.starts_with(p))
}

/// Configs from a repo's own files (rule 1 of the module docs).
pub fn discover_repo_files(files: &[RepoFile]) -> Vec<HubConfig> {
    // config → (split name or None, file)
    let mut found: BTreeMap<String, Vec<(Option<SplitName>, &RepoFile)>> = BTreeMap::new();
    for file in files {
        let parts: Vec<&str> = file.path.split('/').collect();
        let (dirs, name) = parts.split_at(parts.len() - 1);
        let name = name[0];
        if FileFormat::from_path(Path::new(name)).is_none()
            || is_metadata_file(name)
            || parts.iter().any(|p| p.starts_with('.') || p.starts_with("__"))
        {
            continue;
        }
        let (split, config_dirs) = match SplitName::from_name(name) {
            Some(split) => (Some(split), dirs),
            None => match dirs.iter().rposition(|d| exact_split(d).is_some()) {
                Some(i) => (exact_split(dirs[i]), &dirs[..i]),
                None => (None, dirs),
            },
        };
        let config: Vec<&str> = config_dirs.iter().copied().filter(|d| *d != "data").collect();
        let config = if config.is_empty() { "default".to_string() } else { config.join("/") };
        found.entry(config).or_default().push((split, file));
    }
    let mut configs = Vec::new();
    for (name, entries) in found {
        let any_split = entries.iter().any(|(s, _)| s.is_some());
        let mut splits: Vec<HubSplit> = Vec::new();
        for (split, file) in entries {
            let split = match (split, any_split) {
                (Some(split), _) => split,
                (None, false) => SplitName::Train,
                (None, true) => continue,
            };
            match splits.iter_mut().find(|s| s.split == Some(split)) {
                Some(s) => s.files.push(file.clone()),
                None => splits.push(HubSplit {
                    name: split.as_str().to_string(),
                    split: Some(split),
                    partial: false,
                    files: vec![file.clone()],
                }),
            }
        }
        finish_config(&mut configs, name, splits);
    }
    sort_configs(&mut configs);
    configs
}

/// A split (or split folder) named exactly as one of the names [`SplitName::from_name`] knows.
fn exact_split(name: &str) -> Option<SplitName> {
    match name.to_ascii_lowercase().as_str() {
        "train" | "training" => Some(SplitName::Train),
        "validation" | "valid" | "val" | "dev" => Some(SplitName::Validation),
        "test" | "testing" => Some(SplitName::Test),
        _ => None,
    }
}

/// Configs from the Parquet conversion (rule 2 of the module docs).
pub fn discover_converted(files: &[RepoFile]) -> Vec<HubConfig> {
    let mut found: BTreeMap<String, BTreeMap<(bool, String), Vec<RepoFile>>> = BTreeMap::new();
    for file in files {
        let parts: Vec<&str> = file.path.split('/').collect();
        if !file.path.ends_with(".parquet") || parts.len() < 2 {
            continue;
        }
        let (split, partial) = if parts.len() >= 3 {
            let dir = parts[parts.len() - 2];
            match dir.strip_prefix("partial-") {
                Some(split) => (split.to_string(), true),
                None => (dir.to_string(), false),
            }
        } else {
            // {name}-{split}.parquet or {name}-{split}-00000-of-00002.parquet
            let stem = parts[1].trim_end_matches(".parquet");
            let tokens: Vec<&str> = stem.split('-').collect();
            let sharded = tokens.len() >= 4 && tokens[tokens.len() - 2] == "of";
            let tokens = if sharded { &tokens[..tokens.len() - 3] } else { &tokens[..] };
            match tokens.last() {
                Some(split) if tokens.len() >= 2 => (split.to_string(), false),
                _ => continue,
            }
        };
        found.entry(parts[0].to_string()).or_default().entry((partial, split)).or_default().push(file.clone());
    }
    let mut configs = Vec::new();
    for (name, splits) in found {
        let splits = splits
            .into_iter()
            .map(|((partial, split), mut files)| {
                files.sort_by(|a, b| a.path.cmp(&b.path));
                HubSplit { split: exact_split(&split), name: split, partial, files }
            })
            .collect();
        finish_config(&mut configs, name, splits);
    }
    sort_configs(&mut configs);
    configs
}

fn finish_config(configs: &mut Vec<HubConfig>, name: String, mut splits: Vec<HubSplit>) {
    if splits.is_empty() {
        return;
    }
    for split in &mut splits {
        split.files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    splits.sort_by(|a, b| (a.split.is_none(), a.split, &a.name).cmp(&(b.split.is_none(), b.split, &b.name)));
    configs.push(HubConfig { name, splits, class_labels: HashMap::new() });
}

fn sort_configs(configs: &mut [HubConfig]) {
    configs.sort_by(|a, b| (a.name != "default", &a.name).cmp(&(b.name != "default", &b.name)));
}

/// Downloads the files of one config into the HF cache (skipping what is there) and returns the
/// snapshot folder. Offline, the listing's cached snapshot.
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
    options: &LoadOptions,
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
    options: &LoadOptions,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<RepoFile> {
        paths.iter().map(|p| RepoFile { path: p.to_string(), size: 10 }).collect()
    }

    /// `(config, [(split, [file])])`.
    type Shape = Vec<(String, Vec<(String, Vec<String>)>)>;
    type Rows<'a> = &'a [(&'a str, &'a [(&'a str, &'a [&'a str])])];

    fn shape(configs: &[HubConfig]) -> Shape {
        configs
            .iter()
            .map(|c| {
                let splits = c
                    .splits
                    .iter()
                    .map(|s| (s.name.clone(), s.files.iter().map(|f| f.path.clone()).collect()))
                    .collect();
                (c.name.clone(), splits)
            })
            .collect()
    }

    fn expect(rows: Rows<'_>) -> Shape {
        rows.iter()
            .map(|(c, splits)| {
                let splits = splits
                    .iter()
                    .map(|(s, files)| (s.to_string(), files.iter().map(|f| f.to_string()).collect()))
                    .collect();
                (c.to_string(), splits)
            })
            .collect()
    }

    #[test]
    fn repo_files_give_configs_and_splits() {
        let listing = discover_repo_files(&files(&[
            ".gitattributes",
            "README.md",
            "dataset_infos.json",
            "data/test-00000-of-00001.parquet",
            "data/train-00001-of-00002.parquet",
            "data/train-00000-of-00002.parquet",
            "sst2/validation.csv",
            "sst2/train.csv",
            "en/train/a.jsonl",
            "en/dev/a.jsonl",
            "loader.py",
        ]));
        assert_eq!(
            shape(&listing),
            expect(&[
                (
                    "default",
                    &[
                        ("train", &["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"]),
                        ("test", &["data/test-00000-of-00001.parquet"]),
                    ]
                ),
                ("en", &[("train", &["en/train/a.jsonl"]), ("validation", &["en/dev/a.jsonl"])]),
                ("sst2", &[("train", &["sst2/train.csv"]), ("validation", &["sst2/validation.csv"])]),
            ])
        );
        // Files that name no split are train; scripts and cards are never data.
        let single = discover_repo_files(&files(&["headlines.csv", "README.md", "requirements.txt"]));
        assert_eq!(shape(&single), expect(&[("default", &[("train", &["headlines.csv"])])]));
        assert!(discover_repo_files(&files(&["imdb.py", "README.md", "data/plain_text.zip"])).is_empty());
    }

    #[test]
    fn card_configs_declare_the_files() {
        let repo = files(&[
            "README.md",
            "reviews/2020/part-1.csv",
            "reviews/2021/part-1.csv",
            "holdout.csv",
            "extra/notes.csv",
            "data/train-00000-of-00001.parquet",
        ]);
        let card = serde_json::json!({"configs": [
            {"config_name": "reviews", "data_files": [
                {"split": "train", "path": "reviews/**/*.csv"},
                {"split": "test", "path": ["holdout.csv"]}
            ]},
            {"config_name": "notes", "data_files": "extra/*.csv"},
            {"config_name": "parquet", "default": true, "data_files": [{"split": "train", "path": "data/train-*"}]},
            {"config_name": "nothing", "data_files": "missing/*.csv"}
        ]});
        assert_eq!(
            shape(&repo_configs(&card, &repo)),
            expect(&[
                ("parquet", &[("train", &["data/train-00000-of-00001.parquet"])]),
                ("notes", &[("train", &["extra/notes.csv"])]),
                (
                    "reviews",
                    &[("train", &["reviews/2020/part-1.csv", "reviews/2021/part-1.csv"]), ("test", &["holdout.csv"])]
                ),
            ])
        );
        // The YAML reader keeps a flow list as text; it is read as a list of patterns.
        let flow = serde_json::json!({"configs": [{"config_name": "default", "data_files": [
            {"split": "validation", "path": "[\"holdout.csv\", 'extra/notes.csv']"}, {"split": "train", "path": "reviews/*/*.csv"}
        ]}]});
        let listing = repo_configs(&flow, &repo);
        assert_eq!(listing[0].splits[1].files.len(), 2);
        // Without declared configs (or none matching), the layout decides.
        assert_eq!(repo_configs(&serde_json::Value::Null, &repo), discover_repo_files(&repo));
        assert!(glob_match("data/train-*", "data/train-00000-of-00001.parquet"));
        assert!(!glob_match("*.csv", "extra/notes.csv"));
        assert!(glob_match("**/*.csv", "notes.csv") && glob_match("**/*.csv", "a/b/notes.csv"));
    }

    #[test]
    fn converted_parquet_gives_configs_and_splits() {
        let listing = discover_converted(&files(&[
            ".gitattributes",
            "plain_text/train/0000.parquet",
            "plain_text/test/0000.parquet",
            "plain_text/unsupervised/0000.parquet",
            "big/partial-train/0001.parquet",
            "big/partial-train/0000.parquet",
            "old/old-validation.parquet",
            "old/old-train-00000-of-00002.parquet",
            "old/old-train-00001-of-00002.parquet",
        ]));
        assert_eq!(
            shape(&listing),
            expect(&[
                ("big", &[("train", &["big/partial-train/0000.parquet", "big/partial-train/0001.parquet"])]),
                (
                    "old",
                    &[
                        ("train", &["old/old-train-00000-of-00002.parquet", "old/old-train-00001-of-00002.parquet"]),
                        ("validation", &["old/old-validation.parquet"]),
                    ]
                ),
                (
                    "plain_text",
                    &[
                        ("train", &["plain_text/train/0000.parquet"]),
                        ("test", &["plain_text/test/0000.parquet"]),
                        ("unsupervised", &["plain_text/unsupervised/0000.parquet"]),
                    ]
                ),
            ])
        );
        assert!(listing[0].splits[0].partial);
        assert_eq!(listing[2].splits[2].split, None);
    }
}
