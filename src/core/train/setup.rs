//! Everything a run needs before its first step: the dataset (split and tokenised), the tokenizer and
//! the model (fresh `builtin:tiny`, a pretrained folder or Hub repo, a bare config.json, or a
//! checkpoint being resumed), with the dataset's labels on the head.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::error::{TrainError, TrainResult};
use super::{EvalEvery, FreezePlan, TrainConfig, TrainTask};
use crate::core::data::{load_dataset, load_hub_dataset, DataSpec, Dataset, DatasetOptions, Split, SplitName};
use crate::core::demo::{demo_headlines_path, demo_tokenizer, DEMO_DATA_SPEC, DEMO_SPEC};
use crate::core::device::parse_device;
use crate::core::hub::HubSettings;
use crate::core::model::source::{request_config, resolve, ModelRequest, ResolvedModel};
use crate::core::model::{Family, LoadOptions, ModelConfig, Task, TaskChoice, TaskModel};
use crate::core::model_source::{load_tokenizer, ModelFiles, ModelSpec};
use crate::core::text::tokenizer::TextTokenizer;

/// The model spec of the tiny from-scratch BERT on the demo vocabulary.
pub const BUILTIN_TINY: &str = "builtin:tiny";

/// The tiny BERT: hidden 64, 2 layers, 2 heads, intermediate 128, 128 positions.
pub fn tiny_model_config(vocab_size: usize, labels: &[String]) -> TrainResult<ModelConfig> {
    let id2label: serde_json::Map<String, serde_json::Value> =
        labels.iter().enumerate().map(|(i, l)| (i.to_string(), json!(l))).collect();
    let mut value = json!({
        "model_type": "bert", "architectures": ["BertForSequenceClassification"], "vocab_size": vocab_size,
        "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128,
        "max_position_embeddings": 128, "type_vocab_size": 2, "pad_token_id": 0, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
    });
    if !labels.is_empty() {
        value["id2label"] = serde_json::Value::Object(id2label);
    }
    Ok(ModelConfig::from_value(value)?)
}

/// The learning rate and epochs that suit a kind of model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recipe {
    pub learning_rate: f64,
    pub epochs: u32,
    /// What the recipe is for, as the Train page says it.
    pub label: &'static str,
}

/// A model trained from scratch (`builtin:tiny`, a bare config.json) needs a large learning rate and
/// many epochs: on the demo headlines the tiny BERT takes about ten seconds.
pub const FROM_SCRATCH: Recipe = Recipe { learning_rate: 2e-3, epochs: 15, label: "training from scratch" };
/// Fine-tuning a pretrained encoder: a small learning rate and a few epochs (all-MiniLM-L6-v2 reaches
/// about 0.9 validation accuracy on the demo headlines this way, in under two minutes on two cores;
/// the tiny BERT from scratch stays below 0.5).
pub const FINE_TUNE: Recipe = Recipe { learning_rate: 1e-4, epochs: 5, label: "fine-tuning a pretrained model" };

/// Fine-tuning the demo encoder (`builtin:demo`, 2 layers of 64, pre-trained on demo headlines): a small
/// model takes a large learning rate; on the demo headlines the whole model reaches about 0.9 validation
/// accuracy in ten epochs (about 20 s on two cores), the classifier alone about 0.4.
pub const DEMO_ENCODER: Recipe = Recipe { learning_rate: 2e-3, epochs: 10, label: "fine-tuning the demo encoder" };

/// The recipe for a model spec: from scratch for `builtin:tiny` and bare `config.json` files, the demo
/// encoder's for `builtin:demo`, else fine-tuning.
pub fn recipe_for(model: &str) -> Recipe {
    let model = model.trim();
    if model == DEMO_SPEC {
        DEMO_ENCODER
    } else if model == BUILTIN_TINY || model.starts_with(super::scratch::PRESET_PREFIX) || model.to_ascii_lowercase().ends_with(".json") {
        FROM_SCRATCH
    } else {
        FINE_TUNE
    }
}

/// Whether `model` names a model built from a config (random weights), not a trained checkpoint.
pub fn builds_from_scratch(model: &str) -> bool {
    recipe_for(model) == FROM_SCRATCH
}

