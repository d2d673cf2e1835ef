//! The encoder shared by BERT, RoBERTa and DistilBERT (post-LayerNorm transformer): embeddings,
//! layers and the optional pooler, architecture-faithful to transformers' eager implementation.

use candle_core::{DType, Tensor, D};

use super::config::{Family, ModelConfig, Task};
use super::error::{CandleContext, ModelError, ModelResult};
use super::ops::{self, Dropout};
use super::params::{Param, ParamStore};
use super::keys::{self, layer_keys};

/// One batch of token IDs. All tensors are `(batch, seq)` u32 on the model's device.
#[derive(Clone, Debug)]
pub struct ModelInput {
    pub input_ids: Tensor,
    /// Zeros when absent.
    pub token_type_ids: Option<Tensor>,
    /// 1 = attend, 0 = padding; all ones when absent.
    pub attention_mask: Option<Tensor>,
}

impl ModelInput {
    /// A batch from rows of equal length.
    pub fn from_rows(
        ids: &[Vec<u32>],
        types: &[Vec<u32>],
        mask: &[Vec<u32>],
        device: &candle_core::Device,
    ) -> ModelResult<Self> {
        let to_tensor = |rows: &[Vec<u32>], what: &str| -> ModelResult<Tensor> {
            let width = rows.first().map_or(0, Vec::len);
            if rows.iter().any(|r| r.len() != width) {
                return Err(ModelError::Input(format!("{what}: rows of different lengths (pad the batch)")));
            }
            let flat: Vec<u32> = rows.iter().flatten().copied().collect();
            Tensor::from_vec(flat, (rows.len(), width), device).ctx(what)
        };
        Ok(Self {
            input_ids: to_tensor(ids, "input_ids")?,
            token_type_ids: if types.is_empty() { None } else { Some(to_tensor(types, "token_type_ids")?) },
            attention_mask: if mask.is_empty() { None } else { Some(to_tensor(mask, "attention_mask")?) },
        })
    }
}

struct Linear {
    weight: Param,
    bias: Param,
}

impl Linear {
    fn load(store: &ParamStore, path: &str) -> ModelResult<Self> {
        Ok(Self { weight: store.get(&format!("{path}.weight"))?, bias: store.get(&format!("{path}.bias"))? })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        ops::linear(x, &self.weight.t(), Some(&self.bias.t()))
    }

    /// `act(x · Wᵀ + b)`, with the bias folded into the activation where a fused op does both.
    fn forward_act(&self, x: &Tensor, act: ops::Activation) -> candle_core::Result<Tensor> {
        ops::bias_activation(&ops::linear(x, &self.weight.t(), None)?, &self.bias.t(), act)
    }
}

/// A LayerNorm's weight and bias, used by the heads too.
pub(crate) struct Norm {
    weight: Param,
    bias: Param,
    eps: f64,
}

impl Norm {
    pub(crate) fn load(store: &ParamStore, path: &str, eps: f64) -> ModelResult<Self> {
        Ok(Self { weight: store.get(&format!("{path}.weight"))?, bias: store.get(&format!("{path}.bias"))?, eps })
    }

    pub(crate) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        ops::layer_norm(x, &self.weight.t(), &self.bias.t(), self.eps)
    }
}

pub(crate) struct DenseLayer(Linear);

impl DenseLayer {
    pub(crate) fn load(store: &ParamStore, path: &str) -> ModelResult<Self> {
        Linear::load(store, path).map(Self)
    }

    pub(crate) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.0.forward(x)
    }

    pub(crate) fn forward_act(&self, x: &Tensor, act: ops::Activation) -> candle_core::Result<Tensor> {
        self.0.forward_act(x, act)
    }
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    ffn_in: Linear,
    ffn_out: Linear,
    out_norm: Norm,
}

/// The output of the encoder.
#[derive(Clone, Debug)]
pub struct EncoderOutput {
    /// `(batch, seq, hidden)` after the last layer.
    pub last_hidden_state: Tensor,
    /// The embeddings output and every layer's output (`num_layers + 1` tensors), as
    /// transformers' `hidden_states` with `output_hidden_states=True`.
    pub hidden_states: Vec<Tensor>,
    /// `(batch, hidden)` pooler output, where the architecture has a pooler.
    pub pooler_output: Option<Tensor>,
}

