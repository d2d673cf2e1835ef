//! A loaded dataset: per split the texts, optional pair texts and label ids.

use std::path::PathBuf;

use serde::Serialize;

use super::labels::LabelKind;
use super::spec::{SourceKind, SplitName};

/// Where a split's rows come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitOrigin {
    /// The dataset's own files.
    Files,
    /// Held out from another split by the seeded stratified split.
    HeldOut { from: SplitName, fraction: f64, seed: u64 },
}

/// One split in memory.
#[derive(Clone, Debug)]
pub struct Split {
    pub name: SplitName,
    pub origin: SplitOrigin,
    /// The files read (or the class folder).
    pub paths: Vec<PathBuf>,
    pub texts: Vec<String>,
    /// The second text of each row, for sentence-pair datasets.
    pub pairs: Option<Vec<String>>,
    /// Label ids (into [`Dataset::label_names`]); `None` for an unlabeled split.
    pub labels: Option<Vec<u32>>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Moves the rows marked in `held` (one flag per row) into a new split; keeps the others in order.
    pub fn divide(self, held: &[bool], name: SplitName, origin: SplitOrigin) -> (Split, Split) {
        fn part<T>(items: Vec<T>, held: &[bool]) -> (Vec<T>, Vec<T>) {
            let (mut kept, mut moved) = (Vec::new(), Vec::new());
            for (i, item) in items.into_iter().enumerate() {
                if held.get(i).copied().unwrap_or(false) {
                    moved.push(item);
                } else {
                    kept.push(item);
                }
            }
            (kept, moved)
        }
        let (texts, held_texts) = part(self.texts, held);
        let (pairs, held_pairs) = match self.pairs.map(|p| part(p, held)) {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        let (labels, held_labels) = match self.labels.map(|l| part(l, held)) {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        let moved = Split {
            name,
            origin,
            paths: self.paths.clone(),
            texts: held_texts,
            pairs: held_pairs,
            labels: held_labels,
        };
        (Split { texts, pairs, labels, ..self }, moved)
    }
}

/// The columns in use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ColumnMapping {
    pub text: String,
    pub pair: Option<String>,
    pub label: Option<String>,
}

/// One row for a preview table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PreviewRow<'a> {
    /// Row index in the split (0-based).
    pub index: usize,
    pub text: &'a str,
    pub pair: Option<&'a str>,
    pub label: Option<&'a str>,
}

/// A dataset in memory.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// What the user named (path or repo id).
    pub name: String,
    pub source_kind: SourceKind,
    /// Present splits in the order train, validation, test.
    pub splits: Vec<Split>,
    /// Every column of the train split's first file, in file order.
    pub columns: Vec<String>,
    pub mapping: ColumnMapping,
    /// Label names; the label id is the position. Empty for an unlabeled dataset.
    pub label_names: Vec<String>,
    pub label_kind: Option<LabelKind>,
    /// Every file (or class folder) read.
    pub source_paths: Vec<PathBuf>,
    /// Things skipped while loading (blank lines, rows without a label, ...), one line each.
    pub warnings: Vec<String>,
}

impl Dataset {
    pub fn split(&self, name: SplitName) -> Option<&Split> {
        self.splits.iter().find(|s| s.name == name)
    }

    /// The text to learn from: the train split, else the first there is (a single file's only split).
    pub fn train_or_first(&self) -> Option<&Split> {
        self.split(SplitName::Train).or(self.splits.first())
    }

    pub fn num_labels(&self) -> usize {
        self.label_names.len()
    }

    /// Number of rows per label id in a split (all zeros for an unlabeled split).
    pub fn label_counts(&self, name: SplitName) -> Vec<usize> {
        let mut counts = vec![0; self.label_names.len()];
        if let Some(labels) = self.split(name).and_then(|s| s.labels.as_ref()) {
            for &label in labels {
                if let Some(c) = counts.get_mut(label as usize) {
                    *c += 1;
                }
            }
        }
        counts
    }

    /// Up to `count` rows of a split from `start`.
    pub fn preview(&self, name: SplitName, start: usize, count: usize) -> Vec<PreviewRow<'_>> {
        let Some(split) = self.split(name) else {
            return Vec::new();
        };
        let end = split.len().min(start.saturating_add(count));
        (start.min(end)..end)
            .map(|index| PreviewRow {
                index,
                text: &split.texts[index],
                pair: split.pairs.as_ref().map(|p| p[index].as_str()),
                label: split.labels.as_ref().and_then(|l| self.label_names.get(l[index] as usize)).map(String::as_str),
            })
            .collect()
    }
}
