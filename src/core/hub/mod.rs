//! Access to the Hugging Face Hub through hf-hub and the standard HF cache shared with Python.
//!
//! Settings come from the same environment variables as `huggingface_hub`: `HF_ENDPOINT`, `HF_HOME`,
//! `HF_HUB_CACHE`, `HF_HUB_OFFLINE`, `HF_TOKEN` / `HF_TOKEN_PATH`.

use std::path::{Path, PathBuf};

use hf_hub::{HFClientSync, HFError};

use super::{CoreError, CoreResult};

pub mod download;
pub mod search;

/// Where and how to reach the Hub.
#[derive(Clone, Debug, PartialEq)]
pub struct HubSettings {
    /// `None`: `HF_ENDPOINT` or https://huggingface.co.
    pub endpoint: Option<String>,
    /// The hub cache folder (`models--owner--name/…` lives in here).
    pub cache_dir: PathBuf,
    /// Never touch the network; use what is cached.
    pub offline: bool,
}

impl HubSettings {
    /// Settings from the environment, as Python's huggingface_hub reads them.
    pub fn from_env() -> Self {
        Self {
            endpoint: std::env::var("HF_ENDPOINT").ok().filter(|s| !s.is_empty()),
            cache_dir: hf_hub::resolve_cache_dir(),
            offline: env_flag("HF_HUB_OFFLINE") || env_flag("TRANSFORMERS_OFFLINE"),
        }
    }

    pub fn endpoint_label(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| "https://huggingface.co".into())
    }

    fn builder(&self) -> hf_hub::HFClientBuilder {
        let mut builder = hf_hub::HFClient::builder().cache_dir(self.cache_dir.clone()).retry_max_attempts(2);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.endpoint(endpoint.clone());
        }
        builder
    }

    /// A blocking client (it runs its own runtime thread).
    pub(crate) fn client(&self) -> Result<HFClientSync, HFError> {
        self.builder().build_sync()
    }

    /// An async client, for streaming downloads driven by our own runtime.
    pub(crate) fn async_client(&self) -> Result<hf_hub::HFClient, HFError> {
        self.builder().build()
    }

    /// Refuses network work in offline mode with an error naming the repo.
    pub(crate) fn require_online(&self, repo: &str) -> CoreResult<()> {
        if self.offline {
            return Err(CoreError::Hub { repo: repo.to_string(), message: "offline mode is on (HF_HUB_OFFLINE): only cached repos can be used".into() });
        }
        Ok(())
    }

    /// Resolves files of a model repo into the cache (downloading what is missing unless offline) and
    /// returns the snapshot folder holding them. `required` files must exist; `optional` ones are
    /// fetched when the repo has them. `on_file` is told each file before it is fetched.
    ///
    /// When the Hub cannot be reached (no network, a Hub error) it uses what is cached, as
    /// huggingface_hub does: a cached file is used as it is, an optional file that is not cached counts
    /// as absent (and the reason is kept in [`Fetched::unreachable`]), a required one that is not cached
    /// is an error that says the Hub could not be reached.
    pub fn fetch_model_files(
        &self,
        repo: &str,
        revision: Option<&str>,
        required: &[&str],
        optional: &[&str],
        on_file: &mut dyn FnMut(&str, usize, usize),
    ) -> CoreResult<Fetched> {
        let hub_err = |message: String| CoreError::Hub { repo: repo.to_string(), message };
        let client = self.client().map_err(|e| hub_err(e.to_string()))?;
        let (owner, name) = hf_hub::split_id(repo);
        let model = client.model(owner, name);
        let total = required.len() + optional.len();
        let mut snapshot: Option<PathBuf> = None;
        let mut unreachable: Option<String> = None;
        let files = required.iter().map(|f| (*f, true)).chain(optional.iter().map(|f| (*f, false)));
        for (index, (file, is_required)) in files.enumerate() {
            on_file(file, index, total);
            let fetch = |local_only: bool| {
                model
                    .download_file()
                    .filename(file.to_string())
                    .maybe_revision(revision.map(str::to_string))
                    .local_files_only(local_only)
                    .send()
            };
            // Once the Hub has not answered, the other files come from the cache without asking again
            // (a hanging network would otherwise cost a timeout per file).
            let local_only = self.offline || unreachable.is_some();
            let mut result = fetch(local_only);
            if let Err(e) = &result {
                if !local_only && is_unreachable(e) {
                    unreachable = Some(e.to_string());
                    result = fetch(true);
                }
            }
            match result {
                Ok(path) => {
                    if snapshot.is_none() {
                        snapshot = path.parent().map(Path::to_path_buf);
                    }
                }
                Err(HFError::LocalEntryNotFound { .. }) if is_required => {
                    return Err(match &unreachable {
                        Some(why) => hub_err(format!("the Hub could not be reached ({why}) and {file} is not in the cache")),
                        None => CoreError::NotCached { repo: repo.to_string(), cache: self.cache_dir.clone() },
                    });
                }
                Err(HFError::LocalEntryNotFound { .. } | HFError::EntryNotFound { .. }) if !is_required => {}
                Err(e) => return Err(hub_err(e.to_string())),
            }
        }
        let dir = snapshot.ok_or_else(|| hub_err("no files resolved".into()))?;
        Ok(Fetched { dir, unreachable })
    }
}

/// The snapshot folder of a model repo, and why the Hub could not be reached if the cache had to do.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub dir: PathBuf,
    /// Set when the Hub did not answer and cached files were used instead.
    pub unreachable: Option<String>,
}

/// Errors after which cached files may stand in: the request never got an answer, or the Hub failed.
/// (Not found, gated, or unauthorised are answers: they are reported as they are.)
pub(crate) fn is_unreachable(error: &HFError) -> bool {
    match error {
        HFError::Request { .. } | HFError::RateLimited { .. } => true,
        HFError::Http { context } => context.status.is_server_error(),
        _ => false,
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

/// The Hub token as huggingface_hub finds it: `HF_TOKEN`, else the token file (`HF_TOKEN_PATH` or
/// `$HF_HOME/token`), with where it came from. `HF_HUB_DISABLE_IMPLICIT_TOKEN` turns this off.
pub(crate) fn resolve_token() -> (Option<String>, &'static str) {
    if env_flag("HF_HUB_DISABLE_IMPLICIT_TOKEN") {
        return (None, "disabled");
    }
    if let Some(t) = std::env::var("HF_TOKEN").ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        return (Some(t), "HF_TOKEN");
    }
    let path = std::env::var("HF_TOKEN_PATH").map(PathBuf::from).unwrap_or_else(|_| hf_hub::hf_home().join("token"));
    (std::fs::read_to_string(path).ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()), "token file")
}

/// Where the Hub token comes from, for display: the token itself is never shown in full.
pub fn token_status() -> String {
    let (token, source) = resolve_token();
    match token {
        Some(t) => format!("{} ({source})", mask_token(&t)),
        None => "none (public repos only)".into(),
    }
}

/// `hf_abcdefgh1234` → `hf_…34`: enough to tell tokens apart, never enough to use one.
pub fn mask_token(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() <= 8 {
        return "…".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_token_hides_the_secret() {
        let masked = mask_token("hf_abcdefghijklmnop");
        assert_eq!(masked, "hf_…op");
        assert!(!masked.contains("abcdef"));
        assert_eq!(mask_token("short"), "…");
    }
}
