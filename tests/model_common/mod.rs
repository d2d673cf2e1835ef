//! Helpers shared by the model integration tests (`tests/model_*.rs`): fixtures, reference values,
//! comparisons.
#![allow(dead_code)]

use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use lm_workbench::core::model::{LoadOptions, ModelInput};
use serde_json::Value;

pub fn repo_root() -> PathBuf {
    // LMW_REPO_ROOT: test binaries built here and run from another checkout (scripts/gpu-check.sh).
    std::env::var_os("LMW_REPO_ROOT").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// A fetched checkpoint under fixtures/; panics (never skips) when it is missing.
pub fn fixture(name: &str) -> PathBuf {
    let dir = repo_root().join("fixtures").join(name);
    assert!(dir.join("config.json").is_file(), "fixture {} missing: run scripts/fetch-fixtures.sh", dir.display());
    dir
}

pub fn reference_dir() -> PathBuf {
    repo_root().join("tests").join("reference")
}

/// tests/reference/reference.json, written by tests/reference/make_reference.py.
pub fn reference() -> Value {
    let path = reference_dir().join("reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn f32_options() -> LoadOptions {
    LoadOptions { dtype: DType::F32, device: Device::Cpu, allow_pickle: false, seed: 42 }
}

pub fn u32_rows(v: &Value) -> Vec<Vec<u32>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(|x| x.as_u64().expect("id") as u32).collect())
        .collect()
}

pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

/// The model input recorded by the reference script.
pub fn recorded_input(input: &Value) -> ModelInput {
    ModelInput::from_rows(
        &u32_rows(&input["input_ids"]),
        &u32_rows(&input["token_type_ids"]),
        &u32_rows(&input["attention_mask"]),
        &Device::Cpu,
    )
    .expect("input")
}

pub fn flat(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).and_then(|t| t.flatten_all()?.to_vec1::<f64>()).expect("tensor values")
}

/// Compares a tensor with a summary written by the script's `summary()`: the strided sample, the
/// recorded rows and the checksums. Returns the largest absolute difference seen.
pub fn compare_summary(what: &str, t: &Tensor, summary: &Value, tol: f64) -> f64 {
    let shape: Vec<usize> =
        summary["shape"].as_array().expect("shape").iter().map(|x| x.as_u64().expect("dim") as usize).collect();
    assert_eq!(t.dims(), shape.as_slice(), "{what}: shape");
    let values = flat(t);
    let step = summary["sample_step"].as_u64().expect("step") as usize;
    let mut max_diff = 0f64;
    for (i, expected) in f64s(&summary["sample"]).into_iter().enumerate() {
        max_diff = max_diff.max((values[i * step] - expected).abs());
    }
    if let Some(rows) = summary.get("rows").and_then(Value::as_array) {
        let dims = t.dims();
        for row in rows {
            let index: Vec<usize> =
                row["index"].as_array().expect("index").iter().map(|x| x.as_u64().expect("i") as usize).collect();
            let row_len: usize = dims[index.len()..].iter().product();
            let mut offset = 0;
            for (k, &i) in index.iter().enumerate() {
                offset += i * dims[k + 1..].iter().product::<usize>();
            }
            for (j, expected) in f64s(&row["values"]).into_iter().enumerate() {
                assert!(j < row_len);
                max_diff = max_diff.max((values[offset + j] - expected).abs());
            }
        }
    }
    let norm: f64 = values.iter().map(|v| v * v).sum::<f64>().sqrt();
    let abs_sum: f64 = values.iter().map(|v| v.abs()).sum();
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-12);
    let (exp_norm, exp_abs) = (summary["norm"].as_f64().expect("norm"), summary["abs_sum"].as_f64().expect("abs_sum"));
    println!(
        "{what}: max abs diff {max_diff:.3e}, norm rel diff {:.3e}, abs-sum rel diff {:.3e}",
        rel(norm, exp_norm),
        rel(abs_sum, exp_abs)
    );
    assert!(max_diff <= tol, "{what}: max abs diff {max_diff} > {tol}");
    assert!(
        rel(norm, exp_norm) < 1e-5 && rel(abs_sum, exp_abs) < 1e-5,
        "{what}: checksums differ: norm {norm} vs {exp_norm}, abs sum {abs_sum} vs {exp_abs}"
    );
    max_diff
}
