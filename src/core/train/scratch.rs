//! Models built from a config rather than loaded: the presets of the talk's pre-training experiment
//! (`preset:2x128` … `preset:12x768`, BERT's base being 12 layers of 768), with the vocabulary of the
//! tokenizer they are trained with, initialised as transformers does (normal(0, 0.02) weights, zero
//! biases, unit LayerNorm).

use serde_json::json;

use super::error::{TrainError, TrainResult};
use crate::core::model::ModelConfig;

/// The prefix of a preset model spec.
pub const PRESET_PREFIX: &str = "preset:";

/// The presets: (layers, hidden size).
pub const PRESETS: [(usize, usize); 6] = [(2, 128), (4, 256), (4, 512), (6, 384), (8, 512), (12, 768)];

/// The shape of a BERT built from scratch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BertShape {
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub max_positions: usize,
}

impl BertShape {
    /// BERT's proportions for `layers` × `hidden`: heads of 64 dimensions (at least 2), a feed-forward
    /// layer 4× as wide, 512 positions.
    pub fn preset(layers: usize, hidden: usize) -> Self {
        Self { layers, hidden, heads: (hidden / 64).max(2), intermediate: 4 * hidden, max_positions: 512 }
    }

    /// Refuses shapes no BERT can have, saying why.
    pub fn validate(&self) -> TrainResult<()> {
        let bad = |m: String| Err(TrainError::Config(m));
        if self.layers == 0 || self.layers > 48 {
            return bad(format!("{} layers: a BERT has 1 to 48", self.layers));
        }
        if self.hidden == 0 || self.hidden > 4096 {
            return bad(format!("hidden size {}: 1 to 4,096", self.hidden));
        }
        if self.heads == 0 || self.hidden % self.heads != 0 {
            return bad(format!("hidden size {} is not divisible by {} attention heads", self.hidden, self.heads));
        }
        if self.intermediate == 0 || self.max_positions < 8 {
            return bad(format!("intermediate size {} and {} positions: both must be positive (positions at least 8)", self.intermediate, self.max_positions));
        }
        Ok(())
    }

    /// The config.json of this BERT with `vocab_size` tokens (and `labels` on a classifier head).
    pub fn config(&self, vocab_size: usize, labels: &[String], pad_token_id: u32) -> TrainResult<ModelConfig> {
        self.validate()?;
        let mut value = json!({
            "model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": vocab_size,
            "hidden_size": self.hidden, "num_hidden_layers": self.layers, "num_attention_heads": self.heads,
            "intermediate_size": self.intermediate, "max_position_embeddings": self.max_positions,
            "type_vocab_size": 2, "pad_token_id": pad_token_id, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
            "layer_norm_eps": 1e-12,
        });
        if !labels.is_empty() {
            value["architectures"] = json!(["BertForSequenceClassification"]);
            value["id2label"] = labels.iter().enumerate().map(|(i, l)| (i.to_string(), json!(l))).collect();
        }
        Ok(ModelConfig::from_value(value)?)
    }
}

/// Reads `preset:LxH` (e.g. `preset:2x128`), optionally with the heads and the feed-forward size
/// (`preset:4x256x8x512`); `None` when the spec is not a preset.
pub fn parse_preset(spec: &str) -> Option<TrainResult<BertShape>> {
    let rest = spec.trim().strip_prefix(PRESET_PREFIX)?;
    let numbers: Option<Vec<usize>> = rest.split(['x', 'X']).map(|n| n.trim().parse().ok()).collect();
    Some(match numbers.as_deref() {
        Some(&[layers, hidden, ref more @ ..]) if more.len() <= 2 => {
            let mut shape = BertShape::preset(layers, hidden);
            if let Some(&heads) = more.first() {
                shape.heads = heads;
            }
            if let Some(&intermediate) = more.get(1) {
                shape.intermediate = intermediate;
            }
            shape.validate().map(|()| shape)
        }
        _ => Err(TrainError::Config(format!(
            "{spec}: a preset is written preset:LAYERSxHIDDEN[xHEADS[xFEEDFORWARD]], e.g. {}",
            PRESETS.iter().map(|(l, h)| format!("preset:{l}x{h}")).collect::<Vec<_>>().join(", ")
        ))),
    })
}

impl BertShape {
    /// The spec that names this shape (the heads and feed-forward size only where they differ from
    /// BERT's proportions).
    pub fn spec(&self) -> String {
        let standard = Self::preset(self.layers, self.hidden);
        let mut spec = format!("{PRESET_PREFIX}{}x{}", self.layers, self.hidden);
        if self.heads != standard.heads || self.intermediate != standard.intermediate {
            spec.push_str(&format!("x{}", self.heads));
        }
        if self.intermediate != standard.intermediate {
            spec.push_str(&format!("x{}", self.intermediate));
        }
        spec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_bad_shapes_say_why() {
        let shape = parse_preset("preset:2x128").unwrap().unwrap();
        assert_eq!(shape, BertShape { layers: 2, hidden: 128, heads: 2, intermediate: 512, max_positions: 512 });
        assert_eq!(parse_preset("preset:12x768").unwrap().unwrap().heads, 12);
        assert!(parse_preset("builtin:tiny").is_none());
        let custom = parse_preset("preset:4x256x8x512").unwrap().unwrap();
        assert_eq!((custom.heads, custom.intermediate), (8, 512));
        assert_eq!(custom.spec(), "preset:4x256x8x512");
        assert_eq!(BertShape::preset(2, 128).spec(), "preset:2x128");
        assert_eq!(BertShape { heads: 4, ..BertShape::preset(2, 128) }.spec(), "preset:2x128x4");
        assert!(parse_preset("preset:4x250x3").unwrap().unwrap_err().to_string().contains("not divisible by 3"));
        assert!(parse_preset("preset:1x2x3x4x5").unwrap().is_err());
        let err = parse_preset("preset:two").unwrap().unwrap_err().to_string();
        assert!(err.contains("preset:2x128"), "{err}");
        let odd = BertShape { heads: 3, ..BertShape::preset(2, 128) };
        assert!(odd.validate().unwrap_err().to_string().contains("not divisible by 3"));
        let cfg = shape.config(8000, &[], 0).unwrap();
        assert_eq!((cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size), (8000, 128, 2, 512));
    }
}
