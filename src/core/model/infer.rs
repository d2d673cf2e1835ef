//! Inference over a tokenizer and a model: fill-mask (as transformers' fill-mask pipeline), sentence
//! embeddings and classifier label probabilities.

use candle_core::{DType, Device, IndexOp, Tensor};
use serde::Serialize;

use super::config::{Family, Task};
use super::encoder::{first_token, mean_pool, ModelInput};
use super::error::{CandleContext, ModelError, ModelResult};
use super::ops::{masked_softmax, Dropout};
use super::task_model::TaskModel;
use crate::core::text::tokenizer::{EncodeRequest, EncodedText, TextTokenizer};

/// Encodes texts (optionally pairs) and pads them to the longest, as `tokenizer(texts, padding=True)`.
pub fn encode_batch(
    tokenizer: &TextTokenizer,
    requests: &[EncodeRequest],
    device: &Device,
) -> ModelResult<(ModelInput, Vec<EncodedText>)> {
    let encoded = requests.iter().map(|r| tokenizer.encode(r)).collect::<Result<Vec<_>, _>>()?;
    let width = encoded.iter().map(EncodedText::len).max().unwrap_or(0);
    let pad_id = tokenizer.pad_token().map_or(0, |(_, id)| id);
    let pad = |row: &[u32], value: u32| -> Vec<u32> {
        let mut r = row.to_vec();
        r.resize(width, value);
        r
    };
    let ids: Vec<Vec<u32>> = encoded.iter().map(|e| pad(&e.input_ids, pad_id)).collect();
    let types: Vec<Vec<u32>> = encoded.iter().map(|e| pad(&e.token_type_ids, 0)).collect();
    let mask: Vec<Vec<u32>> = encoded.iter().map(|e| pad(&e.attention_mask, 0)).collect();
    Ok((ModelInput::from_rows(&ids, &types, &mask, device)?, encoded))
}

/// The model's input for some texts: only BERT takes token types (transformers' DistilBERT and
/// RoBERTa tokenizers do not return them).
pub fn model_input(
    model: &TaskModel,
    tokenizer: &TextTokenizer,
    requests: &[EncodeRequest],
) -> ModelResult<(ModelInput, Vec<EncodedText>)> {
    let (mut input, encoded) = encode_batch(tokenizer, requests, model.device())?;
    if model.config().family != Family::Bert {
        input.token_type_ids = None;
    }
    Ok((input, encoded))
}

/// One candidate for a masked position.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaskPrediction {
    /// The decoded token, as the pipeline's `token_str`.
    pub token: String,
    pub id: u32,
    /// Softmax probability over the vocabulary.
    pub score: f32,
}

/// For each mask token of `text`, the `top_k` most likely tokens (transformers' fill-mask pipeline).
pub fn fill_mask(
    model: &TaskModel,
    tokenizer: &TextTokenizer,
    text: &str,
    top_k: usize,
) -> ModelResult<Vec<Vec<MaskPrediction>>> {
    if model.task() != Task::MaskedLm {
        return Err(ModelError::MissingPart("masked-LM head (load the model as a masked LM)".into()));
    }
    let (mask_text, mask_id) =
        tokenizer.mask_token().ok_or_else(|| ModelError::Input("the tokenizer has no mask token".into()))?;
    let (input, encoded) = model_input(model, tokenizer, &[EncodeRequest::text(text)])?;
    let positions: Vec<usize> =
        encoded[0].input_ids.iter().enumerate().filter(|(_, &id)| id == mask_id).map(|(i, _)| i).collect();
    if positions.is_empty() {
        return Err(ModelError::Input(format!("the text has no {mask_text} token")));
    }
    let out = crate::core::model::ops::no_grad(|| model.forward(&input, &mut Dropout::eval()))?;
    let logits = out.logits.ok_or_else(|| ModelError::MissingPart("logits".into()))?;
    let mut result = Vec::new();
    for pos in positions {
        let row = logits.i((0, pos)).and_then(|r| r.to_dtype(DType::F32)).ctx("mask logits")?;
        let probs = masked_softmax(&row, None).and_then(|p| p.to_vec1::<f32>()).ctx("softmax")?;
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
        let mut predictions = Vec::new();
        for &id in order.iter().take(top_k) {
            let token = tokenizer
                .inner()
                .decode(&[id as u32], false)
                .map_err(|e| ModelError::Input(format!("decoding token {id}: {e}")))?;
            predictions.push(MaskPrediction { token, id: id as u32, score: probs[id] });
        }
        result.push(predictions);
    }
    Ok(result)
}

/// How a sentence vector is made from the last hidden state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// The first token's vector.
    Cls,
    /// The attention-mask-weighted mean over tokens (sentence-transformers' mean pooling).
    Mean,
}

/// The sentence vector of a text.
pub fn embed(
    model: &TaskModel,
    tokenizer: &TextTokenizer,
    request: &EncodeRequest,
    pooling: Pooling,
) -> ModelResult<Vec<f32>> {
    let (input, _) = model_input(model, tokenizer, std::slice::from_ref(request))?;
    let out = crate::core::model::ops::no_grad(|| model.forward(&input, &mut Dropout::eval()))?;
    let hidden = &out.encoder.last_hidden_state;
    let pooled: candle_core::Result<Tensor> = match pooling {
        Pooling::Cls => first_token(hidden),
        Pooling::Mean => mean_pool(hidden, input.attention_mask.as_ref()),
    };
    pooled.and_then(|p| p.i(0)?.to_dtype(DType::F32)?.to_vec1::<f32>()).ctx("pooling")
}

/// A classifier's probability for one label.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelScore {
    pub label: String,
    pub id: usize,
    pub score: f32,
}

/// Label probabilities (softmax of the logits) of a classifier, in label order.
pub fn predict(model: &TaskModel, tokenizer: &TextTokenizer, request: &EncodeRequest) -> ModelResult<Vec<LabelScore>> {
    if model.task() != Task::SequenceClassification {
        return Err(ModelError::MissingPart("classification head".into()));
    }
    let (input, _) = model_input(model, tokenizer, std::slice::from_ref(request))?;
    let out = crate::core::model::ops::no_grad(|| model.forward(&input, &mut Dropout::eval()))?;
    let logits = out.logits.ok_or_else(|| ModelError::MissingPart("logits".into()))?;
    let probs =
        logits.i(0).and_then(|l| masked_softmax(&l.to_dtype(DType::F32)?, None)?.to_vec1::<f32>()).ctx("softmax")?;
    let labels = &model.config().id2label;
    Ok(probs
        .into_iter()
        .enumerate()
        .map(|(id, score)| LabelScore {
            label: labels.get(id).cloned().unwrap_or_else(|| format!("LABEL_{id}")),
            id,
            score,
        })
        .collect())
}
