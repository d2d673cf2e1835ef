//! What the app shows about a model's config.json.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::{CoreError, CoreResult};

/// The architecture facts of a config.json that the UI and CLI show.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConfigSummary {
    pub model_type: Option<String>,
    pub architectures: Vec<String>,
    pub hidden_size: Option<u64>,
    pub num_hidden_layers: Option<u64>,
    pub num_attention_heads: Option<u64>,
    pub intermediate_size: Option<u64>,
    pub vocab_size: Option<u64>,
    pub max_position_embeddings: Option<u64>,
}

impl ConfigSummary {
    pub fn from_file(path: &Path) -> CoreResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| CoreError::io(path, e))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| CoreError::parse(path, e))?;
        if !value.is_object() {
            return Err(CoreError::parse(path, "expected a JSON object"));
        }
        Ok(Self::from_value(&value))
    }

    pub fn from_value(value: &Value) -> Self {
        // DistilBERT names some fields differently.
        let num = |keys: &[&str]| keys.iter().find_map(|k| value.get(*k).and_then(Value::as_u64));
        Self {
            model_type: value.get("model_type").and_then(Value::as_str).map(str::to_string),
            architectures: value
                .get("architectures")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
            hidden_size: num(&["hidden_size", "dim", "d_model"]),
            num_hidden_layers: num(&["num_hidden_layers", "n_layers", "num_layers"]),
            num_attention_heads: num(&["num_attention_heads", "n_heads"]),
            intermediate_size: num(&["intermediate_size", "hidden_dim"]),
            vocab_size: num(&["vocab_size"]),
            max_position_embeddings: num(&["max_position_embeddings"]),
        }
    }

    /// One line such as "bert · 6 layers · hidden 384 · 12 heads".
    pub fn one_line(&self) -> String {
        let mut parts = vec![self.model_type.clone().unwrap_or_else(|| "unknown type".into())];
        if let Some(n) = self.num_hidden_layers {
            parts.push(format!("{n} layers"));
        }
        if let Some(n) = self.hidden_size {
            parts.push(format!("hidden {n}"));
        }
        if let Some(n) = self.num_attention_heads {
            parts.push(format!("{n} heads"));
        }
        parts.join(" · ")
    }
}