/// Points `config` at `model`. When the kind of model changes (from scratch ↔ pretrained), the learning
/// rate and epochs that still hold the old kind's recipe become the new kind's; values the user set keep.
pub fn switch_model(config: &mut TrainConfig, model: &str) {
    let (from, to) = (recipe_for(&config.model), recipe_for(model));
    config.model = model.trim().to_string();
    if config.learning_rate == from.learning_rate {
        config.learning_rate = to.learning_rate;
    }
    if config.epochs == from.epochs {
        config.epochs = to.epochs;
    }
}

/// The Hub settings of a run: the ones the app passed, else the environment's.
fn hub_of(config: &TrainConfig) -> HubSettings {
    config.hub.clone().unwrap_or_else(HubSettings::from_env)
}

/// The settings of the demo kit: the demo encoder (`builtin:demo`) fine-tuned on the demo headlines
/// (`builtin:headlines`), whole model; freezing all but the classifier gives the talk's comparison.
pub fn demo_kit_config() -> TrainConfig {
    TrainConfig {
        model: DEMO_SPEC.into(),
        data: DEMO_DATA_SPEC.into(),
        learning_rate: DEMO_ENCODER.learning_rate,
        batch_size: 16,
        epochs: DEMO_ENCODER.epochs,
        max_length: 48,
        warmup: super::Warmup::Ratio(0.06),
        seed: 42,
        validation_fraction: 0.15,
        ..TrainConfig::default()
    }
}

pub fn model_task(task: TrainTask) -> Task {
    match task {
        TrainTask::Classify => Task::SequenceClassification,
        TrainTask::MaskedLm => Task::MaskedLm,
    }
}

/// Loads the dataset of a config (`builtin:headlines` is the demo headlines).
pub fn load_data(config: &TrainConfig) -> TrainResult<Dataset> {
    let spec = if config.data.trim() == DEMO_DATA_SPEC {
        DataSpec::File(demo_headlines_path()?)
    } else {
        DataSpec::parse(&config.data)?
    };
    let options = DatasetOptions {
        validation_fraction: config.validation_fraction,
        seed: config.seed,
        ..DatasetOptions::default()
    };
    if let DataSpec::Hub { repo } = &spec {
        return Ok(load_hub_dataset(&hub_of(config), repo, &options, &mut |_| {}, &mut |_| {}, None)?);
    }
    Ok(load_dataset(&spec, &options, &mut |_| {})?)
}

/// A model with its tokenizer.
pub struct RunModel {
    pub model: TaskModel,
    pub tokenizer: TextTokenizer,
    /// Where tokenizer files can be copied from when saving (`None`: written from the tokenizer).
    pub tokenizer_dir: Option<PathBuf>,
}

fn apply_dropout(cfg: &mut ModelConfig, dropout: Option<f64>) {
    if let Some(p) = dropout {
        cfg.hidden_dropout_prob = p;
        cfg.attention_probs_dropout_prob = p;
        cfg.classifier_dropout = p;
    }
}

fn options(config: &TrainConfig) -> TrainResult<LoadOptions> {
    let device = parse_device(&config.device).map_err(TrainError::Config)?;
    Ok(LoadOptions { device, seed: config.seed, ..LoadOptions::default() })
}

/// Checks the settings that do not need the model or the data.
pub fn validate_config(config: &TrainConfig) -> TrainResult<()> {
    let bad = |m: String| Err(TrainError::Config(m));
    if !(config.learning_rate.is_finite() && config.learning_rate > 0.0) {
        return bad(format!("learning_rate must be a positive number, not {}", config.learning_rate));
    }
    if config.batch_size == 0 {
        return bad("batch_size must be at least 1".into());
    }
    if config.epochs == 0 && config.max_steps.is_none() {
        return bad("epochs must be at least 1 (or set max_steps)".into());
    }
    if config.max_steps == Some(0) {
        return bad("max_steps must be at least 1".into());
    }
    if config.max_length < 2 {
        return bad("max_length must be at least 2".into());
    }
    if config.gradient_accumulation == 0 {
        return bad("gradient_accumulation must be at least 1".into());
    }
    for (name, v) in [("adam_beta1", config.adam_beta1), ("adam_beta2", config.adam_beta2)] {
        if !(0.0..1.0).contains(&v) {
            return bad(format!("{name} must be in [0, 1), not {v}"));
        }
    }
    if config.adam_eps <= 0.0 || config.weight_decay < 0.0 {
        return bad("adam_eps must be positive and weight_decay not negative".into());
    }
    if config.dropout.is_some_and(|p| !(0.0..1.0).contains(&p)) {
        return bad("dropout must be in [0, 1)".into());
    }
    if !(0.0..1.0).contains(&config.validation_fraction) {
        return bad("validation_fraction must be in [0, 1)".into());
    }
    if config.task == TrainTask::MaskedLm && !(config.mlm_probability > 0.0 && config.mlm_probability < 1.0) {
        return bad("mlm_probability must be in (0, 1)".into());
    }
    if matches!(config.eval_every, EvalEvery::Steps(0)) || config.save_every == Some(0) {
        return bad("eval_every and save_every must be at least 1 step".into());
    }
    if let Some(n) = config.max_grad_norm.filter(|n| n.is_nan() || *n <= 0.0) {
        return bad(format!("max_grad_norm must be positive, not {n}"));
    }
    FreezePlan::from_config(config)?;
    Ok(())
}

