//! The model config as transformers reads config.json, for BERT, DistilBERT and RoBERTa, and the
//! choice of architecture (as transformers' Auto classes make it).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::error::{ModelError, ModelResult};
use super::ops::Activation;

/// The model family (`model_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Bert,
    DistilBert,
    Roberta,
}

impl Family {
    pub fn from_model_type(model_type: &str) -> ModelResult<Self> {
        match model_type {
            "bert" => Ok(Self::Bert),
            "distilbert" => Ok(Self::DistilBert),
            "roberta" => Ok(Self::Roberta),
            other => Err(ModelError::UnsupportedModelType(other.to_string())),
        }
    }

    pub fn model_type(self) -> &'static str {
        match self {
            Self::Bert => "bert",
            Self::DistilBert => "distilbert",
            Self::Roberta => "roberta",
        }
    }

    /// The attribute holding the base model in the task models: `bert.`, `distilbert.`, `roberta.`.
    pub fn prefix(self) -> &'static str {
        self.model_type()
    }

    /// The class-name stem: `Bert`, `DistilBert`, `Roberta`.
    pub fn class_stem(self) -> &'static str {
        match self {
            Self::Bert => "Bert",
            Self::DistilBert => "DistilBert",
            Self::Roberta => "Roberta",
        }
    }
}

/// What sits on top of the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// The bare encoder (`AutoModel`, `BertModel`).
    Base,
    /// `…ForSequenceClassification`.
    SequenceClassification,
    /// `…ForMaskedLM`.
    MaskedLm,
}

impl Task {
    /// The task an `architectures` entry names, if it is one we build.
    pub fn from_architecture(name: &str) -> Option<Self> {
        if name.ends_with("ForSequenceClassification") {
            Some(Self::SequenceClassification)
        } else if name.ends_with("ForMaskedLM") || name.ends_with("ForPreTraining") {
            Some(Self::MaskedLm)
        } else if name.ends_with("Model") {
            Some(Self::Base)
        } else {
            None
        }
    }

    pub fn class_name(self, family: Family) -> String {
        let stem = family.class_stem();
        match self {
            Self::Base => format!("{stem}Model"),
            Self::SequenceClassification => format!("{stem}ForSequenceClassification"),
            Self::MaskedLm => format!("{stem}ForMaskedLM"),
        }
    }
}

/// The architecture facts, normalised over the three families' field names.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub family: Family,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: Activation,
    pub hidden_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    /// Dropout before the classifier (`classifier_dropout`, falling back to the hidden dropout;
    /// DistilBERT's `seq_classif_dropout`).
    pub classifier_dropout: f64,
    pub max_position_embeddings: usize,
    /// 0 for DistilBERT (no token types).
    pub type_vocab_size: usize,
    pub initializer_range: f64,
    pub layer_norm_eps: f64,
    pub pad_token_id: u32,
    pub tie_word_embeddings: bool,
    /// DistilBERT's fixed sinusoidal position embeddings.
    pub sinusoidal_pos_embds: bool,
    /// Labels by class index (`id2label`).
    pub id2label: Vec<String>,
    /// The `architectures` entries of the file.
    pub architectures: Vec<String>,
    /// The whole config.json, written back (updated) when saving.
    pub raw: Map<String, Value>,
}

