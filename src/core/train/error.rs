//! Errors of the trainer. A failed run ends with one `TrainerEvent::Failed` whose message is the
//! error's `Display`.

use std::path::PathBuf;

use crate::core::data::DataError;
use crate::core::model::ModelError;
use crate::core::CoreError;

pub type TrainResult<T> = Result<T, TrainError>;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot parse {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },

    /// A setting that cannot work (the message names it).
    #[error("invalid setting: {0}")]
    Config(String),

    #[error("non-finite {what} ({value}) at step {step}: lower the learning rate or enable gradient clipping")]
    NonFinite { step: u64, what: &'static str, value: f64 },

    #[error("no complete checkpoint in {}: expected trainer_state.json there or in a folder of checkpoints/", path.display())]
    NoCheckpoint { path: PathBuf },

    #[error(transparent)]
    Model(#[from] ModelError),

    #[error(transparent)]
    Data(#[from] DataError),

    #[error(transparent)]
    Core(#[from] CoreError),
}

impl TrainError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub fn parse(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Self::Parse { path: path.into(), message: message.to_string() }
    }
}

impl From<candle_core::Error> for TrainError {
    fn from(source: candle_core::Error) -> Self {
        Self::Model(ModelError::Candle { context: "training".into(), source })
    }
}
