//! Saving in the Hugging Face layout: config.json, model.safetensors (transformers' key names) and the
//! tokenizer files. Every file is written atomically (a temporary file in the same folder, renamed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde_json::{json, Value};

use super::config::Family;
use super::error::{ModelError, ModelResult};
use super::load::{full_key, SAFETENSORS_FILE};
use super::params::ModuleId;
use super::task_model::TaskModel;
use crate::core::text::tokenizer::{TextTokenizer, TokenizerKind};

/// The tokenizer files transformers writes with `save_pretrained`.
pub const TOKENIZER_FILES: [&str; 4] =
    ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"];

/// Writes `bytes` to `path` whole ([`crate::core::write_file_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> ModelResult<()> {
    crate::core::write_file_atomic(path, bytes).map_err(|e| ModelError::io(path, e))
}

fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F16 => "float16",
        DType::BF16 => "bfloat16",
        DType::F64 => "float64",
        _ => "float32",
    }
}

/// config.json as transformers writes it for this model.
pub fn config_json(model: &TaskModel) -> Value {
    let cfg = model.config();
    let mut raw = cfg.raw.clone();
    raw.insert("model_type".into(), json!(cfg.family.model_type()));
    raw.insert("architectures".into(), json!([model.task().class_name(cfg.family)]));
    let id2label: BTreeMap<String, String> =
        cfg.id2label.iter().enumerate().map(|(i, l)| (i.to_string(), l.clone())).collect();
    let label2id: BTreeMap<String, usize> = cfg.id2label.iter().enumerate().map(|(i, l)| (l.clone(), i)).collect();
    raw.insert("id2label".into(), json!(id2label));
    raw.insert("label2id".into(), json!(label2id));
    // transformers derives num_labels from id2label and does not write it; it is written here too
    // for readers that look for it (transformers accepts it).
    raw.insert("num_labels".into(), json!(cfg.id2label.len()));
    raw.remove("torch_dtype");
    raw.insert("dtype".into(), json!(dtype_name(model.dtype())));
    Value::Object(raw)
}

/// The tensors of model.safetensors under transformers' key names (tied weights written once).
pub fn state_dict(model: &TaskModel) -> ModelResult<Vec<(String, Tensor)>> {
    let (family, task) = (model.config().family, model.task());
    model
        .params()
        .params()
        .iter()
        .map(|p| {
            let key = full_key(family, task, p.name(), p.module() == ModuleId::Head);
            let t = p
                .var()
                .as_tensor()
                .to_device(&Device::Cpu)
                .and_then(|t| t.contiguous())
                .map_err(|source| ModelError::Candle { context: key.clone(), source })?;
            Ok((key, t))
        })
        .collect()
}

/// Writes tensors as a safetensors file with `{"format": "pt"}` metadata (which transformers expects).
pub fn write_safetensors(path: &Path, tensors: Vec<(String, Tensor)>) -> ModelResult<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let raw = dir.join(format!(
        ".{}.raw-{}",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id()
    ));
    let map: std::collections::HashMap<String, Tensor> = tensors.into_iter().collect();
    let written = candle_core::safetensors::save(&map, &raw)
        .map_err(|source| ModelError::Candle { context: format!("writing {}", path.display()), source });
    let bytes = written.and_then(|()| std::fs::read(&raw).map_err(|e| ModelError::io(&raw, e)));
    let _ = std::fs::remove_file(&raw);
    write_atomic(path, &with_metadata(&bytes?, path)?)
}

/// Rewrites a safetensors header to carry `{"format": "pt"}` metadata; the data offsets are relative
/// to the data section and do not change.
fn with_metadata(bytes: &[u8], path: &Path) -> ModelResult<Vec<u8>> {
    let bad = |m: &str| ModelError::parse(path, m);
    let len_bytes: [u8; 8] =
        bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("truncated safetensors header"))?;
    let header_len = u64::from_le_bytes(len_bytes) as usize;
    let header = bytes.get(8..8 + header_len).ok_or_else(|| bad("truncated safetensors header"))?;
    let mut value: serde_json::Map<String, Value> =
        serde_json::from_slice(header).map_err(|e| ModelError::parse(path, e))?;
    value.insert("__metadata__".into(), json!({"format": "pt"}));
    let mut header = serde_json::to_vec(&value).map_err(|e| ModelError::parse(path, e))?;
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut out = Vec::with_capacity(bytes.len() + 64);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&bytes[8 + header_len..]);
    Ok(out)
}

