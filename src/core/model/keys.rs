//! Which parameters each architecture has, under transformers' key names (without the base-model
//! prefix: `embeddings.word_embeddings.weight`, `classifier.weight`). The model is built from this
//! list, loading checks files against it, and parameter counts come from it.

use super::config::{Family, ModelConfig, Task};
use super::params::{Init, ModuleId, ParamSpec};

/// The module paths of one encoder layer.
pub struct LayerKeys {
    pub query: String,
    pub key: String,
    pub value: String,
    pub attn_out: String,
    pub attn_norm: String,
    pub ffn_in: String,
    pub ffn_out: String,
    pub out_norm: String,
}

pub fn layer_keys(family: Family, i: usize) -> LayerKeys {
    match family {
        Family::Bert | Family::Roberta => {
            let p = format!("encoder.layer.{i}");
            LayerKeys {
                query: format!("{p}.attention.self.query"),
                key: format!("{p}.attention.self.key"),
                value: format!("{p}.attention.self.value"),
                attn_out: format!("{p}.attention.output.dense"),
                attn_norm: format!("{p}.attention.output.LayerNorm"),
                ffn_in: format!("{p}.intermediate.dense"),
                ffn_out: format!("{p}.output.dense"),
                out_norm: format!("{p}.output.LayerNorm"),
            }
        }
        Family::DistilBert => {
            let p = format!("transformer.layer.{i}");
            LayerKeys {
                query: format!("{p}.attention.q_lin"),
                key: format!("{p}.attention.k_lin"),
                value: format!("{p}.attention.v_lin"),
                attn_out: format!("{p}.attention.out_lin"),
                attn_norm: format!("{p}.sa_layer_norm"),
                ffn_in: format!("{p}.ffn.lin1"),
                ffn_out: format!("{p}.ffn.lin2"),
                out_norm: format!("{p}.output_layer_norm"),
            }
        }
    }
}

pub const WORD_EMBEDDINGS: &str = "embeddings.word_embeddings";
pub const POSITION_EMBEDDINGS: &str = "embeddings.position_embeddings";
pub const TOKEN_TYPE_EMBEDDINGS: &str = "embeddings.token_type_embeddings";
pub const EMBEDDINGS_NORM: &str = "embeddings.LayerNorm";
pub const POOLER: &str = "pooler.dense";

/// The module paths of a task head.
pub struct HeadKeys {
    /// Classification: an optional hidden dense layer (`pre_classifier`, RoBERTa's
    /// `classifier.dense`) and the output layer. Masked LM: the transform dense layer.
    pub dense: Option<&'static str>,
    /// Classification output layer; unused for masked LM.
    pub out: &'static str,
    /// Masked LM: the transform LayerNorm.
    pub norm: &'static str,
    /// Masked LM: the output bias (the decoder weight is the word embeddings).
    pub bias: &'static str,
}

pub fn head_keys(family: Family, task: Task) -> Option<HeadKeys> {
    let keys = match (family, task) {
        (_, Task::Base) => return None,
        (Family::Bert, Task::SequenceClassification) => HeadKeys { dense: None, out: "classifier", norm: "", bias: "" },
        (Family::Roberta, Task::SequenceClassification) => {
            HeadKeys { dense: Some("classifier.dense"), out: "classifier.out_proj", norm: "", bias: "" }
        }
        (Family::DistilBert, Task::SequenceClassification) => {
            HeadKeys { dense: Some("pre_classifier"), out: "classifier", norm: "", bias: "" }
        }
        (Family::Bert, Task::MaskedLm) => HeadKeys {
            dense: Some("cls.predictions.transform.dense"),
            out: "",
            norm: "cls.predictions.transform.LayerNorm",
            bias: "cls.predictions.bias",
        },
        (Family::Roberta, Task::MaskedLm) => {
            HeadKeys { dense: Some("lm_head.dense"), out: "", norm: "lm_head.layer_norm", bias: "lm_head.bias" }
        }
        (Family::DistilBert, Task::MaskedLm) => {
            HeadKeys { dense: Some("vocab_transform"), out: "", norm: "vocab_layer_norm", bias: "vocab_projector.bias" }
        }
    };
    Some(keys)
}

/// Whether the architecture has a pooler (as transformers' `add_pooling_layer`).
pub fn has_pooler(family: Family, task: Task) -> bool {
    match family {
        Family::Bert => task != Task::MaskedLm,
        Family::Roberta => task == Task::Base,
        Family::DistilBert => false,
    }
}

