//! Errors of the core. Every variant names the file, repository or field it is about.

use std::path::PathBuf;

pub type CoreResult<T> = Result<T, CoreError>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("model folder not found: {}", path.display())]
    FolderNotFound { path: PathBuf },

    #[error("no tokenizer in {}: expected tokenizer.json or vocab.txt", path.display())]
    NoTokenizer { path: PathBuf },

    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot parse {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },

    #[error("{repo} is not in the Hugging Face cache at {} and offline mode is on (HF_HUB_OFFLINE)", cache.display())]
    NotCached { repo: String, cache: PathBuf },

    #[error("Hugging Face Hub, {repo}: {message}")]
    Hub { repo: String, message: String },

    #[error("invalid model spec {spec:?}: {message}")]
    InvalidSpec { spec: String, message: String },

    #[error("{0}")]
    Data(String),

    #[error("{0}")]
    Model(String),

    #[error("cancelled")]
    Cancelled,

    #[error("tokenizer: {0}")]
    Tokenize(String),
}

impl CoreError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub fn parse(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        Self::Parse { path: path.into(), message: message.to_string() }
    }
}

impl From<super::data::DataError> for CoreError {
    fn from(e: super::data::DataError) -> Self {
        match e {
            super::data::DataError::Cancelled => Self::Cancelled,
            e => Self::Data(e.to_string()),
        }
    }
}