impl ModelConfig {
    pub fn from_file(path: &Path) -> ModelResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| ModelError::parse(path, e))?;
        Self::from_value(value).map_err(|e| match e {
            ModelError::Config(message) => ModelError::parse(path, message),
            other => other,
        })
    }

    pub fn from_value(value: Value) -> ModelResult<Self> {
        let Value::Object(raw) = value else {
            return Err(ModelError::Config("expected a JSON object".into()));
        };
        let model_type = raw.get("model_type").and_then(Value::as_str).unwrap_or("bert");
        let family = Family::from_model_type(model_type)?;
        let f = Fields { raw: &raw };
        let cfg = match family {
            Family::Bert | Family::Roberta => {
                let hidden_dropout_prob = f.float("hidden_dropout_prob", 0.1)?;
                Self {
                    family,
                    vocab_size: f.size("vocab_size", if family == Family::Bert { 30522 } else { 50265 })?,
                    hidden_size: f.size("hidden_size", 768)?,
                    num_hidden_layers: f.size("num_hidden_layers", 12)?,
                    num_attention_heads: f.size("num_attention_heads", 12)?,
                    intermediate_size: f.size("intermediate_size", 3072)?,
                    hidden_act: f.activation("hidden_act")?,
                    hidden_dropout_prob,
                    attention_probs_dropout_prob: f.float("attention_probs_dropout_prob", 0.1)?,
                    classifier_dropout: f.opt_float("classifier_dropout")?.unwrap_or(hidden_dropout_prob),
                    max_position_embeddings: f.size("max_position_embeddings", 512)?,
                    type_vocab_size: f.size("type_vocab_size", 2)?,
                    initializer_range: f.float("initializer_range", 0.02)?,
                    layer_norm_eps: f.float("layer_norm_eps", 1e-12)?,
                    pad_token_id: f.size("pad_token_id", if family == Family::Bert { 0 } else { 1 })? as u32,
                    tie_word_embeddings: f.boolean("tie_word_embeddings", true)?,
                    sinusoidal_pos_embds: false,
                    id2label: Vec::new(),
                    architectures: Vec::new(),
                    raw: raw.clone(),
                }
            }
            Family::DistilBert => Self {
                family,
                vocab_size: f.size("vocab_size", 30522)?,
                hidden_size: f.size("dim", 768)?,
                num_hidden_layers: f.size("n_layers", 6)?,
                num_attention_heads: f.size("n_heads", 12)?,
                intermediate_size: f.size("hidden_dim", 3072)?,
                hidden_act: f.activation("activation")?,
                hidden_dropout_prob: f.float("dropout", 0.1)?,
                attention_probs_dropout_prob: f.float("attention_dropout", 0.1)?,
                classifier_dropout: f.float("seq_classif_dropout", 0.2)?,
                max_position_embeddings: f.size("max_position_embeddings", 512)?,
                type_vocab_size: 0,
                initializer_range: f.float("initializer_range", 0.02)?,
                layer_norm_eps: 1e-12,
                pad_token_id: f.size("pad_token_id", 0)? as u32,
                tie_word_embeddings: f.boolean("tie_word_embeddings", true)?,
                sinusoidal_pos_embds: f.boolean("sinusoidal_pos_embds", false)?,
                id2label: Vec::new(),
                architectures: Vec::new(),
                raw: raw.clone(),
            },
        };
        let mut cfg = cfg;
        cfg.architectures = raw
            .get("architectures")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        cfg.id2label = f.id2label()?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> ModelResult<()> {
        // Sizes no BERT-family model comes near: a config claiming them is broken or hostile, and building
        // it would exhaust memory instead of saying so.
        let limits = [
            ("hidden_size", self.hidden_size, 1 << 16),
            ("intermediate_size", self.intermediate_size, 1 << 18),
            ("num_hidden_layers", self.num_hidden_layers, 1 << 10),
            ("num_attention_heads", self.num_attention_heads, 1 << 10),
            ("vocab_size", self.vocab_size, 1 << 24),
            ("max_position_embeddings", self.max_position_embeddings, 1 << 20),
            ("type_vocab_size", self.type_vocab_size, 1 << 16),
        ];
        for (field, value, limit) in limits {
            if value > limit {
                return Err(ModelError::Config(format!("{field} is {value}, more than any model this app can build ({limit})")));
            }
        }
        let h = self.hidden_size as f64;
        let params = (self.vocab_size + self.max_position_embeddings + self.type_vocab_size) as f64 * h
            + self.num_hidden_layers as f64 * (4.0 * h * h + 2.0 * h * self.intermediate_size as f64);
        if params > 2e10 {
            return Err(ModelError::Config(format!(
                "hidden_size {}, {} layers and vocab_size {} make about {:.0} billion parameters: too many to hold in memory",
                self.hidden_size,
                self.num_hidden_layers,
                self.vocab_size,
                params / 1e9
            )));
        }
        if self.hidden_size == 0
            || self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(ModelError::Config(format!(
                "hidden size {} is not a multiple of the number of attention heads {}",
                self.hidden_size, self.num_attention_heads
            )));
        }
        if self.vocab_size == 0 || self.max_position_embeddings == 0 {
            return Err(ModelError::Config("vocab_size and max_position_embeddings must be positive".into()));
        }
        if (self.pad_token_id as usize) >= self.vocab_size {
            return Err(ModelError::Config(format!(
                "pad_token_id {} is outside the vocabulary ({})",
                self.pad_token_id, self.vocab_size
            )));
        }
        Ok(())
    }

    /// The task the config's `architectures` names; `Base` when none is named.
    pub fn declared_task(&self) -> Task {
        self.architectures.first().and_then(|a| Task::from_architecture(a)).unwrap_or(Task::Base)
    }

    pub fn num_labels(&self) -> usize {
        self.id2label.len()
    }

    /// Sets the labels to `LABEL_0 … LABEL_{n-1}` unless there are already `n` of them.
    pub fn set_num_labels(&mut self, n: usize) {
        if self.id2label.len() != n {
            self.id2label = (0..n).map(|i| format!("LABEL_{i}")).collect();
        }
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// Typed access to config fields with transformers' defaults.
struct Fields<'a> {
    raw: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn size(&self, key: &str, default: usize) -> ModelResult<usize> {
        match self.raw.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| ModelError::Config(format!("{key} must be a non-negative integer, found {v}"))),
        }
    }

    fn opt_float(&self, key: &str) -> ModelResult<Option<f64>> {
        match self.raw.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                v.as_f64().map(Some).ok_or_else(|| ModelError::Config(format!("{key} must be a number, found {v}")))
            }
        }
    }

    fn float(&self, key: &str, default: f64) -> ModelResult<f64> {
        Ok(self.opt_float(key)?.unwrap_or(default))
    }

    fn boolean(&self, key: &str, default: bool) -> ModelResult<bool> {
        match self.raw.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| ModelError::Config(format!("{key} must be true or false, found {v}"))),
        }
    }

    fn activation(&self, key: &str) -> ModelResult<Activation> {
        let name = self.raw.get(key).and_then(Value::as_str).unwrap_or("gelu");
        Activation::from_name(name).ok_or_else(|| ModelError::UnsupportedActivation(name.to_string()))
    }

    /// `id2label` (keys are stringified indices), else `num_labels`, else transformers' default of 2.
    fn id2label(&self) -> ModelResult<Vec<String>> {
        if let Some(Value::Object(map)) = self.raw.get("id2label") {
            let mut labels = BTreeMap::new();
            for (k, v) in map {
                let index: usize =
                    k.parse().map_err(|_| ModelError::Config(format!("id2label key {k:?} is not an index")))?;
                let label = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                labels.insert(index, label);
            }
            if labels.keys().enumerate().any(|(i, &k)| i != k) {
                return Err(ModelError::Config("id2label indices must be 0 … n-1".into()));
            }
            return Ok(labels.into_values().collect());
        }
        let n = self.size("num_labels", 2)?;
        Ok((0..n).map(|i| format!("LABEL_{i}")).collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bert_defaults_and_labels() {
        let cfg = ModelConfig::from_value(json!({"model_type": "bert", "architectures": ["BertForSequenceClassification"], "id2label": {"1": "pos", "0": "neg"}})).unwrap();
        assert_eq!(cfg.hidden_size, 768);
        assert_eq!(cfg.id2label, vec!["neg", "pos"]);
        assert_eq!(cfg.declared_task(), Task::SequenceClassification);
        assert_eq!(cfg.hidden_act, Activation::Gelu);
    }

    #[test]
    fn bad_configs_are_named() {
        let err = ModelConfig::from_value(json!({"model_type": "gpt2"})).unwrap_err();
        assert!(err.to_string().contains("gpt2"));
        let err = ModelConfig::from_value(json!({"hidden_size": 100, "num_attention_heads": 12})).unwrap_err();
        assert!(err.to_string().contains("multiple"), "{err}");
        let err = ModelConfig::from_value(json!({"hidden_act": "mish"})).unwrap_err();
        assert!(err.to_string().contains("mish"));
        let err = ModelConfig::from_value(json!({"hidden_size": "big"})).unwrap_err();
        assert!(err.to_string().contains("hidden_size"));
    }

    #[test]
    fn distilbert_names_are_read() {
        let cfg = ModelConfig::from_value(
            json!({"model_type": "distilbert", "dim": 64, "n_layers": 2, "n_heads": 4, "hidden_dim": 128}),
        )
        .unwrap();
        assert_eq!(
            (cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size, cfg.type_vocab_size),
            (64, 2, 128, 0)
        );
    }
}