/// Head keys of tensors tied to the word embeddings: ignored when loading, not saved.
pub fn tied_aliases(family: Family) -> &'static [&'static str] {
    match family {
        Family::Bert => &["cls.predictions.decoder.weight"],
        Family::Roberta => &["lm_head.decoder.weight"],
        Family::DistilBert => &["vocab_projector.weight"],
    }
}

/// Other names of the masked-LM output bias (the decoder's bias is the same tensor in transformers):
/// `(alias, parameter)`. Used only when the file lacks the parameter's own name.
pub fn bias_alias(family: Family) -> Option<(&'static str, &'static str)> {
    match family {
        Family::Bert => Some(("cls.predictions.decoder.bias", "cls.predictions.bias")),
        Family::Roberta => Some(("lm_head.decoder.bias", "lm_head.bias")),
        Family::DistilBert => None,
    }
}

/// Every parameter of `family`/`task` for this config, in architecture order.
pub fn param_specs(cfg: &ModelConfig, task: Task) -> Vec<ParamSpec> {
    let (h, std) = (cfg.hidden_size, cfg.initializer_range);
    let mut specs = Vec::new();
    let emb = ModuleId::Embeddings;
    specs.push(ParamSpec::new(
        format!("{WORD_EMBEDDINGS}.weight"),
        &[cfg.vocab_size, h],
        Init::NormalZeroRow { std, row: cfg.pad_token_id as usize },
        emb,
    ));
    let pos_init = match cfg.family {
        Family::Roberta => Init::NormalZeroRow { std, row: cfg.pad_token_id as usize },
        Family::DistilBert if cfg.sinusoidal_pos_embds => Init::Sinusoidal,
        _ => Init::Normal(std),
    };
    specs.push(ParamSpec::new(
        format!("{POSITION_EMBEDDINGS}.weight"),
        &[cfg.max_position_embeddings, h],
        pos_init,
        emb,
    ));
    if cfg.type_vocab_size > 0 {
        specs.push(ParamSpec::new(
            format!("{TOKEN_TYPE_EMBEDDINGS}.weight"),
            &[cfg.type_vocab_size, h],
            Init::Normal(std),
            emb,
        ));
    }
    push_norm(&mut specs, EMBEDDINGS_NORM, h, emb);
    for i in 0..cfg.num_hidden_layers {
        let k = layer_keys(cfg.family, i);
        let m = ModuleId::Layer(i);
        for path in [&k.query, &k.key, &k.value, &k.attn_out] {
            push_linear(&mut specs, path, h, h, std, m);
        }
        push_norm(&mut specs, &k.attn_norm, h, m);
        push_linear(&mut specs, &k.ffn_in, h, cfg.intermediate_size, std, m);
        push_linear(&mut specs, &k.ffn_out, cfg.intermediate_size, h, std, m);
        push_norm(&mut specs, &k.out_norm, h, m);
    }
    if has_pooler(cfg.family, task) {
        push_linear(&mut specs, POOLER, h, h, std, ModuleId::Pooler);
    }
    if let Some(keys) = head_keys(cfg.family, task) {
        let m = ModuleId::Head;
        if let Some(dense) = keys.dense {
            push_linear(&mut specs, dense, h, h, std, m);
        }
        match task {
            Task::SequenceClassification => push_linear(&mut specs, keys.out, h, cfg.num_labels(), std, m),
            Task::MaskedLm => {
                push_norm(&mut specs, keys.norm, h, m);
                specs.push(ParamSpec::new(keys.bias, &[cfg.vocab_size], Init::Zeros, m));
            }
            Task::Base => {}
        }
    }
    specs
}

fn push_linear(specs: &mut Vec<ParamSpec>, path: &str, in_dim: usize, out_dim: usize, std: f64, module: ModuleId) {
    specs.push(ParamSpec::new(format!("{path}.weight"), &[out_dim, in_dim], Init::Normal(std), module));
    specs.push(ParamSpec::new(format!("{path}.bias"), &[out_dim], Init::Zeros, module));
}

fn push_norm(specs: &mut Vec<ParamSpec>, path: &str, dim: usize, module: ModuleId) {
    specs.push(ParamSpec::new(format!("{path}.weight"), &[dim], Init::Ones, module));
    specs.push(ParamSpec::new(format!("{path}.bias"), &[dim], Init::Zeros, module));
}
