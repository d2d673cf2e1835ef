//! Hub search and repo listings (models and datasets), and what the local HF cache holds.

use std::path::{Path, PathBuf};

use hf_hub::repository::RepoTreeEntry;
use serde::Serialize;

use super::HubSettings;
use crate::core::{CoreError, CoreResult};

/// Models or datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum RepoKind {
    Model,
    Dataset,
}

impl RepoKind {
    /// The cache folder prefix, as huggingface_hub names it (`models--…`, `datasets--…`).
    pub fn plural(self) -> &'static str {
        match self {
            Self::Model => "models",
            Self::Dataset => "datasets",
        }
    }
}

/// How to sort search results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum SortBy {
    #[default]
    Downloads,
    Likes,
    LastModified,
}

impl SortBy {
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Downloads => "downloads",
            Self::Likes => "likes",
            Self::LastModified => "lastModified",
        }
    }
}

/// A search on the Hub.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SearchQuery {
    pub text: String,
    /// A task (pipeline tag) such as `fill-mask` or `text-classification`; models only.
    pub task: Option<String>,
    pub sort: SortBy,
    pub limit: usize,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RepoHit {
    pub id: String,
    pub downloads: Option<u64>,
    pub likes: Option<u64>,
    pub task: Option<String>,
    pub library: Option<String>,
    pub last_modified: Option<String>,
}

fn hub_err(repo: &str, e: impl ToString) -> CoreError {
    CoreError::Hub { repo: repo.to_string(), message: e.to_string() }
}

/// A failed request in words a user can act on: an unreachable Hub says so (and what still works)
/// instead of the HTTP client's "HTTP request error: error sending request …".
fn request_err(hub: &HubSettings, what: &str, e: impl ToString) -> CoreError {
    let raw = e.to_string();
    let lower = raw.to_ascii_lowercase();
    let unreachable = ["error sending request", "connection refused", "dns error", "timed out", "connect error", "network is unreachable", "tcp connect"]
        .iter()
        .any(|needle| lower.contains(needle));
    if unreachable {
        return hub_err(
            what,
            format!(
                "the Hub ({}) could not be reached — no network? Models and datasets already on this machine still load (offline mode uses only those)",
                hub.endpoint_label()
            ),
        );
    }
    hub_err(what, raw)
}

/// Searches models (or datasets) on the Hub.
pub fn search(hub: &HubSettings, kind: RepoKind, query: &SearchQuery) -> CoreResult<Vec<RepoHit>> {
    let what = format!("search {:?}", query.text);
    hub.require_online(&what)?;
    let client = hub.client().map_err(|e| hub_err(&what, e))?;
    let text = Some(query.text.trim().to_string()).filter(|t| !t.is_empty());
    let limit = Some(query.limit.clamp(1, 100));
    match kind {
        RepoKind::Model => {
            let models = client
                .list_models()
                .maybe_search(text)
                .maybe_pipeline_tag(query.task.clone())
                .sort(query.sort.api_name().to_string())
                .maybe_limit(limit)
                .send()
                .map_err(|e| request_err(hub, &what, e))?;
            Ok(models
                .into_iter()
                .map(|m| RepoHit {
                    id: m.id,
                    downloads: m.downloads,
                    likes: m.likes,
                    task: m.pipeline_tag,
                    library: m.library_name,
                    last_modified: m.last_modified,
                })
                .collect())
        }
        RepoKind::Dataset => {
            let datasets = client
                .list_datasets()
                .maybe_search(text)
                .sort(query.sort.api_name().to_string())
                .maybe_limit(limit)
                .send()
                .map_err(|e| request_err(hub, &what, e))?;
            Ok(datasets
                .into_iter()
                .map(|d| RepoHit {
                    id: d.id,
                    downloads: d.downloads,
                    likes: d.likes,
                    task: None,
                    library: None,
                    last_modified: d.last_modified,
                })
                .collect())
        }
    }
}

/// A file of a repo with its size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RepoFile {
    pub path: String,
    pub size: u64,
}

