//! Our own trainable BERT-family models on candle: BERT (incl. MiniLM, bert-tiny), DistilBERT and
//! RoBERTa, bare or with a sequence-classification or masked-LM head, architecture-faithful to
//! transformers, loading and saving the Hugging Face layout.
//!
//! - [`ops`]: every op that needs a backward pass, fused ([`fused`]) or composed (the reference).
//! - [`config`]: config.json and the architecture choice.
//! - [`keys`]: the parameter list of each architecture (names, shapes, init, module).
//! - [`load`] / [`save`]: weights in and out, with transformers' key-name variants.
//! - [`source`]: from a model spec (folder, config.json, Hub repo) to a loaded model.
//! - [`infer`]: fill-mask, sentence embeddings, classifier predictions.
//! - [`optim`]: AdamW with PyTorch semantics.
//! - [`task_model`]: the model ([`TaskModel`]) and its forward pass.

pub mod config;
pub mod encoder;
pub mod error;
pub mod freeze;
pub mod fused;
mod heads;
pub mod infer;
pub mod load;
pub mod ops;
pub mod optim;
pub mod params;
pub mod keys;
pub mod rng;
pub mod save;
pub mod source;
pub mod task_model;

pub use config::{Family, ModelConfig, Task};
pub use encoder::{EncoderOutput, ModelInput};
pub use error::{ModelError, ModelResult};
pub use freeze::FreezeSpec;
pub use load::{LoadOptions, LoadReport, WeightFiles};
pub use ops::Dropout;
pub use params::{ModuleCount, ModuleId, ParamCounts, ParamStore};
pub use task_model::{ModelOutput, TaskChoice, TaskModel};
