//! Classification metrics of an evaluation, as scikit-learn computes them: accuracy, per-class
//! precision/recall/F1 (0 where undefined, sklearn's `zero_division=0`), macro-F1 averaged over the
//! classes that occur in the labels or the predictions (sklearn's default `labels=None`), and the
//! confusion matrix `confusion[true][predicted]`.

use super::{ClassScores, EvalReport, Prediction};

/// Per-example predictions kept in a report.
pub const MAX_PREDICTIONS: usize = 5000;

/// The index of the largest probability (the first one on ties).
pub fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best as u32
}

/// What an evaluation pass produced, before scoring.
#[derive(Clone, Debug, Default)]
pub struct EvalOutputs {
    pub labels: Vec<u32>,
    /// Softmax probabilities per row.
    pub probabilities: Vec<Vec<f32>>,
    /// Mean cross-entropy over the rows.
    pub loss: f64,
}

/// Scores an evaluation pass.
pub fn classification_report(
    step: u64,
    epoch: f64,
    split: &str,
    outputs: EvalOutputs,
    label_names: &[String],
) -> EvalReport {
    let n = label_names.len();
    let predicted: Vec<u32> = outputs.probabilities.iter().map(|p| argmax(p)).collect();
    let mut confusion = vec![vec![0usize; n]; n];
    for (&t, &p) in outputs.labels.iter().zip(&predicted) {
        if (t as usize) < n && (p as usize) < n {
            confusion[t as usize][p as usize] += 1;
        }
    }
    let total = outputs.labels.len();
    let correct = (0..n).map(|i| confusion[i][i]).sum::<usize>();
    let mut per_class = Vec::with_capacity(n);
    let mut f1_sum = 0.0;
    let mut present = 0usize;
    for (c, label) in label_names.iter().enumerate() {
        let tp = confusion[c][c] as f64;
        let support: usize = confusion[c].iter().sum();
        let predicted_c: usize = confusion.iter().map(|row| row[c]).sum();
        let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
        let precision = ratio(tp, predicted_c);
        let recall = ratio(tp, support);
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        if support > 0 || predicted_c > 0 {
            f1_sum += f1;
            present += 1;
        }
        per_class.push(ClassScores { label: label.clone(), precision, recall, f1, support });
    }
    let predictions = outputs
        .labels
        .iter()
        .zip(&predicted)
        .zip(outputs.probabilities)
        .enumerate()
        .take(MAX_PREDICTIONS)
        .map(|(index, ((&label, &predicted), probabilities))| Prediction { index, label, predicted, probabilities })
        .collect();
    EvalReport {
        step,
        epoch,
        split: split.to_string(),
        loss: outputs.loss,
        accuracy: if total == 0 { 0.0 } else { correct as f64 / total as f64 },
        macro_f1: if present == 0 { 0.0 } else { f1_sum / present as f64 },
        per_class,
        confusion,
        predictions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onehot(class: usize, n: usize) -> Vec<f32> {
        (0..n).map(|i| if i == class { 0.9 } else { 0.1 / (n - 1) as f32 }).collect()
    }

    /// Hand-computed: labels [0,0,0,1,1,2], predictions [0,0,1,1,2,2].
    /// Class 0: P 2/2, R 2/3, F1 0.8. Class 1: P 1/2, R 1/2, F1 0.5. Class 2: P 1/2, R 1/1, F1 2/3.
    /// Macro-F1 (0.8 + 0.5 + 2/3) / 3 = 0.655…; accuracy 4/6. A fourth class never seen is left out of
    /// the macro average, as sklearn does.
    #[test]
    fn hand_made_example() {
        let names: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let outputs = EvalOutputs {
            labels: vec![0, 0, 0, 1, 1, 2],
            probabilities: [0, 0, 1, 1, 2, 2].iter().map(|&c| onehot(c, 4)).collect(),
            loss: 0.5,
        };
        let r = classification_report(7, 1.0, "validation", outputs, &names);
        assert!((r.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((r.per_class[0].f1 - 0.8).abs() < 1e-12 && (r.per_class[0].precision - 1.0).abs() < 1e-12);
        assert!((r.per_class[1].f1 - 0.5).abs() < 1e-12);
        assert!((r.per_class[2].recall - 1.0).abs() < 1e-12 && (r.per_class[2].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.macro_f1 - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12, "{}", r.macro_f1);
        assert_eq!(r.confusion, vec![vec![2, 1, 0, 0], vec![0, 1, 1, 0], vec![0, 0, 1, 0], vec![0, 0, 0, 0]]);
        assert_eq!(r.per_class[3].support, 0);
        assert_eq!(r.predictions.len(), 6);
        assert_eq!((r.predictions[4].label, r.predictions[4].predicted), (1, 2));
    }
}
