//! A local HTTP server that speaks the parts of the Hugging Face Hub API the app uses, so the real
//! hf-hub client can be tested against it through `HF_ENDPOINT` (no mocks of our own functions):
//! model/dataset search, repo info and tree listing, file resolve (HEAD with ETag / X-Repo-Commit,
//! redirects to a "CDN" path for large files with X-Linked-Etag / X-Linked-Size), ranged GETs, and an
//! optional cut connection to test resuming. Repos may have further revisions (such as the dataset
//! Parquet conversion on `refs/convert/parquet`, which the Hub wants percent-encoded as one path
//! segment: `refs%2Fconvert%2Fparquet`) and card data (`cardData` in the repo info).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Files at or above this size are served like LFS files (302 to the CDN path).
const LFS_THRESHOLD: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct Repo {
    /// "models" or "datasets".
    pub kind: &'static str,
    pub id: String,
    pub sha: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub downloads: u64,
    pub likes: u64,
    pub pipeline_tag: Option<String>,
    pub library: Option<String>,
    /// Further revisions besides `main`, e.g. `refs/convert/parquet`.
    pub revisions: Vec<Revision>,
    /// The dataset card's metadata, served as `cardData` in the repo info.
    pub card_data: Option<serde_json::Value>,
}

/// A file's path and bytes.
pub type RepoFileBytes = (String, Vec<u8>);

/// A named revision (branch or ref) with its own commit and files.
#[derive(Clone, Debug)]
pub struct Revision {
    pub name: String,
    pub sha: String,
    pub files: Vec<(String, Vec<u8>)>,
}

impl Repo {
    /// Adds a revision named `name` (a fresh commit) holding `files`.
    pub fn with_revision(mut self, name: &str, files: Vec<(String, Vec<u8>)>) -> Self {
        let sha = format!("{:040x}", fnv(format!("{}@{name}", self.id).as_bytes()) as u128 * 0x1_0000_0003);
        self.revisions.push(Revision { name: name.into(), sha, files });
        self
    }

    /// The files at a revision: `main`, a further revision's name, or a commit.
    fn files_at(&self, revision: &str) -> Option<(&str, &[RepoFileBytes])> {
        if revision == "main" || revision == self.sha {
            return Some((&self.sha, &self.files));
        }
        self.revisions.iter().find(|r| r.name == revision || r.sha == revision).map(|r| (r.sha.as_str(), &r.files[..]))
    }

    fn all_files(&self) -> impl Iterator<Item = &(String, Vec<u8>)> {
        self.files.iter().chain(self.revisions.iter().flat_map(|r| r.files.iter()))
    }
}

impl Repo {
    pub fn model(id: &str, files: Vec<(String, Vec<u8>)>) -> Self {
        Self {
            kind: "models",
            id: id.into(),
            sha: format!("{:040x}", fnv(id.as_bytes()) as u128 * 0x1_0000_0001),
            files,
            downloads: 0,
            likes: 0,
            pipeline_tag: None,
            library: Some("transformers".into()),
            revisions: Vec::new(),
            card_data: None,
        }
    }

    pub fn dataset(id: &str, files: Vec<(String, Vec<u8>)>) -> Self {
        Self { kind: "datasets", library: None, ..Self::model(id, files) }
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
}

#[derive(Default)]
struct State {
    repos: Vec<Repo>,
    log: Vec<Logged>,
    /// Cut the body of the next GET of this file after this many bytes.
    cut: Option<(String, usize)>,
}

pub struct HubServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn etag(bytes: &[u8]) -> String {
    format!("{:016x}{:016x}", fnv(bytes), bytes.len())
}

impl HubServer {
    pub fn start(repos: Vec<Repo>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State { repos, ..State::default() }));
        let shared = state.clone();
        let base = url.clone();
        std::thread::Builder::new()
            .name("hub-test-server".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let state = shared.clone();
                    let base = base.clone();
                    std::thread::spawn(move || {
                        let _ = handle(stream, &state, &base);
                    });
                }
            })
            .unwrap();
        Self { url, state }
    }

    /// The next GET of `file` sends only `bytes` bytes of the body, then drops the connection.
    pub fn cut_next_download(&self, file: &str, bytes: usize) {
        self.state.lock().unwrap().cut = Some((file.to_string(), bytes));
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }
}

struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    if let Some(len) = headers.get("content-length").and_then(|l| l.parse::<usize>().ok()) {
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
    }
    let (path, query) = target.split_once('?').map_or((target.clone(), ""), |(p, q)| (p.to_string(), q));
    let query = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v).replace('+', " ")))
        .collect();
    Some(Request { method, path, query, headers })
}

