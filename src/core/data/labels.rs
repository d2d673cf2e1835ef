//! Label names and ids.
//!
//! The order of label names (label id = position):
//! - **ClassLabel** (Hugging Face `features` metadata in a Parquet file): the ClassLabel's own order.
//!   Integer cells are ids into it (`-1` means unlabeled, as HF writes for hidden test labels); text cells
//!   must be one of the names. A name absent from train still exists (with count 0).
//! - **Integers** (every non-empty label cell in every split is an integer): the distinct values of the
//!   train split in numeric order; names are the numbers as text (`0, 1, 2, 10`).
//! - **Strings**: the distinct values of the train split sorted by Unicode code point (`Business` before
//!   `arts`). Cells are trimmed; an empty cell is a missing label.
//!
//! Outside ClassLabel, a label found in validation or test but not in train is an error naming the file,
//! the row and the column of its first occurrence.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::error::{DataError, DataResult};
use super::raw::{RawLabel, RawTable};
use super::spec::SplitName;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    ClassLabel,
    Integers,
    Strings,
}

/// The label vocabulary of a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSet {
    pub kind: LabelKind,
    pub names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl LabelSet {
    fn new(kind: LabelKind, names: Vec<String>) -> Self {
        let ids = names.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)).collect();
        Self { kind, names, ids }
    }

    /// Builds the vocabulary from the train tables (or takes the ClassLabel names).
    pub fn build(train: &[RawTable], all: &[&RawTable], class_label: Option<Vec<String>>) -> Self {
        if let Some(names) = class_label {
            return Self::new(LabelKind::ClassLabel, names);
        }
        let cells = || train.iter().flat_map(|t| t.labels.iter().flatten());
        let all_ints =
            all.iter().flat_map(|t| t.labels.iter().flatten()).all(|l| as_int(l).is_some() || l.is_missing());
        if all_ints {
            let values: BTreeSet<i64> = cells().filter_map(as_int).collect();
            Self::new(LabelKind::Integers, values.into_iter().map(|v| v.to_string()).collect())
        } else {
            let values: BTreeSet<String> = cells().filter_map(as_text).collect();
            Self::new(LabelKind::Strings, values.into_iter().collect())
        }
    }

    /// The id of every row of a table; `None` where the label is missing.
    pub fn map(&self, table: &RawTable, split: SplitName, column: &str) -> DataResult<Vec<Option<u32>>> {
        let Some(labels) = &table.labels else {
            return Ok(Vec::new());
        };
        labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                self.id(label).map_err(|label| {
                    let at = table.at(i).column(column);
                    match self.kind {
                        LabelKind::ClassLabel => DataError::NotAClassLabel { at, label, names: self.names.clone() },
                        _ => DataError::UnseenLabel { at, label, split, known: self.names.clone() },
                    }
                })
            })
            .collect()
    }

    /// The id of a cell; `Err(text)` for a value outside the vocabulary.
    fn id(&self, label: &RawLabel) -> Result<Option<u32>, String> {
        match (self.kind, label) {
            (_, RawLabel::Missing) => Ok(None),
            (LabelKind::ClassLabel, RawLabel::Int(-1)) => Ok(None),
            (LabelKind::ClassLabel, RawLabel::Int(i)) => u32::try_from(*i)
                .ok()
                .filter(|&i| (i as usize) < self.names.len())
                .map(Some)
                .ok_or_else(|| i.to_string()),
            (LabelKind::ClassLabel, RawLabel::Str(s)) => match self.ids.get(s) {
                Some(&id) => Ok(Some(id)),
                None => self.id(&s.parse::<i64>().map(RawLabel::Int).map_err(|_| s.clone())?).map_err(|_| s.clone()),
            },
            (LabelKind::Integers, _) => {
                let text = as_int(label).map(|i| i.to_string()).unwrap_or_default();
                self.ids.get(&text).map(|&id| Some(id)).ok_or(text)
            }
            (LabelKind::Strings, _) => {
                let text = as_text(label).unwrap_or_default();
                self.ids.get(&text).map(|&id| Some(id)).ok_or(text)
            }
        }
    }
}

fn as_int(label: &RawLabel) -> Option<i64> {
    match label {
        RawLabel::Int(i) => Some(*i),
        RawLabel::Str(s) => s.parse().ok(),
        RawLabel::Missing => None,
    }
}

fn as_text(label: &RawLabel) -> Option<String> {
    match label {
        RawLabel::Int(i) => Some(i.to_string()),
        RawLabel::Str(s) => Some(s.clone()),
        RawLabel::Missing => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::core::data::raw::Selection;

    fn table(labels: Vec<RawLabel>) -> RawTable {
        let selection = Selection { text: "text".into(), pair: None, label: Some("label".into()) };
        let mut t = RawTable::new(Path::new("t.csv"), &selection);
        t.texts = vec![String::new(); labels.len()];
        t.labels = Some(labels);
        t
    }

    fn s(v: &str) -> RawLabel {
        RawLabel::Str(v.into())
    }

    #[test]
    fn strings_sort_by_code_point_and_ints_numerically() {
        let train = [table(vec![s("tech"), s("Business"), s("arts"), RawLabel::Missing])];
        let set = LabelSet::build(&train, &[&train[0]], None);
        assert_eq!(
            (set.kind, set.names.clone()),
            (LabelKind::Strings, vec!["Business".into(), "arts".into(), "tech".into()])
        );
        assert_eq!(set.map(&train[0], SplitName::Train, "label").unwrap(), vec![Some(2), Some(0), Some(1), None]);

        let train = [table(vec![s("10"), RawLabel::Int(2), s("0")])];
        let set = LabelSet::build(&train, &[&train[0]], None);
        assert_eq!((set.kind, set.names.clone()), (LabelKind::Integers, vec!["0".into(), "2".into(), "10".into()]));
        assert_eq!(set.map(&train[0], SplitName::Train, "label").unwrap(), vec![Some(2), Some(1), Some(0)]);
    }

    #[test]
    fn class_label_order_wins_and_minus_one_is_missing() {
        let train = [table(vec![RawLabel::Int(1), RawLabel::Int(-1), s("neg")])];
        let set = LabelSet::build(&train, &[&train[0]], Some(vec!["neg".into(), "pos".into()]));
        assert_eq!(set.map(&train[0], SplitName::Train, "label").unwrap(), vec![Some(1), None, Some(0)]);
        let bad = table(vec![RawLabel::Int(0), RawLabel::Int(2)]);
        assert_eq!(
            set.map(&bad, SplitName::Test, "label").unwrap_err().to_string(),
            "t.csv, row 2, column \"label\": label \"2\" is not one of the ClassLabel names (neg, pos)"
        );
    }

    #[test]
    fn a_label_only_in_test_is_an_error() {
        let train = [table(vec![s("a"), s("b")])];
        let test = table(vec![s("b"), s("a"), s("c")]);
        let set = LabelSet::build(&train, &[&train[0], &test], None);
        assert_eq!(
            set.map(&test, SplitName::Test, "label").unwrap_err().to_string(),
            "t.csv, row 3, column \"label\": label \"c\" appears in the test split but not in train (train labels: a, b)"
        );
    }
}