/// The tokenizer a run names (`TrainConfig::tokenizer`), with its folder; `None` when it names none.
fn run_tokenizer(config: &TrainConfig) -> TrainResult<Option<(TextTokenizer, PathBuf)>> {
    let dir = config.tokenizer.trim();
    if dir.is_empty() {
        return Ok(None);
    }
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        return Err(TrainError::Config(format!("tokenizer {}: no such folder (train one with train-tokenizer)", dir.display())));
    }
    Ok(Some((load_tokenizer(&ModelFiles::in_dir(&dir))?, dir)))
}

/// The vocabulary size and padding id a model built from scratch gets: the run's tokenizer's, else the
/// demo vocabulary's.
fn scratch_vocab(own: Option<&TextTokenizer>) -> (usize, u32) {
    match own {
        Some(t) => (t.vocab_size(), t.pad_token().map_or(0, |(_, id)| id)),
        None => (crate::core::demo::DEMO_VOCAB.lines().count(), 0),
    }
}

/// The config of a built-in from-scratch model (`builtin:tiny`, `preset:LxH`) for `vocab_size` tokens;
/// `None` for other specs.
fn builtin_config(model: &str, vocab_size: usize, labels: &[String], pad_token_id: u32) -> TrainResult<Option<ModelConfig>> {
    if model.trim() == BUILTIN_TINY {
        return Ok(Some(tiny_model_config(vocab_size, labels)?));
    }
    match super::scratch::parse_preset(model) {
        Some(shape) => Ok(Some(shape?.config(vocab_size, labels, pad_token_id)?)),
        None => Ok(None),
    }
}

/// Builds the model of a new run, with the dataset's labels on a classifier head.
pub fn load_model(config: &TrainConfig, labels: &[String]) -> TrainResult<RunModel> {
    let task = model_task(config.task);
    let labels = if task == Task::SequenceClassification { labels } else { &[] };
    let own_tokenizer = run_tokenizer(config)?;
    let (vocab_size, pad) = scratch_vocab(own_tokenizer.as_ref().map(|(t, _)| t));
    if let Some(mut cfg) = builtin_config(&config.model, vocab_size, labels, pad)? {
        let (tokenizer, tokenizer_dir) = match own_tokenizer {
            Some((t, dir)) => (t, Some(dir)),
            None => (demo_tokenizer()?, None),
        };
        apply_dropout(&mut cfg, config.dropout);
        let model = TaskModel::from_config(cfg, task, &options(config)?)?;
        return Ok(RunModel { model, tokenizer, tokenizer_dir });
    }
    let options = options(config)?;
    let (resolved, mut cfg, task) = resolve_config(config, task, labels, options.clone())?;
    apply_dropout(&mut cfg, config.dropout);
    if let Some((tokenizer, dir)) = own_tokenizer {
        if resolved.weights.is_some() {
            return Err(TrainError::Config(format!(
                "{} is pretrained: it keeps its own tokenizer (a tokenizer folder is for a model built from a config)",
                config.model
            )));
        }
        cfg.vocab_size = tokenizer.vocab_size();
        let model = TaskModel::from_config(cfg, task, &options)?;
        return Ok(RunModel { model, tokenizer, tokenizer_dir: Some(dir) });
    }
    let model = match resolved.weights {
        Some(_) => TaskModel::from_dir_with_config(&resolved.dir, cfg, TaskChoice::Task(task), &options)?.0,
        None => TaskModel::from_config(cfg, task, &options)?,
    };
    let tokenizer = load_tokenizer(&ModelFiles::in_dir(&resolved.dir))?;
    Ok(RunModel { model, tokenizer, tokenizer_dir: Some(resolved.dir) })
}

