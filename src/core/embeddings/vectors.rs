//! A text's tokens as vectors: the rows of the word-embedding matrix they look up (text → ID → one-hot
//! → vector), or the contextual vectors some layer gives them.

use candle_core::{DType, IndexOp, Tensor};
use serde::Serialize;

use crate::core::model::error::{CandleContext, ModelError, ModelResult};
use crate::core::model::infer::model_input;
use crate::core::model::ops::{no_grad, Dropout};
use crate::core::model::TaskModel;
use crate::core::text::tokenizer::{EncodeRequest, TextTokenizer};

/// Which vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum VectorSource {
    /// The token's row of the word-embedding matrix (before position embeddings and LayerNorm).
    Input,
    /// `hidden_states[l]`: 0 is the embeddings' output, `l` the output of layer `l`.
    Layer(usize),
}

impl VectorSource {
    pub fn label(self) -> String {
        match self {
            Self::Input => "input embedding".into(),
            Self::Layer(0) => "embeddings output".into(),
            Self::Layer(l) => format!("layer {l}"),
        }
    }
}

/// One vector per token of a text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenVectors {
    pub tokens: Vec<String>,
    pub ids: Vec<u32>,
    pub special: Vec<bool>,
    pub source: VectorSource,
    pub vectors: Vec<Vec<f32>>,
}

/// The vectors of the tokens of `text`.
pub fn token_vectors(
    model: &TaskModel,
    tokenizer: &TextTokenizer,
    text: &str,
    source: VectorSource,
    max_length: Option<usize>,
) -> ModelResult<TokenVectors> {
    let request = EncodeRequest { text: text.to_string(), max_length, ..EncodeRequest::default() };
    let (input, encoded) = model_input(model, tokenizer, std::slice::from_ref(&request))?;
    let e = &encoded[0];
    if e.is_empty() {
        return Err(ModelError::Input("the text has no tokens".into()));
    }
    let rows: Tensor = match source {
        VectorSource::Input => {
            let ids = Tensor::new(e.input_ids.as_slice(), model.device()).ctx("ids")?;
            let vocab = model.config().vocab_size;
            if let Some(&bad) = e.input_ids.iter().find(|&&id| id as usize >= vocab) {
                return Err(ModelError::Input(format!("token id {bad} is outside the model's vocabulary ({vocab})")));
            }
            model.word_embeddings().index_select(&ids, 0).ctx("embedding rows")?
        }
        VectorSource::Layer(layer) => {
            let layers = model.config().num_hidden_layers;
            if layer > layers {
                return Err(ModelError::Input(format!("layer {layer}: the model has {layers} layers")));
            }
            let out = no_grad(|| model.forward(&input, &mut Dropout::eval()))?;
            out.encoder.hidden_states[layer].i(0).ctx("hidden state")?
        }
    };
    let vectors = rows.to_dtype(DType::F32).and_then(|r| r.to_vec2::<f32>()).ctx("vectors")?;
    Ok(TokenVectors {
        tokens: e.tokens.clone(),
        ids: e.input_ids.clone(),
        special: (0..e.len()).map(|i| e.is_special(i)).collect(),
        source,
        vectors,
    })
}