/// Decodes `%XX` escapes (in a path segment, `+` stays `+`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let mut text = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

fn json(stream: &mut TcpStream, value: &serde_json::Value) -> std::io::Result<()> {
    let body = value.to_string();
    respond(stream, "200 OK", &[("Content-Type".into(), "application/json".into())], body.as_bytes(), false)
}

fn not_found(stream: &mut TcpStream, code: &str, what: &str) -> std::io::Result<()> {
    let body = serde_json::json!({ "error": what }).to_string();
    let headers =
        [("Content-Type".to_string(), "application/json".to_string()), ("X-Error-Code".to_string(), code.to_string())];
    respond(stream, "404 Not Found", &headers, body.as_bytes(), false)
}

/// The Hub's answer for an unknown revision (also what a `refs/convert/parquet` sent unencoded gets: its
/// first segment, `refs`, is no revision).
fn revision_not_found(stream: &mut TcpStream, revision: &str) -> std::io::Result<()> {
    not_found(stream, "RevisionNotFound", &format!("Invalid rev id: {revision}"))
}

fn hit(repo: &Repo) -> serde_json::Value {
    serde_json::json!({
        "_id": format!("id-{}", repo.id),
        "id": repo.id,
        "downloads": repo.downloads,
        "likes": repo.likes,
        "pipeline_tag": repo.pipeline_tag,
        "library_name": repo.library,
        "lastModified": "2026-11-01T12:00:00.000Z",
        "private": false,
        "sha": repo.sha,
        "tags": [],
    })
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, base: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let Some(req) = read_request(&stream) else { return Ok(()) };
    let head = req.method == "HEAD";
    let (repos, cut) = {
        let mut s = state.lock().unwrap();
        s.log.push(Logged {
            method: req.method.clone(),
            path: req.path.clone(),
            range: req.headers.get("range").cloned(),
        });
        (s.repos.clone(), s.cut.clone())
    };
    // As on the Hub, the raw path is split at `/` before decoding: an encoded `%2F` stays inside its
    // segment (revisions such as `refs%2Fconvert%2Fparquet`).
    let decoded: Vec<String> = req.path.trim_start_matches('/').split('/').map(percent_decode).collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();

    // Search: /api/models, /api/datasets
    if let ["api", kind @ ("models" | "datasets")] = segments.as_slice() {
        let search = req.query.get("search").map(|s| s.to_lowercase()).unwrap_or_default();
        let mut found: Vec<&Repo> = repos
            .iter()
            .filter(|r| r.kind == *kind && r.id.to_lowercase().contains(&search))
            .filter(|r| req.query.get("pipeline_tag").is_none_or(|t| r.pipeline_tag.as_ref() == Some(t)))
            .collect();
        match req.query.get("sort").map(String::as_str) {
            Some("likes") => found.sort_by_key(|r| std::cmp::Reverse(r.likes)),
            _ => found.sort_by_key(|r| std::cmp::Reverse(r.downloads)),
        }
        let limit = req.query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(usize::MAX);
        let list: Vec<_> = found.into_iter().take(limit).map(hit).collect();
        return json(&mut stream, &serde_json::Value::Array(list));
    }

    // Repo info and tree: /api/{kind}/{owner}/{name}[/revision/{rev}] and /api/{kind}/{owner}/{name}/tree/{rev}
    if let ["api", kind @ ("models" | "datasets"), owner, name, rest @ ..] = segments.as_slice() {
        let id = format!("{owner}/{name}");
        let Some(repo) = repos.iter().find(|r| r.kind == *kind && r.id == id) else {
            return not_found(&mut stream, "RepoNotFound", "Repository not found");
        };
        if let ["tree", revision] = rest {
            let Some((_, files)) = repo.files_at(revision) else {
                return revision_not_found(&mut stream, revision);
            };
            // Recursive listings hold the folders too, before their files.
            let mut entries = Vec::new();
            let mut folders: Vec<String> = Vec::new();
            for (path, bytes) in files {
                let parts: Vec<&str> = path.split('/').collect();
                for depth in 1..parts.len() {
                    let folder = parts[..depth].join("/");
                    if !folders.contains(&folder) {
                        entries.push(serde_json::json!({"type": "directory", "oid": etag(folder.as_bytes()), "size": 0, "path": folder}));
                        folders.push(folder);
                    }
                }
                entries
                    .push(serde_json::json!({"type": "file", "oid": etag(bytes), "size": bytes.len(), "path": path}));
            }
            return json(&mut stream, &serde_json::Value::Array(entries));
        }
        let mut info = hit(repo);
        info["siblings"] =
            repo.files.iter().map(|(p, b)| serde_json::json!({"rfilename": p, "size": b.len()})).collect();
        if let Some(card) = &repo.card_data {
            info["cardData"] = card.clone();
        }
        return json(&mut stream, &info);
    }

    // The "CDN": /cdn/{etag}
    if let ["cdn", tag] = segments.as_slice() {
        let file = repos.iter().flat_map(|r| r.all_files()).find(|(_, b)| etag(b) == *tag);
        return match file {
            Some((name, bytes)) => serve_bytes(&mut stream, &req, name, bytes, head, state, cut),
            None => not_found(&mut stream, "EntryNotFound", "no such blob"),
        };
    }

    // Resolve: /{owner}/{name}/resolve/{rev}/{file…} and /datasets/{owner}/{name}/resolve/{rev}/{file…}
    let (kind, rest) = match segments.as_slice() {
        ["datasets", rest @ ..] => ("datasets", rest),
        rest => ("models", rest),
    };
    if let [owner, name, "resolve", revision, file @ ..] = rest {
        let id = format!("{owner}/{name}");
        let Some(repo) = repos.iter().find(|r| r.kind == kind && r.id == id) else {
            return not_found(&mut stream, "RepoNotFound", "Repository not found");
        };
        let Some((sha, files)) = repo.files_at(revision) else {
            return revision_not_found(&mut stream, revision);
        };
        let file = file.join("/");
        let Some((_, bytes)) = files.iter().find(|(p, _)| *p == file) else {
            return not_found(&mut stream, "EntryNotFound", "Entry not found");
        };
        let tag = etag(bytes);
        if bytes.len() >= LFS_THRESHOLD {
            let headers = vec![
                ("Location".to_string(), format!("{base}/cdn/{tag}")),
                ("X-Repo-Commit".to_string(), sha.to_string()),
                ("X-Linked-Etag".to_string(), format!("\"{tag}\"")),
                ("X-Linked-Size".to_string(), bytes.len().to_string()),
                ("ETag".to_string(), format!("\"{tag}-pointer\"")),
                ("Content-Length".to_string(), "0".to_string()),
            ];
            return respond(&mut stream, "302 Found", &headers, b"", true);
        }
        let mut s = stream;
        let headers = vec![("X-Repo-Commit".to_string(), sha.to_string()), ("ETag".to_string(), format!("\"{tag}\""))];
        return serve_with(&mut s, &req, &file, bytes, head, state, cut, headers);
    }
    not_found(&mut stream, "NotFound", "no such endpoint")
}