/// The tokenizer a new run of `config` encodes its text with (as [`load_model`] picks it), without
/// loading the model's weights: the run's own tokenizer folder, else the demo vocabulary for a model
/// built from scratch, else the model's own.
pub fn run_text_tokenizer(config: &TrainConfig) -> TrainResult<TextTokenizer> {
    if let Some((tokenizer, _)) = run_tokenizer(config)? {
        return Ok(tokenizer);
    }
    if config.model.trim() == BUILTIN_TINY || super::scratch::parse_preset(&config.model).is_some() {
        return Ok(demo_tokenizer()?);
    }
    let spec = ModelSpec::parse(&config.model)?;
    let resolved = resolve(&spec, &hub_of(config), &mut |_| {})?;
    Ok(load_tokenizer(&ModelFiles::in_dir(&resolved.dir))?)
}

/// Loads a checkpoint folder (model and tokenizer) to continue training it.
pub fn load_checkpoint_model(config: &TrainConfig, dir: &Path) -> TrainResult<RunModel> {
    let mut cfg = ModelConfig::from_file(&dir.join("config.json"))?;
    apply_dropout(&mut cfg, config.dropout);
    let task = model_task(config.task);
    let (model, _) = TaskModel::from_dir_with_config(dir, cfg, TaskChoice::Task(task), &options(config)?)?;
    let tokenizer = load_tokenizer(&ModelFiles::in_dir(dir))?;
    Ok(RunModel { model, tokenizer, tokenizer_dir: Some(dir.to_path_buf()) })
}

/// One split, tokenised (truncated to the maximum length, not padded).
#[derive(Clone, Debug, Default)]
pub struct EncodedSplit {
    pub ids: Vec<Vec<u32>>,
    pub types: Vec<Vec<u32>>,
    /// Label ids (classification); empty for unlabeled splits.
    pub labels: Vec<u32>,
    /// Special-token flags per token (masked LM never masks those).
    pub special: Vec<Vec<bool>>,
}

