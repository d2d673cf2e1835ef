//! The task heads: sequence classification and masked LM, per family as in transformers.

use candle_core::Tensor;

use super::config::{Family, ModelConfig, Task};
use super::encoder::{first_token, DenseLayer, EncoderOutput, Norm};
use super::error::{ModelError, ModelResult};
use super::ops::{self, Activation, Dropout};
use super::params::{Param, ParamStore};
use super::keys::head_keys;

pub(crate) enum Head {
    None,
    Classifier {
        family: Family,
        /// `pre_classifier` (DistilBERT) or `classifier.dense` (RoBERTa).
        dense: Option<DenseLayer>,
        out: DenseLayer,
        dropout_p: f64,
    },
    MaskedLm {
        dense: DenseLayer,
        act: Activation,
        norm: Norm,
        /// The decoder weight: the word embeddings (tied).
        decoder: Param,
        bias: Param,
    },
}

impl Head {
    pub(crate) fn load(
        cfg: &ModelConfig,
        task: Task,
        store: &ParamStore,
        word_embeddings: &Param,
    ) -> ModelResult<Self> {
        let Some(keys) = head_keys(cfg.family, task) else {
            return Ok(Self::None);
        };
        match task {
            Task::Base => Ok(Self::None),
            Task::SequenceClassification => Ok(Self::Classifier {
                family: cfg.family,
                dense: keys.dense.map(|d| DenseLayer::load(store, d)).transpose()?,
                out: DenseLayer::load(store, keys.out)?,
                dropout_p: cfg.classifier_dropout,
            }),
            Task::MaskedLm => Ok(Self::MaskedLm {
                dense: DenseLayer::load(store, keys.dense.unwrap_or_default())?,
                // RoBERTa's lm_head always uses the exact GELU.
                act: if cfg.family == Family::Roberta { Activation::Gelu } else { cfg.hidden_act },
                norm: Norm::load(store, keys.norm, cfg.layer_norm_eps)?,
                decoder: word_embeddings.clone(),
                bias: store.get(keys.bias)?,
            }),
        }
    }

    /// Logits: `(batch, num_labels)` for classification, `(batch, seq, vocab)` for masked LM;
    /// `None` for the bare encoder.
    pub(crate) fn forward(&self, enc: &EncoderOutput, dropout: &mut Dropout) -> ModelResult<Option<Tensor>> {
        self.forward_inner(enc, dropout).map_err(|source| ModelError::Candle { context: "head forward".into(), source })
    }

    /// The masked-LM head on rows of hidden states `(n, hidden)` → `(n, vocab)` logits.
    pub(crate) fn masked_lm_rows(&self, rows: &Tensor) -> ModelResult<Tensor> {
        let Self::MaskedLm { dense, act, norm, decoder, bias } = self else {
            return Err(ModelError::MissingPart("masked-LM head".into()));
        };
        let run = || -> candle_core::Result<Tensor> {
            let x = norm.forward(&dense.forward_act(rows, *act)?)?;
            ops::linear(&x, &decoder.t(), Some(&bias.t()))
        };
        run().map_err(|source| ModelError::Candle { context: "masked-LM head".into(), source })
    }

    fn forward_inner(&self, enc: &EncoderOutput, dropout: &mut Dropout) -> candle_core::Result<Option<Tensor>> {
        match self {
            Self::None => Ok(None),
            Self::Classifier { family, dense, out, dropout_p } => {
                let logits = match family {
                    Family::Bert => {
                        let pooled = match &enc.pooler_output {
                            Some(p) => p.clone(),
                            None => candle_core::bail!("the classifier needs the pooler"),
                        };
                        out.forward(&dropout.apply(&pooled, *dropout_p)?)?
                    }
                    Family::Roberta => {
                        let x = dropout.apply(&first_token(&enc.last_hidden_state)?, *dropout_p)?;
                        let x = match dense {
                            Some(d) => d.forward(&x)?.tanh()?,
                            None => x,
                        };
                        out.forward(&dropout.apply(&x, *dropout_p)?)?
                    }
                    Family::DistilBert => {
                        let x = first_token(&enc.last_hidden_state)?;
                        let x = match dense {
                            Some(d) => d.forward(&x)?.relu()?,
                            None => x,
                        };
                        out.forward(&dropout.apply(&x, *dropout_p)?)?
                    }
                };
                Ok(Some(logits))
            }
            Self::MaskedLm { dense, act, norm, decoder, bias } => {
                let x = norm.forward(&dense.forward_act(&enc.last_hidden_state, *act)?)?;
                Ok(Some(ops::linear(&x, &decoder.t(), Some(&bias.t()))?))
            }
        }
    }
}
