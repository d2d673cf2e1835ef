//! A corpus of malformed and hostile inputs — model folders, weights, tokenizers, datasets, run folders,
//! run bundles, CLI arguments — each must give a clear error naming the file (or row, or field): never a
//! panic, never a hang, and the input is left exactly as it was.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use lm_workbench::core::data::{load_dataset, DataSpec, DatasetOptions};
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::model::{LoadOptions as ModelOptions, ModelConfig, Task, TaskChoice, TaskModel};
use lm_workbench::core::model_source::{load_model, ModelSpec};
use lm_workbench::core::train::checkpoint::find_checkpoint;
use lm_workbench::core::train::replay::{import_run, spawn_replay};
use lm_workbench::core::train::{load_run, run::read_config};

/// Every file under `dir` with its bytes (symlinks as their targets), to check nothing was modified.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.push((p.clone(), std::fs::read_link(&p).unwrap().to_string_lossy().as_bytes().to_vec()));
            } else if meta.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

struct Case {
    name: &'static str,
    /// Builds the input in the folder; returns the path handed to `run`.
    make: fn(&Path) -> PathBuf,
    /// Runs the call under test; `Err` with the message a user would see.
    run: fn(&Path) -> Result<(), String>,
    /// The message must name this (usually the file).
    needle: &'static str,
}

