//! Principal component analysis of a set of vectors: the top components of their covariance matrix by
//! subspace iteration with Rayleigh–Ritz steps (a small Jacobi eigensolver inside), in f64.

use serde::{Deserialize, Serialize};

/// Why a projection cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PcaError {
    #[error("PCA needs at least 2 vectors, got {0}")]
    TooFew(usize),
    #[error("vector {row} has {got} values, the first has {expected}")]
    Ragged { row: usize, got: usize, expected: usize },
    #[error("vector {row} holds a value that is not finite")]
    NotFinite { row: usize },
}

/// A fitted PCA (as scikit-learn's: centred data, covariance with n − 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    pub mean: Vec<f64>,
    /// Unit, mutually orthogonal axes, largest variance first. Each axis's largest coordinate (by
    /// absolute value) is positive, so refits of the same data give the same signs.
    pub components: Vec<Vec<f64>>,
    pub explained_variance: Vec<f64>,
    /// Each axis's share of the total variance.
    pub explained_variance_ratio: Vec<f64>,
    pub total_variance: f64,
}

impl Pca {
    /// Fits `k` components (fewer when the vectors have fewer dimensions).
    pub fn fit(rows: &[Vec<f32>], k: usize) -> Result<Self, PcaError> {
        if rows.len() < 2 {
            return Err(PcaError::TooFew(rows.len()));
        }
        let d = rows[0].len();
        for (row, r) in rows.iter().enumerate() {
            if r.len() != d {
                return Err(PcaError::Ragged { row, got: r.len(), expected: d });
            }
            if r.iter().any(|v| !v.is_finite()) {
                return Err(PcaError::NotFinite { row });
            }
        }
        let n = rows.len();
        let mut mean = vec![0f64; d];
        for r in rows {
            mean.iter_mut().zip(r).for_each(|(m, v)| *m += f64::from(*v));
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        // Covariance (upper triangle, then mirrored).
        let mut cov = vec![0f64; d * d];
        let mut centred = vec![0f64; d];
        for r in rows {
            centred.iter_mut().zip(r.iter().zip(&mean)).for_each(|(c, (v, m))| *c = f64::from(*v) - m);
            for i in 0..d {
                let ci = centred[i];
                if ci == 0.0 {
                    continue;
                }
                let row = &mut cov[i * d..(i + 1) * d];
                for j in i..d {
                    row[j] += ci * centred[j];
                }
            }
        }
        for i in 0..d {
            for j in i..d {
                let v = cov[i * d + j] / (n - 1) as f64;
                cov[i * d + j] = v;
                cov[j * d + i] = v;
            }
        }
        let total_variance: f64 = (0..d).map(|i| cov[i * d + i]).sum();
        let k = k.min(d);
        let (values, mut components) = if total_variance > 0.0 { top_eigen(&cov, d, k) } else { unit_axes(d, k) };
        for c in &mut components {
            let largest = c.iter().copied().fold(0f64, |best, v| if v.abs() > best.abs() { v } else { best });
            if largest < 0.0 {
                c.iter_mut().for_each(|v| *v = -*v);
            }
        }
        let explained_variance: Vec<f64> = values.iter().map(|v| v.max(0.0)).collect();
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| if total_variance > 0.0 { v / total_variance } else { 0.0 })
            .collect();
        Ok(Self { mean, components, explained_variance, explained_variance_ratio, total_variance })
    }

    /// The coordinates of a vector on the axes.
    pub fn transform(&self, row: &[f32]) -> Vec<f64> {
        self.components
            .iter()
            .map(|c| c.iter().zip(row.iter().zip(&self.mean)).map(|(a, (v, m))| a * (f64::from(*v) - m)).sum())
            .collect()
    }
}

fn unit_axes(d: usize, k: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let axes = (0..k)
        .map(|i| {
            let mut a = vec![0f64; d];
            a[i] = 1.0;
            a
        })
        .collect();
    (vec![0.0; k], axes)
}

