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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BertShape {
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub max_positions: usize,
    /// The dropout of the hidden states and of the attention probabilities (BERT's 0.1).
    pub dropout: f64,
}

/// BERT's positions and dropout, the defaults a spec leaves out.
const DEFAULT_POSITIONS: usize = 512;
const DEFAULT_DROPOUT: f64 = 0.1;

impl BertShape {
    /// BERT's proportions for `layers` × `hidden`: heads of 64 dimensions (at least 2), a feed-forward
    /// layer 4× as wide, 512 positions, dropout 0.1.
    pub fn preset(layers: usize, hidden: usize) -> Self {
        Self {
            layers,
            hidden,
            heads: (hidden / 64).max(2),
            intermediate: 4 * hidden,
            max_positions: DEFAULT_POSITIONS,
            dropout: DEFAULT_DROPOUT,
        }
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
        if self.heads == 0 || !self.hidden.is_multiple_of(self.heads) {
            return bad(format!("hidden size {} is not divisible by {} attention heads", self.hidden, self.heads));
        }
        if self.intermediate == 0 {
            return bad("the feed-forward size must be positive".into());
        }
        if !(8..=65_536).contains(&self.max_positions) {
            return bad(format!("{} positions: 8 to 65,536 (the longest sequence the model can read)", self.max_positions));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout {}: a probability from 0 up to (not including) 1", self.dropout));
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
            "hidden_dropout_prob": self.dropout, "attention_probs_dropout_prob": self.dropout, "initializer_range": 0.02,
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
/// (`preset:4x256x8x512`), then the positions and dropout where they differ from BERT's
/// (`preset:2x128,positions=256,dropout=0`); `None` when the spec is not a preset.
pub fn parse_preset(spec: &str) -> Option<TrainResult<BertShape>> {
    let rest = spec.trim().strip_prefix(PRESET_PREFIX)?;
    let usage = || {
        TrainError::Config(format!(
            "{spec}: a preset is written preset:LAYERSxHIDDEN[xHEADS[xFEEDFORWARD]][,positions=N][,dropout=P], e.g. {}",
            PRESETS.iter().map(|(l, h)| format!("preset:{l}x{h}")).collect::<Vec<_>>().join(", ")
        ))
    };
    let mut parts = rest.split(',');
    let dims = parts.next().unwrap_or_default();
    let numbers: Option<Vec<usize>> = dims.split(['x', 'X']).map(|n| n.trim().parse().ok()).collect();
    let mut shape = match numbers.as_deref() {
        Some(&[layers, hidden, ref more @ ..]) if more.len() <= 2 => {
            let mut shape = BertShape::preset(layers, hidden);
            if let Some(&heads) = more.first() {
                shape.heads = heads;
            }
            if let Some(&intermediate) = more.get(1) {
                shape.intermediate = intermediate;
            }
            shape
        }
        _ => return Some(Err(usage())),
    };
    for option in parts {
        let (key, value) = option.split_once('=').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((option.trim(), ""));
        match key {
            "positions" => match value.parse() {
                Ok(n) => shape.max_positions = n,
                Err(_) => return Some(Err(usage())),
            },
            "dropout" => match value.parse() {
                Ok(p) => shape.dropout = p,
                Err(_) => return Some(Err(usage())),
            },
            _ => return Some(Err(usage())),
        }
    }
    Some(shape.validate().map(|()| shape))
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
        if self.max_positions != DEFAULT_POSITIONS {
            spec.push_str(&format!(",positions={}", self.max_positions));
        }
        if self.dropout != DEFAULT_DROPOUT {
            spec.push_str(&format!(",dropout={}", self.dropout));
        }
        spec
    }
}

/// Settings that make a masked LM built from scratch learn faster on a CPU budget, measured against
/// transformers' defaults on the same data and steps (BERT's 1e-3 with dropout 0.1 and a zero output
/// bias): a larger learning rate, no dropout (a few hundred steps cannot overfit), and first guesses at
/// the unigram baseline. Twice this learning rate (8e-3) no longer learns on a 2×128 BERT.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PretrainRecipe {
    pub learning_rate: f64,
    pub dropout: f64,
}

/// The CPU pre-training recipe (BENCHMARKS.md, "Pre-training from scratch").
pub const CPU_PRETRAINING: PretrainRecipe = PretrainRecipe { learning_rate: 4e-3, dropout: 0.0 };

impl PretrainRecipe {
    pub fn apply(&self, config: &mut super::TrainConfig) {
        config.learning_rate = self.learning_rate;
        config.dropout = Some(self.dropout);
        config.unigram_output_bias = true;
    }

    pub fn is_applied(&self, config: &super::TrainConfig) -> bool {
        config.learning_rate == self.learning_rate && config.dropout == Some(self.dropout) && config.unigram_output_bias
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_bad_shapes_say_why() {
        let shape = parse_preset("preset:2x128").unwrap().unwrap();
        assert_eq!(shape, BertShape { layers: 2, hidden: 128, heads: 2, intermediate: 512, max_positions: 512, dropout: 0.1 });
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
        assert_eq!((cfg.max_position_embeddings, cfg.hidden_dropout_prob), (512, 0.1));
    }

    #[test]
    fn positions_and_dropout_are_part_of_the_spec() {
        let shape = parse_preset("preset:2x128,positions=256,dropout=0").unwrap().unwrap();
        assert_eq!((shape.max_positions, shape.dropout), (256, 0.0));
        assert_eq!(shape.spec(), "preset:2x128,positions=256,dropout=0");
        assert_eq!(parse_preset(&shape.spec()).unwrap().unwrap(), shape);
        let custom = BertShape { heads: 8, dropout: 0.05, ..BertShape::preset(4, 256) };
        assert_eq!(custom.spec(), "preset:4x256x8,dropout=0.05");
        let cfg = shape.config(1000, &[], 0).unwrap();
        assert_eq!((cfg.max_position_embeddings, cfg.hidden_dropout_prob, cfg.attention_probs_dropout_prob), (256, 0.0, 0.0));
        for (bad, says) in [
            ("preset:2x128,positions=4", "4 positions"),
            ("preset:2x128,dropout=1", "dropout 1"),
            ("preset:2x128,dropout=lots", "positions=N"),
            ("preset:2x128,colour=red", "dropout=P"),
        ] {
            let err = parse_preset(bad).unwrap().unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn the_cpu_recipe_sets_what_it_says() {
        let mut config = super::super::TrainConfig { unigram_output_bias: false, ..Default::default() };
        assert!(!CPU_PRETRAINING.is_applied(&config));
        CPU_PRETRAINING.apply(&mut config);
        assert!(CPU_PRETRAINING.is_applied(&config));
        assert_eq!((config.learning_rate, config.dropout, config.unigram_output_bias), (4e-3, Some(0.0), true));
    }
}