impl EncodedSplit {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The longest sequence the model can take.
pub fn model_max_length(cfg: &ModelConfig) -> usize {
    if cfg.family == Family::Roberta {
        cfg.max_position_embeddings.saturating_sub(2)
    } else {
        cfg.max_position_embeddings
    }
}

pub fn encode_split(tokenizer: &TextTokenizer, split: &Split, max_length: usize) -> TrainResult<EncodedSplit> {
    let mut out = EncodedSplit { labels: split.labels.clone().unwrap_or_default(), ..EncodedSplit::default() };
    for (ids, types, special) in tokenizer.encode_ids_batch(&split.texts, split.pairs.as_deref(), max_length)? {
        out.ids.push(ids);
        out.types.push(types);
        out.special.push(special.iter().map(|&m| m == 1).collect());
    }
    Ok(out)
}

/// The splits of a run, tokenised.
pub struct RunData {
    pub label_names: Vec<String>,
    pub train: EncodedSplit,
    pub validation: Option<EncodedSplit>,
    pub test: Option<EncodedSplit>,
}

/// Refuses a chunk size longer than the model takes.
pub fn check_chunk_size(chunk: Option<usize>, model: &ModelConfig) -> TrainResult<()> {
    match chunk {
        Some(size) if size > model_max_length(model) => Err(TrainError::Config(format!(
            "chunk_size {size} is longer than the model takes ({} positions)",
            model_max_length(model)
        ))),
        _ => Ok(()),
    }
}

/// A split as a run's examples: the text in blocks of `chunk` tokens (a masked LM, see
/// [`super::chunk`]), else one row per example truncated at `max_length`.
pub fn encode_examples(tokenizer: &TextTokenizer, split: &Split, chunk: Option<usize>, max_length: usize) -> TrainResult<EncodedSplit> {
    match chunk {
        Some(size) => super::chunk::chunk_split(tokenizer, split, size),
        None => encode_split(tokenizer, split, max_length),
    }
}

pub fn encode_dataset(
    config: &TrainConfig,
    dataset: &Dataset,
    tokenizer: &TextTokenizer,
    model: &ModelConfig,
) -> TrainResult<RunData> {
    let max_length = config.max_length.min(model_max_length(model)).max(2);
    let classify = config.task == TrainTask::Classify;
    let chunk = config.text_chunk_size();
    check_chunk_size(chunk, model)?;
    let take = |name: SplitName| -> TrainResult<Option<EncodedSplit>> {
        match dataset.split(name) {
            Some(split) if !split.is_empty() && (!classify || split.labels.is_some()) => {
                Ok(Some(encode_examples(tokenizer, split, chunk, max_length)?).filter(|s| !s.is_empty()))
            }
            _ => Ok(None),
        }
    };
    // A text column that is blank in every row (a wrong column, an export that lost the text) would
    // "train" on [CLS] [SEP] alone and finish as if nothing were wrong.
    if let Some(split) = dataset.split(SplitName::Train) {
        if !split.is_empty() && split.texts.iter().all(|t| t.trim().is_empty()) {
            return Err(TrainError::Config(format!(
                "{}: the text column {:?} is empty in all {} rows of the train split: nothing to learn from \
                 (pick another text column)",
                dataset.name,
                dataset.mapping.text,
                split.len()
            )));
        }
    }
    let train = take(SplitName::Train)?.ok_or_else(|| {
        TrainError::Config(format!(
            "{}: the train split is empty{}",
            dataset.name,
            if classify { " or has no labels" } else { "" }
        ))
    })?;
    if classify && dataset.label_names.is_empty() {
        return Err(TrainError::Config(format!("{}: classification needs labels and the data has none", dataset.name)));
    }
    Ok(RunData {
        label_names: if classify { dataset.label_names.clone() } else { Vec::new() },
        train,
        validation: take(SplitName::Validation)?,
        test: take(SplitName::Test)?,
    })
}

/// The model config and task a run would build, without loading any weights (for the freeze map,
/// parameter counts and the memory estimate). A Hub repo is resolved (fetched when not cached).
pub fn model_config_for(config: &TrainConfig, labels: &[String]) -> TrainResult<(ModelConfig, Task)> {
    let task = model_task(config.task);
    let labels = if task == Task::SequenceClassification { labels } else { &[] };
    let own_tokenizer = run_tokenizer(config)?;
    let (vocab_size, pad) = scratch_vocab(own_tokenizer.as_ref().map(|(t, _)| t));
    if let Some(cfg) = builtin_config(&config.model, vocab_size, labels, pad)? {
        return Ok((cfg, task));
    }
    let (_, mut cfg, task) = resolve_config(config, task, labels, LoadOptions::default())?;
    if own_tokenizer.is_some() {
        cfg.vocab_size = vocab_size;
    }
    Ok((cfg, task))
}

/// Resolves a run's (non-builtin) model spec and its config for `task`, with the dataset's `labels`
/// (empty for a masked LM) on the classifier head.
fn resolve_config(
    config: &TrainConfig,
    task: Task,
    labels: &[String],
    options: LoadOptions,
) -> TrainResult<(ResolvedModel, ModelConfig, Task)> {
    let spec = ModelSpec::parse(&config.model)?;
    let resolved = resolve(&spec, &hub_of(config), &mut |_| {})?;
    let request = ModelRequest {
        task: TaskChoice::Task(task),
        num_labels: (!labels.is_empty()).then_some(labels.len()),
        require_weights: false,
        options,
    };
    let (mut cfg, task) = request_config(&resolved, &request)?;
    if !labels.is_empty() {
        cfg.id2label = labels.to_vec();
    }
    Ok((resolved, cfg, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_model_kind_swaps_the_recipe_but_keeps_user_values() {
        let mut config = demo_kit_config();
        switch_model(&mut config, "sentence-transformers/all-MiniLM-L6-v2");
        assert_eq!((config.learning_rate, config.epochs), (FINE_TUNE.learning_rate, FINE_TUNE.epochs));
        assert_eq!(config.model, "sentence-transformers/all-MiniLM-L6-v2");
        // Pretrained → pretrained: nothing changes but the model.
        config.epochs = 7;
        switch_model(&mut config, "/models/bert-base-uncased");
        assert_eq!((config.learning_rate, config.epochs), (FINE_TUNE.learning_rate, 7));
        // Back to scratch: the untouched learning rate follows, the user's epochs stay.
        switch_model(&mut config, BUILTIN_TINY);
        assert_eq!((config.learning_rate, config.epochs), (FROM_SCRATCH.learning_rate, 7));
        assert_eq!(recipe_for("/models/x/config.json"), FROM_SCRATCH);
        assert_eq!(recipe_for(" builtin:tiny "), FROM_SCRATCH);
        assert_eq!(recipe_for("builtin:demo"), DEMO_ENCODER);
        assert_eq!(demo_kit_config().model, "builtin:demo");
    }
}