/// Copies the tokenizer files of `source_dir` that exist, and writes tokenizer.json,
/// tokenizer_config.json and special_tokens_map.json where the source lacks them.
pub fn save_tokenizer(
    tokenizer: &TextTokenizer,
    source_dir: Option<&Path>,
    family: Family,
    max_length: usize,
    dir: &Path,
) -> ModelResult<Vec<PathBuf>> {
    let mut written = Vec::new();
    for name in TOKENIZER_FILES {
        if let Some(src) = source_dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
            let bytes = std::fs::read(&src).map_err(|e| ModelError::io(&src, e))?;
            write_atomic(&dir.join(name), &bytes)?;
            written.push(dir.join(name));
        }
    }
    let specials = special_tokens(tokenizer, family);
    let missing = |written: &[PathBuf], name: &str| !written.iter().any(|p| p.file_name().is_some_and(|n| n == name));
    if missing(&written, "tokenizer.json") {
        let text = tokenizer
            .inner()
            .to_string(false)
            .map_err(|e| ModelError::Input(format!("serialising the tokenizer: {e}")))?;
        write_atomic(&dir.join("tokenizer.json"), text.as_bytes())?;
        written.push(dir.join("tokenizer.json"));
    }
    if missing(&written, "special_tokens_map.json") {
        write_json(&dir.join("special_tokens_map.json"), &Value::Object(specials.clone()))?;
        written.push(dir.join("special_tokens_map.json"));
    }
    if missing(&written, "tokenizer_config.json") {
        let class = match family {
            // A BERT with a BPE or unigram tokenizer: transformers reads tokenizer.json as it is.
            Family::Bert if tokenizer.kind() != TokenizerKind::WordPiece => "PreTrainedTokenizerFast",
            Family::Bert => "BertTokenizer",
            Family::DistilBert => "DistilBertTokenizer",
            Family::Roberta => "RobertaTokenizer",
        };
        let mut config = specials;
        config.insert("tokenizer_class".into(), json!(class));
        config.insert("model_max_length".into(), json!(max_length));
        // transformers' BERT tokenizers rebuild the normaliser from these (lower-casing by default): a
        // cased vocabulary must say so.
        if let Some(tokenizers::NormalizerWrapper::BertNormalizer(n)) = tokenizer.inner().get_normalizer() {
            config.insert("do_lower_case".into(), json!(n.lowercase));
            config.insert("strip_accents".into(), json!(n.strip_accents));
            config.insert("tokenize_chinese_chars".into(), json!(n.handle_chinese_chars));
        }
        write_json(&dir.join("tokenizer_config.json"), &Value::Object(config))?;
        written.push(dir.join("tokenizer_config.json"));
    }
    Ok(written)
}

fn special_tokens(tokenizer: &TextTokenizer, family: Family) -> serde_json::Map<String, Value> {
    let names: &[(&str, &str)] = match family {
        Family::Roberta => &[
            ("bos_token", "<s>"),
            ("cls_token", "<s>"),
            ("eos_token", "</s>"),
            ("sep_token", "</s>"),
            ("pad_token", "<pad>"),
            ("unk_token", "<unk>"),
            ("mask_token", "<mask>"),
        ],
        _ => &[
            ("cls_token", "[CLS]"),
            ("sep_token", "[SEP]"),
            ("pad_token", "[PAD]"),
            ("unk_token", "[UNK]"),
            ("mask_token", "[MASK]"),
        ],
    };
    names
        .iter()
        .filter(|(_, t)| tokenizer.token_to_id(t).is_some())
        .map(|(k, t)| ((*k).to_string(), json!(t)))
        .collect()
}

fn write_json(path: &Path, value: &Value) -> ModelResult<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| ModelError::parse(path, e))?;
    write_atomic(path, format!("{text}\n").as_bytes())
}

/// Saves a model as transformers' `save_pretrained` does (config.json and model.safetensors), plus
/// the tokenizer files when a tokenizer is given (copied from `tokenizer_dir` where it has them).
/// Returns the files written.
pub fn save_pretrained(
    model: &TaskModel,
    dir: &Path,
    tokenizer: Option<(&TextTokenizer, Option<&Path>)>,
) -> ModelResult<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let mut written = Vec::new();
    write_safetensors(&dir.join(SAFETENSORS_FILE), state_dict(model)?)?;
    written.push(dir.join(SAFETENSORS_FILE));
    write_json(&dir.join("config.json"), &config_json(model))?;
    written.push(dir.join("config.json"));
    if let Some((tok, source)) = tokenizer {
        let cfg = model.config();
        let max_length = if cfg.family == Family::Roberta {
            cfg.max_position_embeddings.saturating_sub(2)
        } else {
            cfg.max_position_embeddings
        };
        written.extend(save_tokenizer(tok, source, cfg.family, max_length, dir)?);
    }
    Ok(written)
}
