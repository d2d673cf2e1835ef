//! Attention weights of a text: every layer and head, after the softmax, as transformers returns them
//! with `output_attentions=True`.

use candle_core::{DType, IndexOp};
use serde::Serialize;

use crate::core::model::error::{CandleContext, ModelResult};
use crate::core::model::infer::model_input;
use crate::core::model::TaskModel;
use crate::core::text::tokenizer::{EncodeRequest, TextTokenizer};

/// The attention maps of one text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttentionMaps {
    pub tokens: Vec<String>,
    pub ids: Vec<u32>,
    /// `true` for special tokens ([CLS], [SEP], …).
    pub special: Vec<bool>,
    /// `[layer][head][query][key]`: each query row sums to 1.
    pub attentions: Vec<Vec<Vec<Vec<f32>>>>,
}

impl AttentionMaps {
    pub fn layers(&self) -> usize {
        self.attentions.len()
    }

    pub fn heads(&self) -> usize {
        self.attentions.first().map_or(0, Vec::len)
    }

    /// One head's `[query][key]` map.
    pub fn map(&self, layer: usize, head: usize) -> Option<&[Vec<f32>]> {
        self.attentions.get(layer)?.get(head).map(Vec::as_slice)
    }
}

/// The attention weights of `text` (truncated to `max_length` tokens where given).
pub fn attention_maps(
    model: &TaskModel,
    tokenizer: &TextTokenizer,
    text: &str,
    max_length: Option<usize>,
) -> ModelResult<AttentionMaps> {
    let request = EncodeRequest { text: text.to_string(), max_length, ..EncodeRequest::default() };
    let (input, encoded) = model_input(model, tokenizer, std::slice::from_ref(&request))?;
    let (_, layers) = model.encode_with_attentions(&input)?;
    let attentions = layers
        .iter()
        .map(|probs| probs.i(0).and_then(|p| p.to_dtype(DType::F32)?.to_vec3::<f32>()).ctx("attention weights"))
        .collect::<ModelResult<Vec<_>>>()?;
    let e = &encoded[0];
    Ok(AttentionMaps {
        tokens: e.tokens.clone(),
        ids: e.input_ids.clone(),
        special: (0..e.len()).map(|i| e.is_special(i)).collect(),
        attentions,
    })
}
