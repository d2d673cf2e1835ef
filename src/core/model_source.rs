//! Where a model comes from (the built-in demo, a local folder, a bare config.json or a Hub repo) and
//! loading what the app needs from it: the tokenizer and the config summary.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::config::ConfigSummary;
use super::demo::{demo_encoder_dir, DEMO_SPEC};
use super::hub::HubSettings;
use super::text::tokenizer::TextTokenizer;
use super::{CoreError, CoreResult};

/// A model named by the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ModelSpec {
    /// The built-in demo: its tokenizer and the small demo encoder (no network, nothing in the cache).
    Demo,
    /// A folder with config.json and tokenizer.json or vocab.txt, or a path to a config.json.
    Local(PathBuf),
    /// A Hub repo id, optionally `@revision`.
    Hub { repo: String, revision: Option<String> },
}

impl ModelSpec {
    /// Reads a spec as the user typed it. An existing path is local; something shaped like a Hub
    /// repo id (`name` or `owner/name`) is a Hub repo; anything else is a local path (and will fail
    /// with "not found" when loaded).
    pub fn parse(spec: &str) -> CoreResult<Self> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(CoreError::InvalidSpec { spec: spec.into(), message: "empty".into() });
        }
        if spec == DEMO_SPEC {
            return Ok(Self::Demo);
        }
        let path = expand_home(spec);
        if path.exists() || !looks_like_repo_id(spec) {
            return Ok(Self::Local(path));
        }
        let (repo, revision) = match spec.split_once('@') {
            Some((repo, rev)) => (repo.to_string(), Some(rev.to_string())),
            None => (spec.to_string(), None),
        };
        Ok(Self::Hub { repo, revision })
    }

    /// The spec as it would be typed: `parse(spec.to_spec_string())` gives the spec back.
    pub fn to_spec_string(&self) -> String {
        match self {
            Self::Demo => DEMO_SPEC.into(),
            other => other.label(),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Self::Demo => "built-in demo".into(),
            Self::Local(path) => path.display().to_string(),
            Self::Hub { repo, revision: Some(rev) } => format!("{repo}@{rev}"),
            Self::Hub { repo, revision: None } => repo.clone(),
        }
    }
}

fn expand_home(spec: &str) -> PathBuf {
    match spec.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
        None => PathBuf::from(spec),
    }
}

/// `name` or `owner/name` (optionally `@revision`) made of the characters the Hub allows, and not
/// written like a path.
fn looks_like_repo_id(spec: &str) -> bool {
    let id = spec.split_once('@').map_or(spec, |(id, _)| id);
    let allowed = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    let parts: Vec<&str> = id.split('/').collect();
    !spec.starts_with(['.', '/', '~'])
        && !id.contains("..")
        && !id.ends_with(".json")
        && matches!(parts.len(), 1 | 2)
        && parts.iter().all(|p| allowed(p))
}

/// The files of a model that were found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelFiles {
    pub dir: PathBuf,
    pub config: Option<PathBuf>,
    pub tokenizer_json: Option<PathBuf>,
    pub vocab_txt: Option<PathBuf>,
    pub tokenizer_config: Option<PathBuf>,
}

impl ModelFiles {
    /// Looks for the known files in a folder.
    pub fn in_dir(dir: &Path) -> Self {
        let some = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
        Self {
            dir: dir.to_path_buf(),
            config: some("config.json"),
            tokenizer_json: some("tokenizer.json"),
            vocab_txt: some("vocab.txt"),
            tokenizer_config: some("tokenizer_config.json"),
        }
    }
}

/// What loading a model gives the app.
#[derive(Debug)]
pub struct ModelInfo {
    pub spec: ModelSpec,
    /// A short name: the repo id, the folder name, or "built-in demo".
    pub name: String,
    pub files: Option<ModelFiles>,
    pub tokenizer: TextTokenizer,
    pub config: Option<ConfigSummary>,
}

/// Progress of a load, for the UI's job list.
pub type ProgressFn<'a> = &'a mut dyn FnMut(&str, Option<f32>);

