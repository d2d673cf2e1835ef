//! From a model spec (folder, bare config.json, Hub repo) to a model: resolves the files (fetching
//! the weights of Hub repos into the standard cache) and loads config, weights and tokenizer.

use std::path::{Path, PathBuf};

use super::config::{ModelConfig, Task};
use super::error::{ModelError, ModelResult};
use super::load::{shards_of, LoadOptions, LoadReport, WeightFiles, SAFETENSORS_FILE, SAFETENSORS_INDEX};
use super::task_model::{TaskChoice, TaskModel};
use crate::core::hub::HubSettings;
use crate::core::CoreError;
use crate::core::model_source::{load_tokenizer, ModelFiles, ModelSpec};
use crate::core::text::tokenizer::TextTokenizer;

/// Where a spec's files are.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedModel {
    pub config_path: PathBuf,
    /// The folder holding config.json (and the tokenizer files, where present).
    pub dir: PathBuf,
    /// `None`: no weights (a bare config.json): the model is randomly initialised.
    pub weights: Option<WeightFiles>,
}

/// Finds (or, for Hub repos, fetches) the files of a model.
pub fn resolve(spec: &ModelSpec, hub: &HubSettings, progress: &mut dyn FnMut(&str)) -> ModelResult<ResolvedModel> {
    match spec {
        ModelSpec::Demo => {
            let dir = crate::core::demo::demo_encoder_dir()?;
            Ok(ResolvedModel { config_path: dir.join("config.json"), weights: WeightFiles::find(&dir)?, dir })
        }
        ModelSpec::Local(path) if path.is_file() => {
            let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            Ok(ResolvedModel { config_path: path.clone(), dir, weights: None })
        }
        ModelSpec::Local(path) => {
            if !path.is_dir() {
                return Err(crate::core::CoreError::FolderNotFound { path: path.clone() }.into());
            }
            let config_path = path.join("config.json");
            if !config_path.is_file() {
                return Err(ModelError::io(
                    &config_path,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no config.json in the model folder"),
                ));
            }
            Ok(ResolvedModel { config_path, dir: path.clone(), weights: WeightFiles::find(path)? })
        }
        ModelSpec::Hub { repo, revision } => {
            let mut on_file = |file: &str, _: usize, _: usize| progress(&format!("{repo}: {file}"));
            let fetched = hub.fetch_model_files(
                repo,
                revision.as_deref(),
                &["config.json"],
                &[
                    "tokenizer.json",
                    "tokenizer_config.json",
                    "vocab.txt",
                    "special_tokens_map.json",
                    SAFETENSORS_FILE,
                    SAFETENSORS_INDEX,
                ],
                &mut on_file,
            )?;
            let dir = fetched.dir;
            if !dir.join(SAFETENSORS_FILE).is_file() && dir.join(SAFETENSORS_INDEX).is_file() {
                let shards = shards_of(&dir.join(SAFETENSORS_INDEX))?;
                let names: Vec<&str> = shards.iter().map(String::as_str).collect();
                hub.fetch_model_files(repo, revision.as_deref(), &names, &[], &mut on_file)?;
            }
            let weights = WeightFiles::find(&dir)?;
            if let (None, Some(why)) = (&weights, &fetched.unreachable) {
                // Never train a "pretrained" model from random weights because the network was down.
                return Err(CoreError::Hub {
                    repo: repo.clone(),
                    message: format!("the Hub could not be reached ({why}) and the weights are not in the cache"),
                }
                .into());
            }
            Ok(ResolvedModel { config_path: dir.join("config.json"), weights, dir })
        }
    }
}

/// What to build from a spec.
#[derive(Clone, Debug)]
pub struct ModelRequest {
    pub task: TaskChoice,
    /// Sets the number of classifier labels (and makes the model a classifier when the task comes
    /// from the config).
    pub num_labels: Option<usize>,
    /// Fail when there are no weights instead of initialising randomly.
    pub require_weights: bool,
    pub options: LoadOptions,
}

/// A model loaded from a spec, with its load report and (where the folder has one) its tokenizer.
pub struct SpecModel {
    pub model: TaskModel,
    pub report: LoadReport,
    pub resolved: ResolvedModel,
    /// `true` when there were no weights and every parameter is freshly initialised.
    pub random_init: bool,
}

impl SpecModel {
    pub fn tokenizer(&self) -> ModelResult<TextTokenizer> {
        Ok(load_tokenizer(&ModelFiles::in_dir(&self.resolved.dir))?)
    }
}

/// The config of a resolved model with the request applied (labels), and the task to build.
pub fn request_config(resolved: &ResolvedModel, request: &ModelRequest) -> ModelResult<(ModelConfig, Task)> {
    let mut config = ModelConfig::from_file(&resolved.config_path)?;
    let mut task = request.task;
    if let Some(n) = request.num_labels {
        if n == 0 {
            return Err(ModelError::Input("--num-labels must be at least 1".into()));
        }
        config.set_num_labels(n);
        if task == TaskChoice::FromConfig {
            task = TaskChoice::Task(Task::SequenceClassification);
        }
    }
    let task = task.resolve(&config);
    Ok((config, task))
}

/// Resolves a spec and builds the model it names.
pub fn load_spec(
    spec: &ModelSpec,
    hub: &HubSettings,
    request: &ModelRequest,
    progress: &mut dyn FnMut(&str),
) -> ModelResult<SpecModel> {
    let resolved = resolve(spec, hub, progress)?;
    let (config, task) = request_config(&resolved, request)?;
    progress("building the model");
    match &resolved.weights {
        Some(_) => {
            let (model, report) =
                TaskModel::from_dir_with_config(&resolved.dir, config, TaskChoice::Task(task), &request.options)?;
            Ok(SpecModel { model, report, resolved, random_init: false })
        }
        None if request.require_weights => Err(ModelError::NoWeights { dir: resolved.dir.clone() }),
        None => {
            let model = TaskModel::from_config(config, task, &request.options)?;
            Ok(SpecModel { model, report: LoadReport::default(), resolved, random_init: true })
        }
    }
}