/// All files of a repo at a revision (recursive).
pub fn list_files(hub: &HubSettings, kind: RepoKind, repo: &str, revision: Option<&str>) -> CoreResult<Vec<RepoFile>> {
    hub.require_online(repo)?;
    let client = hub.client().map_err(|e| hub_err(repo, e))?;
    let (owner, name) = hf_hub::split_id(repo);
    let entries = match kind {
        RepoKind::Model => client.model(owner, name).list_tree().maybe_revision(revision.map(str::to_string)).recursive(true).send(),
        RepoKind::Dataset => client.dataset(owner, name).list_tree().maybe_revision(revision.map(str::to_string)).recursive(true).send(),
    }
    .map_err(|e| request_err(hub, repo, e))?;
    let mut files: Vec<RepoFile> = entries
        .into_iter()
        .filter_map(|e| match e {
            RepoTreeEntry::File { path, size, .. } => Some(RepoFile { path, size }),
            RepoTreeEntry::Directory { .. } => None,
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// A repo found in the local HF cache.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CachedRepo {
    pub kind: RepoKind,
    pub id: String,
    /// `(ref name, commit)` pairs from `refs/`.
    pub refs: Vec<(String, String)>,
    /// Snapshot folders (one per cached commit).
    pub snapshots: Vec<PathBuf>,
    /// Bytes in `blobs/`.
    pub size: u64,
}

impl CachedRepo {
    /// The snapshot `refs/main` points at, else the newest one.
    pub fn main_snapshot(&self) -> Option<&PathBuf> {
        let main = self.refs.iter().find(|(name, _)| name == "main").map(|(_, c)| c);
        main.and_then(|c| self.snapshots.iter().find(|s| s.file_name().is_some_and(|n| n == c.as_str())))
            .or_else(|| self.snapshots.first())
    }
}

/// Lists the repos in an HF hub cache folder (as huggingface_hub's `scan_cache_dir`).
pub fn scan_cache(cache_dir: &Path) -> Vec<CachedRepo> {
    let Ok(entries) = std::fs::read_dir(cache_dir) else { return Vec::new() };
    let mut repos = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let (kind, rest) = if let Some(rest) = name.strip_prefix("models--") {
            (RepoKind::Model, rest)
        } else if let Some(rest) = name.strip_prefix("datasets--") {
            (RepoKind::Dataset, rest)
        } else {
            continue;
        };
        let dir = entry.path();
        let refs = read_refs(&dir.join("refs"), "");
        let mut snapshots: Vec<PathBuf> = std::fs::read_dir(dir.join("snapshots"))
            .map(|it| it.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
            .unwrap_or_default();
        snapshots.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        snapshots.reverse();
        let size = disk_size(&dir);
        repos.push(CachedRepo { kind, id: rest.replace("--", "/"), refs, snapshots, size });
    }
    repos.sort_by(|a, b| (a.kind.plural(), &a.id).cmp(&(b.kind.plural(), &b.id)));
    repos
}

/// The bytes a cached repo holds: every file under `blobs/` and `snapshots/`, links followed, each file
/// counted once. (Counting only regular files in `blobs/` showed 0 B for caches whose blobs are links, or
/// whose snapshots hold the files themselves, as caches made without symlink support do.)
fn disk_size(repo_dir: &Path) -> u64 {
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut stack = vec![repo_dir.join("blobs"), repo_dir.join("snapshots")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if meta.is_dir() {
                // Never follow a linked folder (a loop would never end); snapshot folders are real.
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(path);
                }
            } else if meta.is_file() && seen.insert(std::fs::canonicalize(&path).unwrap_or(path)) {
                total += meta.len();
            }
        }
    }
    total
}

/// Reads `refs/` recursively (refs such as `refs/convert/parquet` are nested).
fn read_refs(dir: &Path, prefix: &str) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut refs = Vec::new();
    for entry in entries.flatten() {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let path = entry.path();
        if path.is_dir() {
            refs.extend(read_refs(&path, &format!("{name}/")));
        } else if let Ok(commit) = std::fs::read_to_string(&path) {
            refs.push((name, commit.trim().to_string()));
        }
    }
    refs.sort();
    refs
}