/// Embeddings, encoder layers and pooler.
pub struct Encoder {
    cfg: ModelConfig,
    word: Param,
    position: Param,
    token_type: Option<Param>,
    emb_norm: Norm,
    layers: Vec<Layer>,
    pooler: Option<Linear>,
}

impl Encoder {
    pub fn load(cfg: &ModelConfig, task: Task, store: &ParamStore) -> ModelResult<Self> {
        let eps = cfg.layer_norm_eps;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| {
                let k = layer_keys(cfg.family, i);
                Ok(Layer {
                    query: Linear::load(store, &k.query)?,
                    key: Linear::load(store, &k.key)?,
                    value: Linear::load(store, &k.value)?,
                    attn_out: Linear::load(store, &k.attn_out)?,
                    attn_norm: Norm::load(store, &k.attn_norm, eps)?,
                    ffn_in: Linear::load(store, &k.ffn_in)?,
                    ffn_out: Linear::load(store, &k.ffn_out)?,
                    out_norm: Norm::load(store, &k.out_norm, eps)?,
                })
            })
            .collect::<ModelResult<Vec<_>>>()?;
        Ok(Self {
            cfg: cfg.clone(),
            word: store.get(&format!("{}.weight", keys::WORD_EMBEDDINGS))?,
            position: store.get(&format!("{}.weight", keys::POSITION_EMBEDDINGS))?,
            token_type: if cfg.type_vocab_size > 0 {
                Some(store.get(&format!("{}.weight", keys::TOKEN_TYPE_EMBEDDINGS))?)
            } else {
                None
            },
            emb_norm: Norm::load(store, keys::EMBEDDINGS_NORM, eps)?,
            layers,
            pooler: if keys::has_pooler(cfg.family, task) { Some(Linear::load(store, keys::POOLER)?) } else { None },
        })
    }

    /// The word-embedding matrix (the tied masked-LM decoder).
    pub fn word_embeddings(&self) -> &Param {
        &self.word
    }

    pub fn forward(&self, input: &ModelInput, dropout: &mut Dropout) -> ModelResult<EncoderOutput> {
        self.check_input(input)?;
        self.forward_inner(input, dropout).ctx("encoder forward")
    }

    /// Inference (no dropout) that also returns every layer's attention weights, `(batch, heads, query,
    /// key)` after the softmax, as transformers' `output_attentions=True` (eager attention): masked keys
    /// get exactly 0 and every row sums to 1.
    pub fn forward_with_attentions(&self, input: &ModelInput) -> ModelResult<(EncoderOutput, Vec<Tensor>)> {
        self.check_input(input)?;
        self.forward_attentions_inner(input).ctx("encoder forward (with attentions)")
    }

    fn forward_attentions_inner(&self, input: &ModelInput) -> candle_core::Result<(EncoderOutput, Vec<Tensor>)> {
        let dtype = self.word.var().dtype();
        let bias = match &input.attention_mask {
            Some(mask) => Some(ops::attention_bias(mask, dtype)?),
            None => None,
        };
        let mut dropout = Dropout::eval();
        let mut x = self.embed(input, &mut dropout)?;
        let mut hidden_states = vec![x.clone()];
        let mut attentions = Vec::with_capacity(self.layers.len());
        let (batch, seq, hidden) = x.dims3()?;
        let heads = self.cfg.num_attention_heads.max(1);
        let head_dim = hidden / heads;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let split = |t: &Tensor| -> candle_core::Result<Tensor> {
            t.reshape((batch, seq, heads, head_dim))?.transpose(1, 2)?.contiguous()
        };
        for layer in &self.layers {
            let q = split(&layer.query.forward(&x)?)?;
            let k = split(&layer.key.forward(&x)?)?;
            let v = split(&layer.value.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?;
            let probs = ops::masked_softmax(&scores, bias.as_ref())?;
            let ctx = probs.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((batch, seq, hidden))?;
            attentions.push(probs);
            let attn = (layer.attn_out.forward(&ctx)? + &x)?;
            let h = layer.attn_norm.forward(&attn)?;
            let inner = layer.ffn_in.forward_act(&h, self.cfg.hidden_act)?;
            x = layer.out_norm.forward(&(layer.ffn_out.forward(&inner)? + &h)?)?;
            hidden_states.push(x.clone());
        }
        let pooler_output = match &self.pooler {
            Some(pooler) => Some(pooler.forward(&first_token(&x)?)?.tanh()?),
            None => None,
        };
        Ok((EncoderOutput { last_hidden_state: x, hidden_states, pooler_output }, attentions))
    }

    fn check_input(&self, input: &ModelInput) -> ModelResult<()> {
        let (_, seq) = input.input_ids.dims2().ctx("input_ids")?;
        let offset = if self.cfg.family == Family::Roberta { self.cfg.pad_token_id as usize + 1 } else { 0 };
        if seq + offset > self.cfg.max_position_embeddings {
            return Err(ModelError::Input(format!(
                "{seq} tokens, but the model takes at most {}",
                self.cfg.max_position_embeddings - offset
            )));
        }
        if seq == 0 {
            return Err(ModelError::Input("empty input: no tokens".into()));
        }
        let max_of =
            |t: &Tensor, what: &str| t.max_all().and_then(|m| m.to_dtype(DType::U32)?.to_scalar::<u32>()).ctx(what);
        let max_id = max_of(&input.input_ids, "input_ids")?;
        if max_id as usize >= self.cfg.vocab_size {
            return Err(ModelError::Input(format!(
                "token id {max_id} is outside the vocabulary ({})",
                self.cfg.vocab_size
            )));
        }
        for (name, t) in [("token_type_ids", &input.token_type_ids), ("attention_mask", &input.attention_mask)] {
            if let Some(t) = t {
                if t.dims() != input.input_ids.dims() {
                    return Err(ModelError::Input(format!(
                        "{name} has shape {:?}, input_ids {:?}",
                        t.dims(),
                        input.input_ids.dims()
                    )));
                }
            }
        }
        // DistilBERT has no token types: transformers' DistilBERT tokenizer does not even return them.
        if let (Some(types), true) = (&input.token_type_ids, self.token_type.is_some()) {
            let max_type = max_of(types, "token_type_ids")?;
            if max_type as usize >= self.cfg.type_vocab_size {
                return Err(ModelError::Input(format!(
                    "token type {max_type} is outside the model's {} types",
                    self.cfg.type_vocab_size
                )));
            }
        }
        Ok(())
    }

    fn position_ids(&self, input: &ModelInput) -> candle_core::Result<Tensor> {
        let (batch, seq) = input.input_ids.dims2()?;
        let device = input.input_ids.device();
        if self.cfg.family == Family::Roberta {
            // transformers' create_position_ids_from_input_ids: padding_idx + cumulative count of
            // non-padding tokens, padding positions get padding_idx.
            let pad = self.cfg.pad_token_id;
            let not_pad = input.input_ids.ne(pad)?.to_dtype(DType::U32)?;
            let cum = not_pad.to_dtype(DType::F32)?.cumsum(1)?.to_dtype(DType::U32)?;
            return (cum * not_pad)?.affine(1.0, f64::from(pad));
        }
        Tensor::arange(0u32, seq as u32, device)?.unsqueeze(0)?.broadcast_as((batch, seq))?.contiguous()
    }

    fn embed(&self, input: &ModelInput, dropout: &mut Dropout) -> candle_core::Result<Tensor> {
        let (batch, seq) = input.input_ids.dims2()?;
        let h = self.cfg.hidden_size;
        let lookup = |table: &Tensor, ids: &Tensor| -> candle_core::Result<Tensor> {
            table.index_select(&ids.flatten_all()?, 0)?.reshape((batch, seq, h))
        };
        let mut x = lookup(&self.word.t(), &input.input_ids)?;
        x = (x + lookup(&self.position.t(), &self.position_ids(input)?)?)?;
        if let Some(tt) = &self.token_type {
            let types = match &input.token_type_ids {
                Some(t) => t.clone(),
                None => input.input_ids.zeros_like()?,
            };
            x = (x + lookup(&tt.t(), &types)?)?;
        }
        let x = self.emb_norm.forward(&x)?;
        dropout.apply(&x, self.cfg.hidden_dropout_prob)
    }

    fn forward_inner(&self, input: &ModelInput, dropout: &mut Dropout) -> candle_core::Result<EncoderOutput> {
        let dtype = self.word.var().dtype();
        let bias = match &input.attention_mask {
            Some(mask) => Some(ops::attention_bias(mask, dtype)?),
            None => None,
        };
        let mut x = self.embed(input, dropout)?;
        let mut hidden_states = vec![x.clone()];
        for layer in &self.layers {
            x = self.layer_forward(layer, &x, bias.as_ref(), dropout)?;
            hidden_states.push(x.clone());
        }
        let pooler_output = match &self.pooler {
            Some(pooler) => Some(pooler.forward(&x.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?)?.tanh()?),
            None => None,
        };
        Ok(EncoderOutput { last_hidden_state: x, hidden_states, pooler_output })
    }

    fn layer_forward(
        &self,
        layer: &Layer,
        x: &Tensor,
        bias: Option<&Tensor>,
        dropout: &mut Dropout,
    ) -> candle_core::Result<Tensor> {
        let params = [
            layer.query.weight.t(),
            layer.key.weight.t(),
            layer.value.weight.t(),
            layer.query.bias.t(),
            layer.key.bias.t(),
            layer.value.bias.t(),
            layer.attn_out.weight.t(),
            layer.attn_out.bias.t(),
            layer.attn_norm.weight.t(),
            layer.attn_norm.bias.t(),
            layer.ffn_in.weight.t(),
            layer.ffn_in.bias.t(),
            layer.ffn_out.weight.t(),
            layer.ffn_out.bias.t(),
            layer.out_norm.weight.t(),
            layer.out_norm.bias.t(),
        ];
        let p_attention = self.cfg.attention_probs_dropout_prob;
        let p_hidden = self.cfg.hidden_dropout_prob;
        let (heads, act, eps) = (self.cfg.num_attention_heads, self.cfg.hidden_act, self.cfg.layer_norm_eps);
        if let Some(y) = ops::encoder_layer(x, &params, heads, act, eps, bias, dropout, p_attention, p_hidden) {
            return y;
        }
        let ctx = ops::self_attention(
            &layer.query.forward(x)?,
            &layer.key.forward(x)?,
            &layer.value.forward(x)?,
            self.cfg.num_attention_heads,
            bias,
            dropout,
            self.cfg.attention_probs_dropout_prob,
        )?;
        let attn = dropout.add(&layer.attn_out.forward(&ctx)?, x, self.cfg.hidden_dropout_prob)?;
        let x = layer.attn_norm.forward(&attn)?;
        let inner = layer.ffn_in.forward_act(&x, self.cfg.hidden_act)?;
        let out = dropout.add(&layer.ffn_out.forward(&inner)?, &x, self.cfg.hidden_dropout_prob)?;
        layer.out_norm.forward(&out)
    }
}

/// The vector of the first token, `(batch, hidden)`.
pub fn first_token(hidden: &Tensor) -> candle_core::Result<Tensor> {
    hidden.narrow(1, 0, 1)?.squeeze(1)?.contiguous()
}

/// Attention-mask-weighted mean over the sequence, `(batch, hidden)`.
pub fn mean_pool(hidden: &Tensor, mask: Option<&Tensor>) -> candle_core::Result<Tensor> {
    match mask {
        None => hidden.mean(1),
        Some(mask) => {
            let m = mask.to_dtype(hidden.dtype())?.unsqueeze(D::Minus1)?;
            let summed = hidden.broadcast_mul(&m)?.sum(1)?;
            let counts = m.sum(1)?.clamp(1e-9, f64::INFINITY)?;
            summed.broadcast_div(&counts)
        }
    }
}