fn serve_bytes(
    stream: &mut TcpStream,
    req: &Request,
    name: &str,
    bytes: &[u8],
    head: bool,
    state: &Mutex<State>,
    cut: Option<(String, usize)>,
) -> std::io::Result<()> {
    serve_with(stream, req, name, bytes, head, state, cut, vec![("ETag".to_string(), format!("\"{}\"", etag(bytes)))])
}

#[allow(clippy::too_many_arguments)]
fn serve_with(
    stream: &mut TcpStream,
    req: &Request,
    name: &str,
    bytes: &[u8],
    head: bool,
    state: &Mutex<State>,
    cut: Option<(String, usize)>,
    mut headers: Vec<(String, String)>,
) -> std::io::Result<()> {
    let total = bytes.len();
    let (status, body) = match req.headers.get("range").and_then(|r| r.strip_prefix("bytes=")) {
        Some(range) => {
            let (a, b) = range.split_once('-').unwrap_or((range, ""));
            let start: usize = a.parse().unwrap_or(0);
            let end: usize = b.parse::<usize>().map_or(total, |e| e + 1).min(total);
            headers.push(("Content-Range".into(), format!("bytes {start}-{}/{total}", end.saturating_sub(1))));
            ("206 Partial Content", &bytes[start.min(end)..end])
        }
        None => ("200 OK", bytes),
    };
    headers.push(("Content-Length".into(), body.len().to_string()));
    headers.push(("Accept-Ranges".into(), "bytes".into()));
    if !head {
        if let Some((file, after)) = cut.filter(|(f, _)| f == name) {
            state.lock().unwrap().cut = None;
            respond(stream, status, &headers, &body[..after.min(body.len())], false)?;
            return stream.shutdown(std::net::Shutdown::Both).map(|_| drop(file));
        }
    }
    respond(stream, status, &headers, body, head)
}
