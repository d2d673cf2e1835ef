//! Embedding snapshots of a classifier run: at each evaluation, the last layer's [CLS] vectors of the
//! first validation rows, projected to 2D on a basis fixed at the run's first evaluation (PCA of those
//! vectors then). Watching them on one basis shows the classes pull apart as the encoder learns — and
//! stay where they were when only the classifier trains (the encoder, hence every vector, is frozen).
//! The basis is kept in the run folder, so a resumed run goes on projecting on the same axes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{TrainError, TrainResult};
use crate::core::embeddings::Pca;

/// The basis file in a run folder.
pub const BASIS_FILE: &str = "embedding_basis.json";

/// Validation rows embedded at each evaluation (the run config's default).
pub const DEFAULT_SNAPSHOT_ROWS: usize = 256;

/// One evaluation's points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingSnapshot {
    pub step: u64,
    pub epoch: f64,
    /// `[x, y]` per validation row (the first rows of the split, in order).
    pub points: Vec<[f32; 2]>,
    /// The rows' label ids.
    pub labels: Vec<u32>,
    /// The share of variance the basis's two axes held at the first evaluation.
    pub explained_variance_ratio: Vec<f64>,
}

/// Projects `vectors` on the run's basis, fitting (and saving) it first when the run has none.
pub fn snapshot(
    basis: &mut Option<Pca>,
    run_dir: &Path,
    vectors: &[Vec<f32>],
    labels: &[u32],
    (step, epoch): (u64, f64),
) -> TrainResult<Option<EmbeddingSnapshot>> {
    if vectors.len() < 2 {
        return Ok(None);
    }
    if basis.is_none() {
        let fitted = Pca::fit(vectors, 2).map_err(|e| TrainError::Config(format!("embedding snapshot: {e}")))?;
        let path = run_dir.join(BASIS_FILE);
        let text = serde_json::to_string(&fitted).map_err(|e| TrainError::parse(&path, e))?;
        crate::core::model::save::write_atomic(&path, text.as_bytes())?;
        *basis = Some(fitted);
    }
    let Some(pca) = basis.as_ref() else { return Ok(None) };
    let points = vectors
        .iter()
        .map(|v| {
            let c = pca.transform(v);
            [c.first().copied().unwrap_or(0.0) as f32, c.get(1).copied().unwrap_or(0.0) as f32]
        })
        .collect();
    Ok(Some(EmbeddingSnapshot {
        step,
        epoch,
        points,
        labels: labels[..vectors.len().min(labels.len())].to_vec(),
        explained_variance_ratio: pca.explained_variance_ratio.clone(),
    }))
}

/// The basis a run saved, if any (a file that does not parse is treated as absent: a new basis is fitted).
pub fn load_basis(run_dir: &Path) -> Option<Pca> {
    let text = std::fs::read_to_string(run_dir.join(BASIS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}
