//! Reading weights: safetensors (single file or sharded), optionally pytorch_model.bin, with the name
//! variants transformers accepts, into the parameters an architecture plans.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde::Serialize;

use super::config::{Family, ModelConfig, Task};
use super::error::{ModelError, ModelResult};
use super::params::{Param, ParamSpec, ParamStore};
use super::keys::{bias_alias, param_specs, tied_aliases};
use super::rng::SeededRng;

pub const SAFETENSORS_FILE: &str = "model.safetensors";
pub const SAFETENSORS_INDEX: &str = "model.safetensors.index.json";
pub const PICKLE_FILE: &str = "pytorch_model.bin";

/// Where a model's weights are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WeightFiles {
    /// One or more safetensors files (several for a sharded checkpoint).
    Safetensors(Vec<PathBuf>),
    /// A PyTorch pickle, read only with [`LoadOptions::allow_pickle`].
    Pickle(PathBuf),
}

impl WeightFiles {
    /// Finds the weights in a folder: model.safetensors, else the shards of
    /// model.safetensors.index.json, else pytorch_model.bin. `None` when there are none.
    pub fn find(dir: &Path) -> ModelResult<Option<Self>> {
        let single = dir.join(SAFETENSORS_FILE);
        if single.is_file() {
            return Ok(Some(Self::Safetensors(vec![single])));
        }
        let index = dir.join(SAFETENSORS_INDEX);
        if index.is_file() {
            return Ok(Some(Self::Safetensors(shards_of(&index)?.into_iter().map(|f| dir.join(f)).collect())));
        }
        let pickle = dir.join(PICKLE_FILE);
        if pickle.is_file() {
            return Ok(Some(Self::Pickle(pickle)));
        }
        Ok(None)
    }

    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            Self::Safetensors(files) => files.clone(),
            Self::Pickle(path) => vec![path.clone()],
        }
    }
}

/// The shard file names listed in a model.safetensors.index.json, in first-use order.
pub fn shards_of(index: &Path) -> ModelResult<Vec<String>> {
    let text = std::fs::read_to_string(index).map_err(|e| ModelError::io(index, e))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| ModelError::parse(index, e))?;
    let map = value
        .get("weight_map")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| ModelError::parse(index, "no weight_map object"))?;
    let mut files: Vec<String> = Vec::new();
    for (key, file) in map {
        let file =
            file.as_str().ok_or_else(|| ModelError::parse(index, format!("weight_map[{key:?}] is not a file name")))?;
        if file.contains('/') || file.contains('\\') || file.starts_with('.') {
            return Err(ModelError::parse(index, format!("weight_map[{key:?}]: {file:?} is not a plain file name")));
        }
        if !files.iter().any(|f| f == file) {
            files.push(file.to_string());
        }
    }
    Ok(files)
}

/// How to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The dtype parameters are converted to (whatever the file stores).
    pub dtype: DType,
    pub device: Device,
    /// Read pytorch_model.bin (a pickle) when there is no safetensors file.
    pub allow_pickle: bool,
    /// Seed of the generator for freshly initialised parameters.
    pub seed: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { dtype: DType::F32, device: Device::Cpu, allow_pickle: false, seed: 42 }
    }
}

/// What loading did, like transformers' load warnings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// Parameters that were not in the files and were freshly initialised (transformers' key names,
    /// e.g. `classifier.weight`, `bert.pooler.dense.weight`). Train before use.
    pub newly_initialized: Vec<String>,
    /// Keys in the files that the architecture does not use.
    pub unexpected: Vec<String>,
    /// Keys skipped on purpose: buffers (`position_ids`) and tied aliases of other tensors.
    pub ignored: Vec<String>,
    /// Keys read under a legacy name (`gamma`/`beta`).
    pub renamed: usize,
    pub files: Vec<PathBuf>,
}

/// A tensor read from a file, with the file it came from.
pub struct StoredTensor {
    pub file: PathBuf,
    pub key: String,
    pub tensor: Tensor,
}

/// Reads every tensor of the weight files (on the CPU, in the stored dtype).
pub fn read_tensors(files: &WeightFiles, allow_pickle: bool) -> ModelResult<Vec<StoredTensor>> {
    let mut out = Vec::new();
    match files {
        WeightFiles::Safetensors(paths) => {
            for path in paths {
                if !path.is_file() {
                    return Err(ModelError::io(
                        path,
                        std::io::Error::new(std::io::ErrorKind::NotFound, "file not found"),
                    ));
                }
                let tensors =
                    candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| ModelError::parse(path, e))?;
                let mut tensors: Vec<_> = tensors.into_iter().collect();
                tensors.sort_by(|a, b| a.0.cmp(&b.0));
                out.extend(tensors.into_iter().map(|(key, tensor)| StoredTensor { file: path.clone(), key, tensor }));
            }
        }
        WeightFiles::Pickle(path) => {
            if !allow_pickle {
                return Err(ModelError::PickleNotAllowed { path: path.clone() });
            }
            let tensors = candle_core::pickle::read_all(path).map_err(|e| ModelError::parse(path, e))?;
            out.extend(tensors.into_iter().map(|(key, tensor)| StoredTensor { file: path.clone(), key, tensor }));
        }
    }
    Ok(out)
}

/// How a stored key relates to the architecture's parameter names.
#[derive(Debug, PartialEq, Eq)]
enum KeyMatch {
    /// The parameter name it fills; `true` when a legacy name was rewritten.
    Param(String, bool),
    /// Another name of a parameter, used when the parameter's own name is absent.
    Alias(String),
    Ignored,
}

