//! LM Workbench: see how text becomes token IDs, fine-tune small language models,
//! and play with masked-word predictions.
//!
//! - [`core`] is the UI-free heart (tokenizers, model sources, the Hub, background jobs).
//! - [`ui`] is a thin egui front end over the core, one file per panel.
//! - [`cli`] is a headless front end over the same core.

pub mod cli;
pub mod core;
pub mod ui;
