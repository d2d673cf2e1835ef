//! Errors of the model core. Every variant names the file, tensor or field it is about.

use std::path::PathBuf;

use crate::core::CoreError;

pub type ModelResult<T> = Result<T, ModelError>;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot parse {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },

    #[error("config: {0}")]
    Config(String),

    #[error("unsupported model type {0:?} (supported: bert, distilbert, roberta)")]
    UnsupportedModelType(String),

    #[error("unsupported activation {0:?} (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, tanh)")]
    UnsupportedActivation(String),

    #[error("{tensor}: expected shape {expected:?}, found {found:?} in {}", file.display())]
    ShapeMismatch { tensor: String, expected: Vec<usize>, found: Vec<usize>, file: PathBuf },

    #[error("{tensor} in {}: {message}", file.display())]
    BadTensor { tensor: String, file: PathBuf, message: String },

    #[error("no weights in {}: expected model.safetensors or model.safetensors.index.json", dir.display())]
    NoWeights { dir: PathBuf },

    #[error("{}: pytorch_model.bin (pickle) is only read with the explicit opt-in (allow_pickle); convert it to safetensors or opt in", path.display())]
    PickleNotAllowed { path: PathBuf },

    #[error("the model has no {0}")]
    MissingPart(String),

    #[error("bad input: {0}")]
    Input(String),

    #[error("{context}: {source}")]
    Candle {
        context: String,
        #[source]
        source: candle_core::Error,
    },

    #[error(transparent)]
    Core(#[from] CoreError),
}

impl ModelError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub fn parse(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        Self::Parse { path: path.into(), message: message.to_string() }
    }
}

/// Attaches a context to candle errors: `tensor_op().ctx("attention")?`.
pub trait CandleContext<T> {
    fn ctx(self, context: &str) -> ModelResult<T>;
}

impl<T> CandleContext<T> for candle_core::Result<T> {
    fn ctx(self, context: &str) -> ModelResult<T> {
        self.map_err(|source| ModelError::Candle { context: context.to_string(), source })
    }
}
