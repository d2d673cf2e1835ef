//! Which columns hold the text, the optional second text of a pair, and the label.
//!
//! Automatic detection (names compared case-insensitively):
//! - Pairs first: `sentence1`+`sentence2`, `premise`+`hypothesis`, `question1`+`question2`,
//!   `question`+`sentence`, `question`+`passage`, `text_a`+`text_b`, `text`+`text_pair`, and a title
//!   before its body: `title`+`text`, `title`+`content`, `title`+`description`, `title`+`body`.
//! - Then a single text column: `text`, `sentence`, `content`, `review`, `document`, `article`, `body`,
//!   `tweet`, `comment`, `message`, `abstract`, `description`, `question`, `title`, `sentence1`.
//! - Otherwise the only column that is neither the label nor an id (`id`, `idx`, `index`).
//! - Label: `label`, `labels`, `category`, `class`, `target`, `sentiment`, `topic`, `coarse_label`;
//!   no such column means the dataset is unlabeled (fine for masked-language-model training).
//!
//! A named column must exist (exactly, or as the only case-insensitive match).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{DataError, DataResult};
use super::raw::{FileHeader, Selection};

const PAIRS: [(&str, &str); 11] = [
    ("sentence1", "sentence2"),
    ("premise", "hypothesis"),
    ("question1", "question2"),
    ("question", "sentence"),
    ("question", "passage"),
    ("text_a", "text_b"),
    ("text", "text_pair"),
    ("title", "text"),
    ("title", "content"),
    ("title", "description"),
    ("title", "body"),
];

const TEXTS: [&str; 15] = [
    "text",
    "sentence",
    "content",
    "review",
    "document",
    "article",
    "body",
    "tweet",
    "comment",
    "message",
    "abstract",
    "description",
    "question",
    "title",
    "sentence1",
];

const LABELS: [&str; 8] = ["label", "labels", "category", "class", "target", "sentiment", "topic", "coarse_label"];

const IDS: [&str; 3] = ["id", "idx", "index"];

/// A choice for an optional column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnPick {
    /// Detect it by name.
    #[default]
    Auto,
    /// Do not use one.
    Off,
    /// This column.
    Named(String),
}

/// The user's column choices. `text: None` detects the text column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnOptions {
    pub text: Option<String>,
    pub pair: ColumnPick,
    pub label: ColumnPick,
}

/// Picks the columns of a file from its header.
pub fn resolve_columns(path: &Path, header: &FileHeader, options: &ColumnOptions) -> DataResult<Selection> {
    let columns = &header.columns;
    let find = |name: &str| find_column(columns, name);
    let named = |name: &str| {
        find(name).ok_or_else(|| DataError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            available: columns.clone(),
        })
    };

    let label = match &options.label {
        ColumnPick::Off => None,
        ColumnPick::Named(name) => Some(named(name)?),
        ColumnPick::Auto => LABELS.iter().find_map(|l| find(l)),
    };

    let (text, auto_pair) = match &options.text {
        Some(name) => {
            let text = named(name)?;
            let partner = PAIRS.iter().find(|(a, _)| a.eq_ignore_ascii_case(&text)).and_then(|(_, b)| find(b));
            (text, partner)
        }
        None => match PAIRS.iter().find_map(|(a, b)| Some((find(a)?, find(b)?))) {
            Some((a, b)) => (a, Some(b)),
            None => (detect_text(path, columns, label.as_deref())?, None),
        },
    };

    let pair = match &options.pair {
        ColumnPick::Off => None,
        ColumnPick::Named(name) => Some(named(name)?),
        ColumnPick::Auto => auto_pair.filter(|p| Some(p.as_str()) != label.as_deref()),
    };
    Ok(Selection { text, pair, label })
}

fn detect_text(path: &Path, columns: &[String], label: Option<&str>) -> DataResult<String> {
    if let Some(text) = TEXTS.iter().find_map(|t| find_column(columns, t)) {
        return Ok(text);
    }
    let others: Vec<&String> = columns
        .iter()
        .filter(|c| Some(c.as_str()) != label && !IDS.iter().any(|id| id.eq_ignore_ascii_case(c)))
        .collect();
    match others.as_slice() {
        [only] => Ok((*only).clone()),
        _ => Err(DataError::NoTextColumn { path: path.to_path_buf(), available: columns.to_vec() }),
    }
}

