//! Downloads into the standard HF cache with per-file progress, cancel, and resume after interruption.
//!
//! hf-hub writes a blob in one go; an interrupted download starts over. Here each file streams into
//! `blobs/<etag>.incomplete` and a later attempt asks only for the missing bytes (an HTTP range), then
//! the file is laid out exactly as huggingface_hub lays it out: `blobs/<etag>`,
//! `snapshots/<commit>/<path>` as a relative symlink to the blob, and `refs/<revision>` = commit.
//! Python and this app share the result.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use hf_hub::repository::{HFRepository, RepoType};

use super::HubSettings;
use super::search::RepoKind;
use crate::core::{CoreError, CoreResult};

/// What to download.
#[derive(Clone, Debug, PartialEq)]
pub struct DownloadRequest {
    pub kind: RepoKind,
    pub repo: String,
    pub revision: Option<String>,
    pub files: Vec<String>,
}

/// Progress of one file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileProgress {
    pub file: String,
    pub bytes: u64,
    pub total: u64,
    /// Bytes per second over the last interval.
    pub rate: f64,
    /// Bytes that were already there from an earlier, interrupted attempt.
    pub resumed_from: u64,
    pub done: bool,
}

impl FileProgress {
    /// Share of the file that is here, in [0, 1]; an empty file counts as complete once it is done.
    pub fn fraction(&self) -> f32 {
        if self.total > 0 {
            self.bytes as f32 / self.total as f32
        } else if self.done {
            1.0
        } else {
            0.0
        }
    }
}

/// How often progress is reported at most (the last report of a file is always sent).
const REPORT_EVERY: Duration = Duration::from_millis(100);

/// Downloads the files into the cache; returns the snapshot folder. Stops with [`CoreError::Cancelled`]
/// when `cancel` is set, keeping what arrived so that the next attempt resumes.
pub fn download(
    hub: &HubSettings,
    request: &DownloadRequest,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(FileProgress),
) -> CoreResult<PathBuf> {
    let repo = request.repo.as_str();
    hub.require_online(repo)?;
    let err = |e: &dyn std::fmt::Display| CoreError::Hub { repo: repo.to_string(), message: e.to_string() };
    let client = hub.async_client().map_err(|e| err(&e))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| err(&e))?;
    let (owner, name) = hf_hub::split_id(repo);
    let cache_repo = hub.cache_dir.join(format!("{}--{}", request.kind.plural(), repo.replace('/', "--")));
    let job = Job { request, cache_repo: &cache_repo, cancel };
    runtime.block_on(async {
        match request.kind {
            RepoKind::Model => job.run(&client.model(owner, name), on_progress).await,
            RepoKind::Dataset => job.run(&client.dataset(owner, name), on_progress).await,
        }
    })
}

struct FileMeta {
    commit_hash: String,
    etag: String,
    file_size: u64,
}

struct Job<'a> {
    request: &'a DownloadRequest,
    cache_repo: &'a Path,
    cancel: &'a AtomicBool,
}

