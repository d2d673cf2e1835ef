//! A whole model: config, parameters, encoder and head, as transformers' `BertModel`,
//! `BertForSequenceClassification`, `BertForMaskedLM` (and the DistilBERT/RoBERTa equivalents).

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::config::{ModelConfig, Task};
use super::encoder::{Encoder, EncoderOutput, ModelInput};
use super::error::{ModelError, ModelResult};
use super::freeze::FreezeSpec;
use super::heads::Head;
use super::load::{build_params, read_tensors, LoadOptions, LoadReport, WeightFiles};
use super::ops::{self, Dropout};
use super::params::{ParamCounts, ParamStore};

/// Which architecture to build, as transformers' Auto classes pick one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskChoice {
    /// What config.json's `architectures` names (`AutoModel.from_config` style for unknown names).
    FromConfig,
    Task(Task),
}

impl TaskChoice {
    pub fn resolve(self, cfg: &ModelConfig) -> Task {
        match self {
            Self::FromConfig => cfg.declared_task(),
            Self::Task(task) => task,
        }
    }
}

/// The output of a forward pass.
#[derive(Clone, Debug)]
pub struct ModelOutput {
    pub encoder: EncoderOutput,
    /// Classification `(batch, labels)` or masked-LM `(batch, seq, vocab)` logits.
    pub logits: Option<Tensor>,
}

pub struct TaskModel {
    config: ModelConfig,
    task: Task,
    store: ParamStore,
    encoder: Encoder,
    head: Head,
    dtype: DType,
    device: Device,
}

impl std::fmt::Debug for TaskModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskModel")
            .field("family", &self.config.family)
            .field("task", &self.task)
            .field("params", &self.store.len())
            .finish()
    }
}

impl TaskModel {
    /// A freshly initialised model (transformers' `from_config`).
    pub fn from_config(config: ModelConfig, task: Task, options: &LoadOptions) -> ModelResult<Self> {
        Self::from_stored(config, task, Vec::new(), options).map(|(model, _)| model)
    }

    /// Loads config.json and the weights of a folder (transformers' `from_pretrained`). Parameters the
    /// files lack are freshly initialised and listed in the report.
    pub fn from_dir(dir: &Path, task: TaskChoice, options: &LoadOptions) -> ModelResult<(Self, LoadReport)> {
        let config = ModelConfig::from_file(&dir.join("config.json"))?;
        Self::from_dir_with_config(dir, config, task, options)
    }

    /// As [`Self::from_dir`] with a config already read (e.g. with `num_labels` changed).
    pub fn from_dir_with_config(
        dir: &Path,
        config: ModelConfig,
        task: TaskChoice,
        options: &LoadOptions,
    ) -> ModelResult<(Self, LoadReport)> {
        let files = WeightFiles::find(dir)?.ok_or_else(|| ModelError::NoWeights { dir: dir.to_path_buf() })?;
        let stored = read_tensors(&files, options.allow_pickle)?;
        let task = task.resolve(&config);
        Self::from_stored(config, task, stored, options)
    }