/// The column called `name`: an exact match, else the only case-insensitive one.
fn find_column(columns: &[String], name: &str) -> Option<String> {
    if let Some(c) = columns.iter().find(|c| *c == name) {
        return Some(c.clone());
    }
    let mut matches = columns.iter().filter(|c| c.eq_ignore_ascii_case(name));
    match (matches.next(), matches.next()) {
        (Some(c), None) => Some(c.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(columns: &[&str], options: &ColumnOptions) -> DataResult<Selection> {
        let header = FileHeader { columns: columns.iter().map(|c| c.to_string()).collect(), ..FileHeader::default() };
        resolve_columns(Path::new("f.csv"), &header, options)
    }

    fn sel(text: &str, pair: Option<&str>, label: Option<&str>) -> Selection {
        Selection { text: text.into(), pair: pair.map(Into::into), label: label.map(Into::into) }
    }

    #[test]
    fn common_names_are_detected() {
        let auto = ColumnOptions::default();
        assert_eq!(pick(&["text", "label"], &auto).unwrap(), sel("text", None, Some("label")));
        assert_eq!(pick(&["idx", "Sentence", "Label"], &auto).unwrap(), sel("Sentence", None, Some("Label")));
        assert_eq!(pick(&["review", "sentiment"], &auto).unwrap(), sel("review", None, Some("sentiment")));
        assert_eq!(pick(&["content", "category"], &auto).unwrap(), sel("content", None, Some("category")));
        assert_eq!(
            pick(&["sentence1", "sentence2", "label", "idx"], &auto).unwrap(),
            sel("sentence1", Some("sentence2"), Some("label"))
        );
        assert_eq!(
            pick(&["premise", "hypothesis", "label"], &auto).unwrap(),
            sel("premise", Some("hypothesis"), Some("label"))
        );
        assert_eq!(pick(&["title", "text", "class"], &auto).unwrap(), sel("title", Some("text"), Some("class")));
        assert_eq!(pick(&["id", "tweet_body", "target"], &auto).unwrap(), sel("tweet_body", None, Some("target")));
        assert_eq!(pick(&["text"], &auto).unwrap(), sel("text", None, None));
    }

    #[test]
    fn choices_override_detection() {
        let options = ColumnOptions {
            text: Some("text".into()),
            pair: ColumnPick::Off,
            label: ColumnPick::Named("topic".into()),
        };
        assert_eq!(pick(&["title", "text", "label", "topic"], &options).unwrap(), sel("text", None, Some("topic")));
        let options = ColumnOptions { text: Some("sentence1".into()), ..ColumnOptions::default() };
        assert_eq!(
            pick(&["sentence1", "sentence2", "label"], &options).unwrap(),
            sel("sentence1", Some("sentence2"), Some("label"))
        );
        let options = ColumnOptions { label: ColumnPick::Off, ..ColumnOptions::default() };
        assert_eq!(pick(&["text", "label"], &options).unwrap(), sel("text", None, None));
    }

    #[test]
    fn missing_or_ambiguous_columns_are_named() {
        let options = ColumnOptions { text: Some("body".into()), ..ColumnOptions::default() };
        assert_eq!(
            pick(&["text", "label"], &options).unwrap_err().to_string(),
            "f.csv: no column \"body\"; available columns: text, label"
        );
        let options = ColumnOptions { label: ColumnPick::Named("stars".into()), ..ColumnOptions::default() };
        assert_eq!(
            pick(&["text", "label"], &options).unwrap_err().to_string(),
            "f.csv: no column \"stars\"; available columns: text, label"
        );
        assert_eq!(
            pick(&["a", "b", "label"], &ColumnOptions::default()).unwrap_err().to_string(),
            "f.csv: cannot tell which column holds the text; available columns: a, b, label; name it with the text column option"
        );
    }
}