/// `C · Q` for a row-major symmetric `d × d` matrix and `p` column vectors stored as rows.
fn times(c: &[f64], d: usize, q: &[Vec<f64>]) -> Vec<Vec<f64>> {
    q.iter().map(|v| (0..d).map(|i| c[i * d..(i + 1) * d].iter().zip(v).map(|(a, b)| a * b).sum()).collect()).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Orthonormalises the vectors in place (modified Gram–Schmidt, twice); a vector that vanishes is
/// replaced by a unit axis orthogonal to the others.
fn orthonormalise(vs: &mut [Vec<f64>]) {
    let d = vs.first().map_or(0, Vec::len);
    for i in 0..vs.len() {
        let mut axis = 0;
        loop {
            for _ in 0..2 {
                for j in 0..i {
                    let (done, rest) = vs.split_at_mut(i);
                    let p = dot(&rest[0], &done[j]);
                    rest[0].iter_mut().zip(&done[j]).for_each(|(v, u)| *v -= p * u);
                }
            }
            let norm = dot(&vs[i], &vs[i]).sqrt();
            if norm > 1e-300 {
                vs[i].iter_mut().for_each(|v| *v /= norm);
                break;
            }
            if axis >= d {
                break;
            }
            vs[i] = vec![0.0; d];
            vs[i][axis] = 1.0;
            axis += 1;
        }
    }
}

/// The `k` largest eigenvalues and their unit eigenvectors of a symmetric positive semi-definite matrix.
fn top_eigen(c: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let p = d.min(k + 8);
    // A fixed, data-independent start (a simple LCG): the same input always gives the same result.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut q: Vec<Vec<f64>> = (0..p)
        .map(|_| {
            (0..d)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
                })
                .collect()
        })
        .collect();
    orthonormalise(&mut q);
    let scale: f64 = (0..d).map(|i| c[i * d + i]).sum();
    let mut values = vec![0f64; p];
    for _ in 0..2000 {
        let mut z = times(c, d, &q);
        orthonormalise(&mut z);
        let cz = times(c, d, &z);
        // Rayleigh–Ritz: the small matrix T = Zᵀ C Z and its eigenvectors rotate Z.
        let mut t = vec![0f64; p * p];
        for i in 0..p {
            for j in 0..p {
                t[i * p + j] = dot(&z[i], &cz[j]);
            }
        }
        let (ritz, w) = jacobi_eigen(&mut t, p);
        let rotate = |vs: &[Vec<f64>]| -> Vec<Vec<f64>> {
            (0..p).map(|col| (0..d).map(|r| (0..p).map(|i| vs[i][r] * w[i * p + col]).sum()).collect()).collect()
        };
        q = rotate(&z);
        let cq = rotate(&cz);
        values = ritz;
        let residual = (0..k)
            .map(|i| cq[i].iter().zip(&q[i]).map(|(a, b)| (a - values[i] * b).powi(2)).sum::<f64>().sqrt())
            .fold(0f64, f64::max);
        if residual <= 1e-11 * scale {
            break;
        }
    }
    (values[..k].to_vec(), q[..k].to_vec())
}

