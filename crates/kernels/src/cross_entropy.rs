//! Mean cross-entropy of logits against class indices, with PyTorch's `ignore_index`: rows whose label
//! is the ignore value do not count, and the mean is over the rows that do (0 when none does). The
//! count is computed here, so the caller never reads the labels back to the host.

use rayon::prelude::*;

use crate::simd::{exp, max, sum};

/// Rows per task: logits rows can be a whole vocabulary wide.
fn rows_per_task(classes: usize) -> usize {
    (64 * 1024 / classes.max(1)).max(1)
}

vectorised! {
    /// log Σ exp(x) of one row, with the row maximum as shift.
    fn log_sum_exp(x: &[f32]) -> f32 {
        let m = max(x);
        let mut acc = [0f32; 8];
        let chunks = x.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for i in 0..8 {
                acc[i] += exp(c[i] - m);
            }
        }
        let mut s = sum(&acc);
        for &v in rest {
            s += exp(v - m);
        }
        m + s.ln()
    }
}

fn valid(label: i64, classes: usize, ignore: i64) -> Option<usize> {
    (label != ignore && label >= 0 && (label as usize) < classes).then_some(label as usize)
}

/// Checks the labels: each is `ignore` or a class index. Returns the first bad one.
pub fn check_labels(labels: &[i64], classes: usize, ignore: i64) -> Result<usize, (usize, i64)> {
    let mut count = 0;
    for (row, &l) in labels.iter().enumerate() {
        if l == ignore {
            continue;
        }
        if valid(l, classes, ignore).is_none() {
            return Err((row, l));
        }
        count += 1;
    }
    Ok(count)
}

/// The mean loss over the counted rows and their number.
pub fn forward(logits: &[f32], classes: usize, labels: &[i64], ignore: i64) -> (f32, usize) {
    assert!(classes > 0 && logits.len() == labels.len() * classes, "cross_entropy::forward: shapes");
    let per = rows_per_task(classes);
    let partial: Vec<(f64, usize)> = logits
        .par_chunks(per * classes)
        .zip(labels.par_chunks(per))
        .map(|(x, labels)| {
            let mut s = 0f64;
            let mut n = 0;
            for (row, &l) in x.chunks_exact(classes).zip(labels) {
                if let Some(c) = valid(l, classes, ignore) {
                    s += f64::from(log_sum_exp(row) - row[c]);
                    n += 1;
                }
            }
            (s, n)
        })
        .collect();
    let (s, n) = partial.iter().fold((0f64, 0usize), |(a, b), (c, d)| (a + c, b + d));
    if n == 0 {
        (0.0, 0)
    } else {
        ((s / n as f64) as f32, n)
    }
}

vectorised! {
    fn rows_backward(x: &[f32], classes: usize, labels: &[i64], ignore: i64, factor: f32, dx: &mut [f32]) {
        for ((row, &l), d) in x.chunks_exact(classes).zip(labels).zip(dx.chunks_exact_mut(classes)) {
            match valid(l, classes, ignore) {
                None => d.fill(0.0),
                Some(c) => {
                    let lse = log_sum_exp(row);
                    for i in 0..classes {
                        d[i] = exp(row[i] - lse) * factor;
                    }
                    d[c] -= factor;
                }
            }
        }
    }
}

/// `dlogits = grad / count · (softmax(logits) − onehot(label))` on counted rows, 0 on ignored ones.
pub fn backward(logits: &[f32], classes: usize, labels: &[i64], ignore: i64, grad: f32, dx: &mut [f32]) {
    assert!(classes > 0 && logits.len() == labels.len() * classes && dx.len() == logits.len(), "cross_entropy::backward: shapes");
    let count = labels.iter().filter(|&&l| valid(l, classes, ignore).is_some()).count();
    if count == 0 {
        dx.fill(0.0);
        return;
    }
    let factor = grad / count as f32;
    let per = rows_per_task(classes);
    logits
        .par_chunks(per * classes)
        .zip(labels.par_chunks(per))
        .zip(dx.par_chunks_mut(per * classes))
        .for_each(|((x, l), d)| rows_backward(x, classes, l, ignore, factor, d));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_and_gradient_match_f64_with_ignored_rows() {
        let classes = 7;
        let logits: Vec<f32> = (0..4 * classes).map(|i| ((i * 29 % 17) as f32 - 8.0) / 3.0).collect();
        let labels = [3i64, -100, 0, 6];
        let (loss, n) = forward(&logits, classes, &labels, -100);
        assert_eq!(n, 3);
        let f = |x: &[f64]| {
            let mut s = 0.0;
            for (r, &l) in labels.iter().enumerate() {
                if l < 0 {
                    continue;
                }
                let row = &x[r * classes..(r + 1) * classes];
                let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
                s += lse - row[l as usize];
            }
            s / 3.0
        };
        let x64: Vec<f64> = logits.iter().map(|&v| f64::from(v)).collect();
        assert!((f64::from(loss) - f(&x64)).abs() < 1e-6);
        let mut dx = vec![0f32; logits.len()];
        backward(&logits, classes, &labels, -100, 2.0, &mut dx);
        assert!(dx[classes..2 * classes].iter().all(|&v| v == 0.0), "ignored row");
        for i in 0..logits.len() {
            let (mut p, mut m) = (x64.clone(), x64.clone());
            p[i] += 1e-6;
            m[i] -= 1e-6;
            let fd = 2.0 * (f(&p) - f(&m)) / 2e-6;
            assert!((fd - f64::from(dx[i])).abs() < 1e-5, "dx[{i}] {} vs {fd}", dx[i]);
        }
        assert_eq!(forward(&logits, classes, &[-100; 4], -100), (0.0, 0));
        assert_eq!(check_labels(&labels, classes, -100), Ok(3));
        assert_eq!(check_labels(&[1, 7], classes, -100), Err((1, 7)));
    }
}