    fn from_stored(
        config: ModelConfig,
        task: Task,
        stored: Vec<super::load::StoredTensor>,
        options: &LoadOptions,
    ) -> ModelResult<(Self, LoadReport)> {
        if task == Task::SequenceClassification && config.num_labels() == 0 {
            return Err(ModelError::Config("a classifier needs at least one label".into()));
        }
        let (store, report) = build_params(&config, task, stored, options)?;
        let encoder = Encoder::load(&config, task, &store)?;
        let head = Head::load(&config, task, &store, encoder.word_embeddings())?;
        Ok((Self { config, task, store, encoder, head, dtype: options.dtype, device: options.device.clone() }, report))
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    pub fn task(&self) -> Task {
        self.task
    }

    pub fn params(&self) -> &ParamStore {
        &self.store
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn counts(&self) -> ParamCounts {
        self.store.counts()
    }

    /// Applies a freeze spec (everything else becomes trainable).
    pub fn freeze(&self, spec: FreezeSpec) {
        spec.apply(&self.store, self.config.num_hidden_layers);
    }

    /// The forward pass. `Dropout::eval()` for deterministic inference, `Dropout::train(seed)` for
    /// training.
    pub fn forward(&self, input: &ModelInput, dropout: &mut Dropout) -> ModelResult<ModelOutput> {
        let encoder = self.encoder.forward(input, dropout)?;
        let logits = self.head.forward(&encoder, dropout)?;
        Ok(ModelOutput { encoder, logits })
    }

    /// The encoder alone, for inference, with every layer's attention weights (see
    /// [`super::encoder::Encoder::forward_with_attentions`]).
    pub fn encode_with_attentions(&self, input: &ModelInput) -> ModelResult<(EncoderOutput, Vec<Tensor>)> {
        super::ops::no_grad(|| self.encoder.forward_with_attentions(input))
    }

    /// The word-embedding matrix `(vocab, hidden)`.
    pub fn word_embeddings(&self) -> Tensor {
        self.encoder.word_embeddings().t()
    }

    /// Masked LM: the logits of the labelled positions only (labels ≠ −100), `(n, vocab)`, with their
    /// labels `(n,)`. The encoder runs on every position, the LM head (dense, activation, LayerNorm and
    /// the vocabulary-wide decoder, the largest matmul of a small model) only where the loss looks: about
    /// 15 % of the positions. `loss` of the pair equals `loss(forward(..).logits, labels)`.
    pub fn masked_lm_logits(
        &self,
        input: &ModelInput,
        labels: &Tensor,
        dropout: &mut Dropout,
    ) -> ModelResult<(Tensor, Tensor)> {
        if self.task != Task::MaskedLm {
            return Err(ModelError::MissingPart("masked-LM head".into()));
        }
        let flat = labels
            .flatten_all()
            .and_then(|l| l.to_dtype(DType::I64))
            .and_then(|l| l.to_vec1::<i64>())
            .map_err(|source| ModelError::Candle { context: "masked-LM labels".into(), source })?;
        let (positions, picked): (Vec<u32>, Vec<i64>) =
            flat.iter().enumerate().filter(|(_, &l)| l != ops::IGNORE_INDEX).map(|(i, &l)| (i as u32, l)).unzip();
        if positions.is_empty() {
            // Nothing is labelled: the full head (its loss is 0 either way).
            let out = self.forward(input, dropout)?;
            let logits = out.logits.ok_or_else(|| ModelError::MissingPart("masked-LM head".into()))?;
            let vocab = self.config.vocab_size;
            let reshape = || -> candle_core::Result<(Tensor, Tensor)> {
                Ok((logits.reshape(((), vocab))?, labels.flatten_all()?.to_dtype(DType::I64)?))
            };
            return reshape().map_err(|source| ModelError::Candle { context: "masked-LM logits".into(), source });
        }
        let encoder = self.encoder.forward(input, dropout)?;
        let gather = || -> candle_core::Result<(Tensor, Tensor)> {
            let (b, s, h) = encoder.last_hidden_state.dims3()?;
            let index = Tensor::new(positions.as_slice(), &self.device)?;
            let rows = encoder.last_hidden_state.reshape((b * s, h))?.index_select(&index, 0)?;
            Ok((rows, Tensor::new(picked.as_slice(), &self.device)?))
        };
        let (rows, picked) = gather().map_err(|source| ModelError::Candle { context: "masked-LM rows".into(), source })?;
        Ok((self.head.masked_lm_rows(&rows)?, picked))
    }

    /// Mean cross-entropy of the logits against labels: `(batch,)` class indices for a classifier,
    /// `(batch, seq)` token ids with −100 for unmasked positions for masked LM.
    pub fn loss(&self, logits: &Tensor, labels: &Tensor) -> ModelResult<Tensor> {
        let result = match self.task {
            Task::SequenceClassification => ops::cross_entropy(logits, labels),
            Task::MaskedLm => {
                let vocab = self.config.vocab_size;
                logits.reshape(((), vocab)).and_then(|l| ops::cross_entropy(&l, &labels.flatten_all()?))
            }
            Task::Base => return Err(ModelError::MissingPart("task head (the bare encoder has no loss)".into())),
        };
        result.map_err(|source| ModelError::Candle { context: "loss".into(), source })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values(model: &TaskModel, name: &str) -> Vec<f32> {
        let p = model.params().get(name).unwrap();
        p.var().as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    /// Fresh parameters as transformers' `_init_weights`: normal(0, initializer_range) weights, zero
    /// biases, LayerNorm 1/0, the padding row of the word embeddings zero; the same seed gives the same
    /// model.
    #[test]
    fn fresh_init_follows_transformers() {
        let cfg = ModelConfig::from_value(json!({"vocab_size": 200, "hidden_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 4, "intermediate_size": 128, "initializer_range": 0.05, "pad_token_id": 3}))
        .unwrap();
        let model = TaskModel::from_config(cfg.clone(), Task::SequenceClassification, &LoadOptions::default()).unwrap();
        let w = values(&model, "embeddings.word_embeddings.weight");
        assert!(w[3 * 64..4 * 64].iter().all(|&x| x == 0.0), "padding row");
        let q = values(&model, "encoder.layer.0.attention.self.query.weight");
        let std = (q.iter().map(|x| x * x).sum::<f32>() / q.len() as f32).sqrt();
        assert!((std - 0.05).abs() < 0.005, "std {std}");
        assert!(values(&model, "encoder.layer.0.attention.self.query.bias").iter().all(|&x| x == 0.0));
        assert!(values(&model, "embeddings.LayerNorm.weight").iter().all(|&x| x == 1.0));
        assert!(values(&model, "classifier.bias").iter().all(|&x| x == 0.0));
        let again = TaskModel::from_config(cfg, Task::SequenceClassification, &LoadOptions::default()).unwrap();
        assert_eq!(values(&again, "classifier.weight"), values(&model, "classifier.weight"));
    }
}
