//! The UI-free core. Nothing in here may depend on egui, eframe or rfd.

pub mod backend;
pub mod config;
pub mod data;
pub mod demo;
pub mod device;
pub mod embeddings;
pub mod error;
pub mod hub;
pub mod model;
pub mod train;
pub mod model_source;
pub mod ngram;
pub mod text;

pub use error::{CoreError, CoreResult};
