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
    pub type_vocab_size: Option<u64>,
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
            type_vocab_size: num(&["type_vocab_size"]),
        }
    }

    /// Parameters of the bare encoder (embeddings, layers, pooler) for BERT-style configs, as
    /// `BertModel` counts them; `None` for other architectures or incomplete configs.
    pub fn estimated_parameters(&self) -> Option<u64> {
        if !matches!(self.model_type.as_deref(), Some("bert" | "roberta" | "xlm-roberta" | "electra" | "camembert")) {
            return None;
        }
        let (h, l, i, v, p) = (self.hidden_size?, self.num_hidden_layers?, self.intermediate_size?, self.vocab_size?, self.max_position_embeddings?);
        let t = self.type_vocab_size.unwrap_or(2);
        let embeddings = (v + p + t) * h + 2 * h;
        let attention = 4 * (h * h + h) + 2 * h;
        let feed_forward = (h * i + i) + (i * h + h) + 2 * h;
        let pooler = h * h + h;
        Some(embeddings + l * (attention + feed_forward) + pooler)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bert_base_encoder_parameters() {
        let cfg = ConfigSummary::from_value(&serde_json::json!({
            "model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
            "intermediate_size": 3072, "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2
        }));
        // BertModel (bert-base-uncased) as transformers counts it.
        assert_eq!(cfg.estimated_parameters(), Some(109_482_240));
        assert_eq!(ConfigSummary::from_value(&serde_json::json!({"model_type": "gpt2"})).estimated_parameters(), None);
    }
}