fn hub() -> HubSettings {
    HubSettings { endpoint: Some("http://127.0.0.1:9".into()), cache_dir: std::env::temp_dir().join("lmw-bad-input-cache"), offline: true }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A model folder: config.json as given, the MiniLM tokenizer.
fn model_dir(dir: &Path, config: &[u8]) -> PathBuf {
    let m = dir.join("model");
    write(&m, "config.json", config);
    std::fs::copy(common::minilm().join("tokenizer.json"), m.join("tokenizer.json")).unwrap();
    m
}

const BERT: &str = r#"{"model_type":"bert","hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"vocab_size":30522,"max_position_embeddings":64,"type_vocab_size":2}"#;

fn load_tokenizer(p: &Path) -> Result<(), String> {
    load_model(&ModelSpec::Local(p.to_path_buf()), &hub(), &mut |_, _| {}).map(|_| ()).map_err(|e| e.to_string())
}

fn load_weights(p: &Path) -> Result<(), String> {
    TaskModel::from_dir(p, TaskChoice::FromConfig, &ModelOptions::default()).map(|_| ()).map_err(|e| e.to_string())
}

/// A bare config.json, as `train --model config.json` builds it (random weights).
fn build_from_config(p: &Path) -> Result<(), String> {
    let config = ModelConfig::from_file(&p.join("config.json")).map_err(|e| e.to_string())?;
    TaskModel::from_config(config, Task::Base, &ModelOptions::default()).map(|_| ()).map_err(|e| e.to_string())
}

fn load_data(p: &Path) -> Result<(), String> {
    let spec = if p.is_dir() { DataSpec::Folder(p.to_path_buf()) } else { DataSpec::File(p.to_path_buf()) };
    load_dataset(&spec, &DatasetOptions::default(), &mut |_| {}).map(|_| ()).map_err(|e| e.to_string())
}

fn safetensors_with_header(dir: &Path, header: &[u8], declared_len: u64) -> PathBuf {
    let m = model_dir(dir, BERT.as_bytes());
    let mut bytes = declared_len.to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    write(&m, "model.safetensors", &bytes);
    m
}

fn run_dir(dir: &Path, config: &[u8], metrics: &[u8]) -> PathBuf {
    let r = dir.join("run");
    write(&r, "config.json", config);
    write(&r, "metrics.jsonl", metrics);
    r
}

fn cli(args: &[&str]) -> Result<(), String> {
    let out = common::run_cli(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(2) if stderr.starts_with("error: ") && stderr.trim_end().lines().count() == 1 => Err(stderr),
        other => panic!("exit {other:?} (expected 2 with one error line): {stderr}"),
    }
}

fn cases() -> Vec<Case> {
    vec![
        // --- model folders and config.json ---
        Case { name: "config.json not JSON", make: |d| model_dir(d, b"{ not json"), run: load_tokenizer, needle: "config.json" },
        Case { name: "config.json empty", make: |d| model_dir(d, b""), run: load_tokenizer, needle: "config.json" },
        Case { name: "config.json invalid UTF-8", make: |d| model_dir(d, b"{\"model_type\": \"\xff\xfe\"}"), run: load_tokenizer, needle: "config.json" },
        Case { name: "config.json with NUL bytes", make: |d| model_dir(d, b"{\"model_type\"\0: \"bert\"}"), run: load_tokenizer, needle: "config.json" },
        Case { name: "config.json an array", make: |d| model_dir(d, b"[1, 2, 3]"), run: load_weights, needle: "config.json" },
        Case {
            name: "config.json absurd hidden size",
            make: |d| model_dir(d, BERT.replace("\"hidden_size\":32", "\"hidden_size\":1000000000000").as_bytes()),
            run: build_from_config,
            needle: "hidden_size",
        },
        Case {
            name: "config.json absurd vocabulary",
            make: |d| model_dir(d, BERT.replace("\"vocab_size\":30522", "\"vocab_size\":99999999999").as_bytes()),
            run: build_from_config,
            needle: "vocab_size",
        },
        Case {
            name: "config.json sizes that multiply to trillions",
            make: |d| {
                let big = BERT.replace("\"hidden_size\":32", "\"hidden_size\":32768").replace("\"num_hidden_layers\":1", "\"num_hidden_layers\":1000");
                model_dir(d, big.replace("\"num_attention_heads\":2", "\"num_attention_heads\":64").as_bytes())
            },
            run: build_from_config,
            needle: "billion parameters",
        },
        Case {
            name: "config.json heads do not divide hidden",
            make: |d| model_dir(d, BERT.replace("\"num_attention_heads\":2", "\"num_attention_heads\":5").as_bytes()),
            run: load_weights,
            needle: "heads",
        },
        Case {
            name: "config.json negative layers",
            make: |d| model_dir(d, BERT.replace("\"num_hidden_layers\":1", "\"num_hidden_layers\":-3").as_bytes()),
            run: load_weights,
            needle: "config.json",
        },
        Case { name: "model folder missing", make: |d| d.join("nowhere"), run: load_tokenizer, needle: "nowhere" },
        Case {
            name: "model folder is a symlink loop",
            make: |d| {
                let a = d.join("loop-a");
                std::os::unix::fs::symlink(d.join("loop-b"), &a).unwrap();
                std::os::unix::fs::symlink(&a, d.join("loop-b")).unwrap();
                a
            },
            run: load_tokenizer,
            needle: "loop-a",
        },
        Case {
            name: "tokenizer.json garbage",
            make: |d| {
                let m = model_dir(d, BERT.as_bytes());
                write(&m, "tokenizer.json", b"{\"model\": 42}");
                m
            },
            run: load_tokenizer,
            needle: "tokenizer.json",
        },
        Case {
            name: "tokenizer.json invalid UTF-8",
            make: |d| {
                let m = model_dir(d, BERT.as_bytes());
                write(&m, "tokenizer.json", b"\xff\xfe\x00garbage");
                m
            },
            run: load_tokenizer,
            needle: "tokenizer.json",
        },
        Case {
            name: "vocab.txt only, empty",
            make: |d| {
                let m = d.join("vocab-model");
                write(&m, "config.json", BERT.as_bytes());
                write(&m, "vocab.txt", b"");
                m
            },
            run: load_tokenizer,
            needle: "vocab",
        },
        // --- weights ---
        Case { name: "safetensors header claims petabytes", make: |d| safetensors_with_header(d, b"{}", 1 << 50), run: load_weights, needle: "model.safetensors" },
        Case { name: "safetensors header not JSON", make: |d| safetensors_with_header(d, b"{nope", 5), run: load_weights, needle: "model.safetensors" },
        Case {
            name: "safetensors tensor past the end",
            make: |d| safetensors_with_header(d, br#"{"embeddings.word_embeddings.weight":{"dtype":"F32","shape":[30522,32],"data_offsets":[0,3906816]}}"#, 99),
            run: load_weights,
            needle: "model.safetensors",
        },
        Case { name: "safetensors empty file", make: |d| safetensors_with_header(d, b"", 0).join("..").join("model"), run: load_weights, needle: "model.safetensors" },
        Case {
            name: "safetensors of the wrong shape",
            make: |d| {
                let m = model_dir(d, BERT.as_bytes());
                let t = candle_core::Tensor::zeros((7, 3), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
                candle_core::safetensors::save(&std::collections::HashMap::from([("embeddings.word_embeddings.weight".to_string(), t)]), m.join("model.safetensors")).unwrap();
                m
            },
            run: load_weights,
            needle: "embeddings.word_embeddings.weight",
        },
        Case {
            name: "pickle weights without the opt-in",
            make: |d| {
                let m = model_dir(d, BERT.as_bytes());
                write(&m, "pytorch_model.bin", b"\x80\x02not really a pickle");
                m
            },
            run: load_weights,
            needle: "pytorch_model.bin",
        },
        // --- datasets ---
        Case { name: "CSV empty file", make: |d| write(d, "empty.csv", b""), run: load_data, needle: "empty.csv" },
        Case { name: "CSV header only", make: |d| write(d, "header.csv", b"text,label\n"), run: load_data, needle: "header.csv" },
        Case { name: "CSV invalid UTF-8", make: |d| write(d, "latin1.csv", b"text,label\ncaf\xe9 au lait,food\n"), run: load_data, needle: "latin1.csv" },
        Case { name: "CSV NUL bytes", make: |d| write(d, "nul.csv", b"\0\0\0\0\0\0\0\0"), run: load_data, needle: "nul.csv" },
        Case { name: "CSV without a text column", make: |d| write(d, "numbers.csv", b"a,b\n1,2\n3,4\n"), run: load_data, needle: "numbers.csv" },
        Case { name: "CSV ragged rows", make: |d| write(d, "ragged.csv", b"text,label\nhello,greeting\nthis row,has,too,many,fields\n"), run: load_data, needle: "ragged.csv" },
        Case {
            name: "CSV one 100 MB line",
            make: |d| {
                let path = d.join("huge.csv");
                let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
                let chunk = vec![b'x'; 1 << 20];
                for _ in 0..100 {
                    std::io::Write::write_all(&mut f, &chunk).unwrap();
                }
                path
            },
            run: load_data,
            needle: "huge.csv",
        },
        Case { name: "JSON Lines not JSON", make: |d| write(d, "bad.jsonl", b"{\"text\": \"ok\", \"label\": \"a\"}\n{broken\n"), run: load_data, needle: "bad.jsonl" },
        Case { name: "JSON Lines of arrays", make: |d| write(d, "arrays.jsonl", b"[1,2]\n[3,4]\n"), run: load_data, needle: "arrays.jsonl" },
        Case { name: "JSON Lines text is a number", make: |d| write(d, "types.jsonl", b"{\"text\": 5, \"label\": \"a\"}\n"), run: load_data, needle: "types.jsonl" },
        Case { name: "Parquet garbage", make: |d| write(d, "fake.parquet", b"PAR1 this is not parquet PAR1"), run: load_data, needle: "fake.parquet" },
        Case { name: "Parquet empty", make: |d| write(d, "zero.parquet", b""), run: load_data, needle: "zero.parquet" },
        Case { name: "text file binary", make: |d| write(d, "binary.txt", &[0xff, 0x00, 0xfe, 0x01, 0x80, 0x81]), run: load_data, needle: "binary.txt" },
        Case { name: "unknown file type", make: |d| write(d, "data.xlsx", b"PK\x03\x04"), run: load_data, needle: "data.xlsx" },
        Case { name: "data folder empty", make: |d| { let p = d.join("empty-folder"); std::fs::create_dir_all(&p).unwrap(); p }, run: load_data, needle: "empty-folder" },
        Case {
            name: "data folder mixing file types in a split",
            make: |d| {
                let f = d.join("mixed");
                write(&f, "train.csv", b"text,label\na,b\n");
                write(&f, "train.jsonl", b"{\"text\":\"a\",\"label\":\"b\"}\n");
                f
            },
            run: load_data,
            needle: "train",
        },
        // --- run folders and bundles ---
        Case { name: "run config.json garbage", make: |d| run_dir(d, b"\xff{{", b""), run: |p| read_config(p).map(|_| ()).map_err(|e| e.to_string()), needle: "config.json" },
        Case {
            name: "run config.json wrong types",
            make: |d| run_dir(d, b"{\"learning_rate\": \"fast\"}", b""),
            run: |p| load_run(p).map(|_| ()).map_err(|e| e.to_string()),
            needle: "config.json",
        },
        Case { name: "run without steps to replay", make: |d| run_dir(d, b"{}", b"garbage\n\0\0\n"), run: |p| spawn_replay(p, 10.0, std::sync::Arc::new(|| {})).map(|_| ()).map_err(|e| e.to_string()), needle: "metrics.jsonl" },
        Case {
            name: "checkpoint state garbage",
            make: |d| {
                let r = run_dir(d, b"{}", b"");
                write(&r, "checkpoints/last/trainer_state.json", b"{\"step\": \"many\"}");
                r
            },
            run: |p| find_checkpoint(p).map(|_| ()).map_err(|e| e.to_string()),
            needle: "run",
        },
        Case { name: "run bundle not JSON", make: |d| write(d, "x.lmwrun.json", b"\0\x01\x02"), run: |p| import_run(p, &p.with_extension("out")).map(|_| ()).map_err(|e| e.to_string()), needle: "x.lmwrun.json" },
        Case {
            name: "run bundle with a hostile name",
            make: |d| write(d, "evil.json", br#"{"format":"lm-workbench-run","version":1,"name":"../../etc","config":{"learning_rate":"x"},"metrics":[]}"#),
            run: |p| import_run(p, &p.with_extension("out")).map(|_| ()).map_err(|e| e.to_string()),
            needle: "evil.json",
        },
        // --- CLI arguments ---
        Case { name: "CLI negative learning rate", make: |d| d.to_path_buf(), run: |p| cli(&["train", "--model", "builtin:tiny", "--lr=-1", "--out", p.to_str().unwrap()]), needle: "learning_rate" },
        Case { name: "CLI zero batch", make: |d| d.to_path_buf(), run: |p| cli(&["train", "--model", "builtin:tiny", "--batch-size", "0", "--out", p.to_str().unwrap()]), needle: "batch" },
        Case { name: "CLI unknown split", make: |d| d.to_path_buf(), run: |_| cli(&["eval", "--model", "/nope", "--data", "builtin:headlines", "--split", "dev2"]), needle: "dev2" },
        Case { name: "CLI n-gram order 0", make: |d| d.to_path_buf(), run: |_| cli(&["ngram", "--data", "builtin:headlines", "--n", "0"]), needle: "--n" },
        Case { name: "CLI run.toml garbage", make: |d| write(d, "run.toml", b"learning_rate = = 3"), run: |p| cli(&["train", "--config", p.to_str().unwrap()]), needle: "run.toml" },
    ]
}

#[test]
fn malformed_inputs_give_clear_errors_and_stay_untouched() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let input = (case.make)(dir.path());
        let before = snapshot(dir.path());
        let started = std::time::Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| (case.run)(&input)));
        let took = started.elapsed();
        match result {
            Err(panic) => {
                let message = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                failures.push(format!("{}: PANIC {message:?}", case.name));
            }
            Ok(Ok(())) => failures.push(format!("{}: accepted", case.name)),
            Ok(Err(message)) if !message.contains(case.needle) => {
                failures.push(format!("{}: the error does not name {:?}: {message}", case.name, case.needle));
            }
            Ok(Err(message)) => println!("{:<45} {:>6} ms  {}", case.name, took.as_millis(), message.trim()),
        }
        if took > std::time::Duration::from_secs(30) {
            failures.push(format!("{}: took {took:?}", case.name));
        }
        // The input folder is as it was (outputs of the call land elsewhere or nowhere).
        let after = snapshot(dir.path());
        let changed: Vec<_> = before.iter().filter(|b| !after.contains(b)).map(|(p, _)| p.display().to_string()).collect();
        if !changed.is_empty() {
            failures.push(format!("{}: modified {changed:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// A run bundle whose name tries to climb out of the runs folder lands inside it, under a safe name.
#[test]
fn a_hostile_bundle_name_stays_inside_the_runs_folder() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write(dir.path(), "evil.json", br#"{"format":"lm-workbench-run","version":1,"name":"../../etc","config":{},"metrics":[]}"#);
    let runs = dir.path().join("runs");
    let imported = import_run(&bundle, &runs).unwrap();
    assert!(imported.starts_with(&runs) && imported.parent() == Some(runs.as_path()), "{}", imported.display());
    assert_eq!(imported.file_name().unwrap(), "imported-run");
}