impl Job<'_> {
    fn hub_err(&self, e: impl std::fmt::Display) -> CoreError {
        CoreError::Hub { repo: self.request.repo.clone(), message: e.to_string() }
    }

    async fn run<T: RepoType>(&self, repo: &HFRepository<T>, on_progress: &mut dyn FnMut(FileProgress)) -> CoreResult<PathBuf> {
        let revision = self.request.revision.clone().unwrap_or_else(|| "main".into());
        let mut snapshot = None;
        for file in &self.request.files {
            let meta = self.head_metadata(repo.client().endpoint(), &revision, file).await?;
            let blob = self.cache_repo.join("blobs").join(&meta.etag);
            if !blob.is_file() {
                self.fetch_blob(repo, file, &meta.commit_hash, meta.file_size, &blob, on_progress).await?;
            } else {
                on_progress(FileProgress {
                    file: file.clone(),
                    bytes: meta.file_size,
                    total: meta.file_size,
                    rate: 0.0,
                    resumed_from: meta.file_size,
                    done: true,
                });
            }
            let snap = self.cache_repo.join("snapshots").join(&meta.commit_hash);
            link_snapshot(&snap, file, &blob)?;
            if revision != meta.commit_hash {
                write_ref(self.cache_repo, &revision, &meta.commit_hash)?;
            }
            snapshot = Some(snap);
        }
        snapshot.ok_or_else(|| self.hub_err("no files to download"))
    }

    /// HEAD of `resolve/<revision>/<file>` as huggingface_hub does it: relative redirects are followed
    /// (renamed repos), an absolute one (the CDN, for large files) is not — its headers carry the
    /// commit, the linked ETag and the linked size.
    async fn head_metadata(&self, endpoint: &str, revision: &str, file: &str) -> CoreResult<FileMeta> {
        let err = |e: &dyn std::fmt::Display| self.hub_err(format!("{file}: {e}"));
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| err(&e))?;
        let mut url = resolve_url(endpoint, self.request.kind, &self.request.repo, revision, file);
        for _ in 0..5 {
            let mut req = client.head(&url);
            if let (Some(token), _) = super::resolve_token() {
                req = req.bearer_auth(token);
            }
            let response = req.send().await.map_err(|e| err(&e))?;
            let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
            let status = response.status();
            if status.is_redirection() {
                if let Some(location) = header("location").filter(|l| l.starts_with('/')) {
                    let base = reqwest::Url::parse(&url).map_err(|e| err(&e))?;
                    url = base.join(&location).map_err(|e| err(&e))?.to_string();
                    continue;
                }
            } else if !status.is_success() {
                let detail = match (status.as_u16(), header("x-error-code").as_deref()) {
                    (_, Some("RepoNotFound")) => "repository not found (or private: set HF_TOKEN)".to_string(),
                    (_, Some("RevisionNotFound")) => format!("revision {revision:?} not found"),
                    (_, Some("EntryNotFound")) | (404, _) => "file not found in the repository".to_string(),
                    (401 | 403, _) => "access denied: this repo is gated or private (set HF_TOKEN)".to_string(),
                    (code, _) => format!("HTTP {code}"),
                };
                return Err(err(&detail));
            }
            let commit = header("x-repo-commit").ok_or_else(|| err(&"the Hub sent no X-Repo-Commit header"))?;
            let etag = header("x-linked-etag").or_else(|| header("etag")).ok_or_else(|| err(&"the Hub sent no ETag"))?;
            let etag = etag.trim_start_matches("W/").trim_matches('"').to_string();
            let size = header("x-linked-size")
                .or_else(|| header("content-length"))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| err(&"the Hub sent no file size"))?;
            return Ok(FileMeta { commit_hash: commit, etag, file_size: size });
        }
        Err(err(&"too many redirects"))
    }

    async fn fetch_blob<T: RepoType>(
        &self,
        repo: &HFRepository<T>,
        file: &str,
        commit: &str,
        total: u64,
        blob: &Path,
        on_progress: &mut dyn FnMut(FileProgress),
    ) -> CoreResult<()> {
        let partial = PathBuf::from(format!("{}.incomplete", blob.display()));
        if let Some(parent) = partial.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CoreError::io(parent, e))?;
        }
        let mut start = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
        if start > total {
            start = 0;
        }
        let resumed_from = start;
        let range = (start > 0 && start < total).then_some(start..total);
        let (length, mut stream) = repo
            .download_file_stream()
            .filename(file.to_string())
            .revision(commit.to_string())
            .maybe_range(range)
            .send()
            .await
            .map_err(|e| self.hub_err(format!("{file}: {e}")))?;
        // A server that ignores the range sends the whole file again: start over.
        let restart = start > 0 && length == Some(total);
        if restart {
            start = 0;
        }
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(!restart)
            .write(true)
            .truncate(restart)
            .open(&partial)
            .map_err(|e| CoreError::io(&partial, e))?;
        let mut bytes = start;
        let (mut last_report, mut bytes_at_report) = (Instant::now(), bytes);
        let report = |bytes: u64, rate: f64, done: bool| FileProgress {
            file: file.to_string(),
            bytes,
            total,
            rate,
            resumed_from,
            done,
        };
        on_progress(report(bytes, 0.0, false));
        while let Some(chunk) = stream.next().await {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(CoreError::Cancelled);
            }
            let chunk = chunk.map_err(|e| self.hub_err(format!("{file}: interrupted after {bytes} of {total} bytes: {e}")))?;
            out.write_all(&chunk).map_err(|e| CoreError::io(&partial, e))?;
            bytes += chunk.len() as u64;
            let elapsed = last_report.elapsed();
            if elapsed >= REPORT_EVERY {
                let rate = (bytes - bytes_at_report) as f64 / elapsed.as_secs_f64();
                on_progress(report(bytes, rate, false));
                (last_report, bytes_at_report) = (Instant::now(), bytes);
            }
        }
        out.flush().map_err(|e| CoreError::io(&partial, e))?;
        drop(out);
        if bytes != total {
            return Err(self.hub_err(format!("{file}: interrupted after {bytes} of {total} bytes")));
        }
        std::fs::rename(&partial, blob).map_err(|e| CoreError::io(blob, e))?;
        on_progress(report(bytes, 0.0, true));
        Ok(())
    }
}