/// Loads a model's tokenizer and config from wherever the spec points.
pub fn load_model(spec: &ModelSpec, hub: &HubSettings, progress: ProgressFn<'_>) -> CoreResult<ModelInfo> {
    match spec {
        ModelSpec::Demo => {
            progress("writing the demo encoder", None);
            load_files(spec, "built-in demo".into(), ModelFiles::in_dir(&demo_encoder_dir()?))
        }
        ModelSpec::Local(path) => {
            progress(&format!("reading {}", path.display()), None);
            let files = local_files(path)?;
            let name = files.dir.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            load_files(spec, name, files)
        }
        ModelSpec::Hub { repo, revision } => {
            let dir = hub.fetch_model_files(
                repo,
                revision.as_deref(),
                &["config.json"],
                &["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"],
                &mut |file, i, n| progress(&format!("{repo}: {file}"), Some(i as f32 / n as f32)),
            )?
            .dir;
            load_files(spec, repo.clone(), ModelFiles::in_dir(&dir))
        }
    }
}

fn local_files(path: &Path) -> CoreResult<ModelFiles> {
    if path.is_file() && path.file_name().is_some_and(|n| n == "config.json") {
        return Ok(ModelFiles::in_dir(path.parent().unwrap_or(Path::new("."))));
    }
    if !path.is_dir() {
        return Err(CoreError::FolderNotFound { path: path.to_path_buf() });
    }
    Ok(ModelFiles::in_dir(path))
}

fn load_files(spec: &ModelSpec, name: String, files: ModelFiles) -> CoreResult<ModelInfo> {
    let config = files.config.as_deref().map(ConfigSummary::from_file).transpose()?;
    let tokenizer = load_tokenizer(&files)?;
    Ok(ModelInfo { spec: spec.clone(), name, files: Some(files), tokenizer, config })
}

/// tokenizer.json when present, else a BERT WordPiece tokenizer built from vocab.txt (lower-casing
/// as tokenizer_config.json's `do_lower_case` says, default true).
pub fn load_tokenizer(files: &ModelFiles) -> CoreResult<TextTokenizer> {
    if let Some(path) = &files.tokenizer_json {
        return TextTokenizer::from_tokenizer_json(path);
    }
    if let Some(path) = &files.vocab_txt {
        let lowercase = match &files.tokenizer_config {
            Some(cfg) => {
                let text = std::fs::read_to_string(cfg).map_err(|e| CoreError::io(cfg, e))?;
                let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| CoreError::parse(cfg, e))?;
                value.get("do_lower_case").and_then(serde_json::Value::as_bool).unwrap_or(true)
            }
            None => true,
        };
        return TextTokenizer::from_vocab_txt(path, lowercase);
    }
    Err(CoreError::NoTokenizer { path: files.dir.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_read_like_transformers_reads_them() {
        assert_eq!(ModelSpec::parse("builtin:demo").unwrap(), ModelSpec::Demo);
        for spec in ["builtin:demo", "owner/name@rev", "owner/name", "/models/x"] {
            assert_eq!(ModelSpec::parse(spec).unwrap().to_spec_string(), spec);
        }
        assert_eq!(
            ModelSpec::parse("sentence-transformers/all-MiniLM-L6-v2").unwrap(),
            ModelSpec::Hub { repo: "sentence-transformers/all-MiniLM-L6-v2".into(), revision: None }
        );
        assert_eq!(
            ModelSpec::parse("bert-base-uncased@main").unwrap(),
            ModelSpec::Hub { repo: "bert-base-uncased".into(), revision: Some("main".into()) }
        );
        assert_eq!(ModelSpec::parse("./models/x").unwrap(), ModelSpec::Local("./models/x".into()));
        assert_eq!(ModelSpec::parse("/no/such/dir").unwrap(), ModelSpec::Local("/no/such/dir".into()));
        assert_eq!(ModelSpec::parse("a/b/c").unwrap(), ModelSpec::Local("a/b/c".into()));
        assert!(ModelSpec::parse("  ").is_err());
    }

    #[test]
    fn missing_folder_is_named() {
        let err = load_model(&ModelSpec::Local("/no/such/model".into()), &HubSettings::from_env(), &mut |_, _| {}).unwrap_err();
        assert_eq!(err.to_string(), "model folder not found: /no/such/model");
    }

    #[test]
    fn folder_without_tokenizer_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"model_type":"bert"}"#).unwrap();
        let err = load_model(&ModelSpec::Local(dir.path().into()), &HubSettings::from_env(), &mut |_, _| {}).unwrap_err();
        assert!(matches!(err, CoreError::NoTokenizer { .. }), "{err}");
        assert!(err.to_string().contains(&dir.path().display().to_string()));
    }

    #[test]
    fn corrupt_tokenizer_json_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tokenizer.json"), "{ not json").unwrap();
        let err = load_model(&ModelSpec::Local(dir.path().into()), &HubSettings::from_env(), &mut |_, _| {}).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cannot parse ") && msg.contains("tokenizer.json"), "{msg}");
    }
}