/// Maps a stored key to a parameter name: drops the base-model prefix, renames `gamma`/`beta`
/// (legacy LayerNorm names), and recognises buffers and tied aliases.
fn match_key(family: Family, key: &str) -> KeyMatch {
    let prefix = format!("{}.", family.prefix());
    let key = key.strip_prefix(&prefix).unwrap_or(key);
    if key == "position_ids" || key.ends_with(".position_ids") || tied_aliases(family).contains(&key) {
        return KeyMatch::Ignored;
    }
    if let Some((alias, name)) = bias_alias(family) {
        if key == alias {
            return KeyMatch::Alias(name.to_string());
        }
    }
    let (renamed, legacy) = if let Some(stem) = key.strip_suffix(".gamma") {
        (format!("{stem}.weight"), true)
    } else if let Some(stem) = key.strip_suffix(".beta") {
        (format!("{stem}.bias"), true)
    } else {
        (key.to_string(), false)
    };
    KeyMatch::Param(renamed, legacy)
}

/// The name transformers would print for a parameter of a `task` model.
pub fn full_key(family: Family, task: Task, name: &str, is_head: bool) -> String {
    if task == Task::Base || is_head {
        name.to_string()
    } else {
        format!("{}.{name}", family.prefix())
    }
}

/// Builds the parameters of `task` for `cfg`: from `stored` where present (checked against the planned
/// shape, converted to the requested dtype/device), freshly initialised otherwise.
pub fn build_params(
    cfg: &ModelConfig,
    task: Task,
    stored: Vec<StoredTensor>,
    options: &LoadOptions,
) -> ModelResult<(ParamStore, LoadReport)> {
    let specs = param_specs(cfg, task);
    let mut report = LoadReport::default();
    let mut by_name: HashMap<String, StoredTensor> = HashMap::new();
    let mut aliases: Vec<(String, StoredTensor)> = Vec::new();
    let mut files: BTreeMap<PathBuf, ()> = BTreeMap::new();
    for st in stored {
        files.insert(st.file.clone(), ());
        match match_key(cfg.family, &st.key) {
            KeyMatch::Ignored => report.ignored.push(st.key),
            KeyMatch::Alias(name) => aliases.push((name, st)),
            KeyMatch::Param(name, legacy) => {
                if specs.iter().any(|s| s.name == name) {
                    report.renamed += usize::from(legacy);
                    by_name.insert(name, st);
                } else {
                    report.unexpected.push(st.key);
                }
            }
        }
    }
    for (name, st) in aliases {
        if by_name.contains_key(&name) || !specs.iter().any(|s| s.name == name) {
            report.ignored.push(st.key);
        } else {
            by_name.insert(name, st);
        }
    }
    report.files = files.into_keys().collect();
    let mut rng = SeededRng::new(options.seed);
    let mut store = ParamStore::default();
    for spec in specs {
        let value = match by_name.remove(&spec.name) {
            Some(st) => convert(&spec, st, options)?,
            None => {
                let is_head = spec.module == super::params::ModuleId::Head;
                report.newly_initialized.push(full_key(cfg.family, task, &spec.name, is_head));
                spec.init_tensor(&mut rng, options.dtype, &options.device)?
            }
        };
        store.push(Param::new(spec, value)?);
    }
    Ok((store, report))
}

fn convert(spec: &ParamSpec, st: StoredTensor, options: &LoadOptions) -> ModelResult<Tensor> {
    let found = st.tensor.dims().to_vec();
    if found != spec.shape {
        return Err(ModelError::ShapeMismatch { tensor: st.key, expected: spec.shape.clone(), found, file: st.file });
    }
    if !st.tensor.dtype().is_float() {
        return Err(ModelError::BadTensor {
            tensor: st.key,
            file: st.file,
            message: format!("stored as {:?}, expected a float dtype", st.tensor.dtype()),
        });
    }
    st.tensor.to_dtype(options.dtype).and_then(|t| t.to_device(&options.device)).map_err(|e| ModelError::BadTensor {
        tensor: st.key,
        file: st.file,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_variants_are_understood() {
        assert_eq!(
            match_key(Family::Bert, "bert.embeddings.LayerNorm.gamma"),
            KeyMatch::Param("embeddings.LayerNorm.weight".into(), true)
        );
        assert_eq!(
            match_key(Family::Bert, "encoder.layer.0.output.LayerNorm.beta"),
            KeyMatch::Param("encoder.layer.0.output.LayerNorm.bias".into(), true)
        );
        assert_eq!(match_key(Family::Bert, "embeddings.position_ids"), KeyMatch::Ignored);
        assert_eq!(match_key(Family::Bert, "cls.predictions.decoder.weight"), KeyMatch::Ignored);
        assert_eq!(match_key(Family::Roberta, "lm_head.decoder.bias"), KeyMatch::Alias("lm_head.bias".into()));
        assert_eq!(
            match_key(Family::Roberta, "roberta.pooler.dense.weight"),
            KeyMatch::Param("pooler.dense.weight".into(), false)
        );
        assert_eq!(
            match_key(Family::DistilBert, "distilbert.transformer.layer.0.ffn.lin1.bias"),
            KeyMatch::Param("transformer.layer.0.ffn.lin1.bias".into(), false)
        );
    }
}