/// Eigen-decomposition of a small symmetric `p × p` matrix (cyclic Jacobi). Returns the eigenvalues in
/// decreasing order and the eigenvectors as the columns of a row-major `p × p` matrix in that order.
fn jacobi_eigen(a: &mut [f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0f64; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..p).flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * p + j].powi(2)).sum();
        let diag: f64 = (0..p).map(|i| a[i * p + i].powi(2)).sum();
        if off <= 1e-30 * diag.max(f64::MIN_POSITIVE) {
            break;
        }
        for i in 0..p {
            for j in i + 1..p {
                let aij = a[i * p + j];
                if aij == 0.0 {
                    continue;
                }
                let theta = (a[j * p + j] - a[i * p + i]) / (2.0 * aij);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..p {
                    let (ari, arj) = (a[r * p + i], a[r * p + j]);
                    a[r * p + i] = c * ari - s * arj;
                    a[r * p + j] = s * ari + c * arj;
                }
                for r in 0..p {
                    let (air, ajr) = (a[i * p + r], a[j * p + r]);
                    a[i * p + r] = c * air - s * ajr;
                    a[j * p + r] = s * air + c * ajr;
                }
                for r in 0..p {
                    let (vri, vrj) = (v[r * p + i], v[r * p + j]);
                    v[r * p + i] = c * vri - s * vrj;
                    v[r * p + j] = s * vri + c * vrj;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&x, &y| a[y * p + y].total_cmp(&a[x * p + x]));
    let values = order.iter().map(|&i| a[i * p + i]).collect();
    let mut vectors = vec![0f64; p * p];
    for (col, &src) in order.iter().enumerate() {
        for r in 0..p {
            vectors[r * p + col] = v[r * p + src];
        }
    }
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points with known principal axes: a random orthonormal basis (from Gram–Schmidt of seeded
    /// vectors) and standard deviations 5, 2, 0.5, 0.1, …
    #[test]
    fn recovers_known_axes_and_variances() {
        let d = 12;
        let mut state = 7u64;
        let mut rand = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut basis: Vec<Vec<f64>> = (0..d).map(|_| (0..d).map(|_| rand()).collect()).collect();
        orthonormalise(&mut basis);
        let sd = [5.0, 2.0, 0.5, 0.1, 0.1, 0.05, 0.05, 0.02, 0.02, 0.01, 0.01, 0.01];
        // Coefficients ±sd with Walsh sign patterns (orthogonal, zero mean): axis a has variance exactly
        // sd² · n/(n−1) and the axes are uncorrelated.
        let n = 64;
        let rows: Vec<Vec<f32>> = (0..n)
            .map(|r| {
                let mut x = vec![3.0f64; d];
                for (a, axis) in basis.iter().enumerate() {
                    let sign = if ((r & (a + 1)).count_ones()) % 2 == 0 { 1.0 } else { -1.0 };
                    x.iter_mut().zip(axis).for_each(|(x, u)| *x += sign * sd[a] * u);
                }
                x.into_iter().map(|v| v as f32).collect()
            })
            .collect();
        let pca = Pca::fit(&rows, 2).unwrap();
        let expected = |a: usize| sd[a] * sd[a] * n as f64 / (n - 1) as f64;
        for (a, axis) in basis.iter().enumerate().take(2) {
            assert!((pca.explained_variance[a] - expected(a)).abs() < 1e-3 * expected(a), "{:?}", pca.explained_variance);
            let cos = dot(&pca.components[a], axis).abs();
            assert!(cos > 0.999_99, "axis {a}: |cos| {cos}");
        }
        assert!(dot(&pca.components[0], &pca.components[1]).abs() < 1e-9);
        let total: f64 = (0..d).map(expected).sum();
        assert!((pca.explained_variance_ratio[0] - expected(0) / total).abs() < 1e-4);
    }

    #[test]
    fn bad_input_is_refused_and_constant_data_projects_to_zero() {
        assert_eq!(Pca::fit(&[vec![1.0]], 2), Err(PcaError::TooFew(1)));
        assert_eq!(
            Pca::fit(&[vec![1.0, 2.0], vec![1.0]], 2),
            Err(PcaError::Ragged { row: 1, got: 1, expected: 2 })
        );
        assert_eq!(Pca::fit(&[vec![1.0, f32::NAN], vec![1.0, 2.0]], 2), Err(PcaError::NotFinite { row: 0 }));
        let same = Pca::fit(&vec![vec![1.0, 2.0, 3.0]; 4], 2).unwrap();
        assert_eq!(same.explained_variance_ratio, vec![0.0, 0.0]);
        assert_eq!(same.transform(&[1.0, 2.0, 3.0]), vec![0.0, 0.0]);
    }
}