/// The Hub's resolve URL of a file, encoded as huggingface_hub encodes it: the revision as one path
/// segment (`refs/convert/parquet` → `refs%2Fconvert%2Fparquet`), the file path segment by segment.
pub(crate) fn resolve_url(endpoint: &str, kind: RepoKind, repo: &str, revision: &str, file: &str) -> String {
    let prefix = match kind {
        RepoKind::Model => "",
        RepoKind::Dataset => "datasets/",
    };
    format!(
        "{}/{prefix}{repo}/resolve/{}/{}",
        endpoint.trim_end_matches('/'),
        quote(revision, false),
        quote(file, true)
    )
}

/// Python's `urllib.parse.quote`: everything but `A-Za-z0-9-._~` (and `/` when `keep_slash`) is
/// percent-encoded as UTF-8 bytes.
fn quote(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || (keep_slash && byte == b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `snapshots/<commit>/<file>` → `../../blobs/<etag>` (one more `..` per folder level of `file`).
fn link_snapshot(snapshot: &Path, file: &str, blob: &Path) -> CoreResult<()> {
    let link = snapshot.join(file);
    let parent = link.parent().unwrap_or(snapshot);
    std::fs::create_dir_all(parent).map_err(|e| CoreError::io(parent, e))?;
    let depth = file.matches('/').count() + 2;
    let mut target = PathBuf::new();
    for _ in 0..depth {
        target.push("..");
    }
    target.push("blobs");
    target.push(blob.file_name().unwrap_or_default());
    if link.symlink_metadata().is_ok() {
        std::fs::remove_file(&link).map_err(|e| CoreError::io(&link, e))?;
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link).map_err(|e| CoreError::io(&link, e))?;
    #[cfg(not(unix))]
    std::fs::copy(blob, &link).map(|_| ()).map_err(|e| CoreError::io(&link, e))?;
    Ok(())
}

fn write_ref(cache_repo: &Path, revision: &str, commit: &str) -> CoreResult<()> {
    let path = cache_repo.join("refs").join(revision);
    let parent = path.parent().unwrap_or(cache_repo);
    std::fs::create_dir_all(parent).map_err(|e| CoreError::io(parent, e))?;
    std::fs::write(&path, commit).map_err(|e| CoreError::io(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_urls_encode_the_revision_as_one_segment() {
        assert_eq!(
            resolve_url("https://huggingface.co/", RepoKind::Dataset, "o/n", "refs/convert/parquet", "default/train/0000.parquet"),
            "https://huggingface.co/datasets/o/n/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet"
        );
        assert_eq!(
            resolve_url("http://h", RepoKind::Model, "o/m", "main", "a b/c#d.txt"),
            "http://h/o/m/resolve/main/a%20b/c%23d.txt"
        );
    }
}
