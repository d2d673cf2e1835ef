//! ClassLabel names from a Hub dataset card. Online the Hub serves the card's YAML metadata as JSON
//! (`cardData`); offline the cached `README.md` is read with a small parser for the block-style YAML
//! that `datasets` and the Hub write (mappings, sequences, plain and quoted scalars), so that a dataset
//! gets the same label order with and without the network.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// ClassLabel names by config and column from a card's `dataset_info` (one object, or a list with
/// `config_name`s; a missing `config_name` is `default`). Feature dtypes look like
/// `{class_label: {names: {'0': neg, '1': pos}}}`; names with gaps in their numbers are ignored.
pub fn card_class_labels(card: &Value) -> HashMap<String, HashMap<String, Vec<String>>> {
    let infos: Vec<&Value> = match card.get("dataset_info") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(info @ Value::Object(_)) => vec![info],
        _ => Vec::new(),
    };
    let mut out = HashMap::new();
    for info in infos {
        let config = info.get("config_name").and_then(|c| c.as_str()).unwrap_or("default").to_string();
        let mut columns = HashMap::new();
        for feature in info.get("features").and_then(|f| f.as_array()).into_iter().flatten() {
            let Some(name) = feature.get("name").and_then(|n| n.as_str()) else { continue };
            let Some(names) = feature.pointer("/dtype/class_label/names") else { continue };
            let labels: Option<Vec<String>> = match names {
                Value::Object(map) => {
                    let mut pairs: Vec<(u64, String)> = Vec::new();
                    for (k, v) in map {
                        let (Ok(i), Some(v)) = (k.parse::<u64>(), v.as_str()) else { continue };
                        pairs.push((i, v.to_string()));
                    }
                    pairs.sort();
                    let contiguous = pairs.iter().enumerate().all(|(i, (k, _))| i as u64 == *k);
                    contiguous.then(|| pairs.into_iter().map(|(_, v)| v).collect())
                }
                Value::Array(list) => list.iter().map(|v| v.as_str().map(str::to_string)).collect(),
                _ => None,
            };
            if let Some(labels) = labels.filter(|l| !l.is_empty()) {
                columns.insert(name.to_string(), labels);
            }
        }
        if !columns.is_empty() {
            out.insert(config, columns);
        }
    }
    out
}

/// The YAML front matter of a `README.md` (between the `---` lines at its top) as JSON; `None` without
/// one. Scalars stay strings; flow collections (`[a, b]`) and block scalars (`|`) are kept as text.
pub fn readme_metadata(readme: &str) -> Option<Value> {
    let mut lines = readme.lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    let mut parsed = Vec::new();
    for line in lines {
        if line.trim_end() == "---" {
            let mut i = 0;
            return Some(if parsed.is_empty() { Value::Object(Map::new()) } else { block(&mut parsed, &mut i) });
        }
        let text = line.trim_end();
        let trimmed = text.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        parsed.push(Line { indent: text.len() - trimmed.len(), text: trimmed.to_string() });
    }
    None
}

struct Line {
    indent: usize,
    text: String,
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

fn block(lines: &mut [Line], i: &mut usize) -> Value {
    let indent = lines[*i].indent;
    if is_item(&lines[*i].text) {
        sequence(lines, i, indent)
    } else {
        mapping(lines, i, indent)
    }
}

/// The value after `key:` on the line before `*i`: a nested block when the next lines are indented
/// deeper (or are a sequence at the same indent), else null.
fn nested(lines: &mut [Line], i: &mut usize, indent: usize) -> Value {
    match lines.get(*i) {
        Some(next) if next.indent > indent || (next.indent == indent && is_item(&next.text)) => block(lines, i),
        _ => Value::Null,
    }
}

fn mapping(lines: &mut [Line], i: &mut usize, indent: usize) -> Value {
    let mut map = Map::new();
    while *i < lines.len() && lines[*i].indent >= indent {
        if lines[*i].indent > indent || is_item(&lines[*i].text) {
            *i += 1; // not part of this mapping's shape: skipped
            continue;
        }
        let Some((key, rest)) = split_key(&lines[*i].text) else {
            *i += 1;
            continue;
        };
        *i += 1;
        let value = if rest.is_empty() {
            nested(lines, i, indent)
        } else if rest.starts_with('|') || rest.starts_with('>') {
            while *i < lines.len() && lines[*i].indent > indent {
                *i += 1;
            }
            Value::String(String::new())
        } else {
            Value::String(scalar(&rest))
        };
        map.insert(key, value);
    }
    Value::Object(map)
}

fn sequence(lines: &mut [Line], i: &mut usize, indent: usize) -> Value {
    let mut items = Vec::new();
    while *i < lines.len() && lines[*i].indent == indent && is_item(&lines[*i].text) {
        let text = lines[*i].text.clone();
        let rest = text[1..].trim_start();
        if rest.is_empty() {
            *i += 1;
            items.push(nested(lines, i, indent));
        } else if split_key(rest).is_some() {
            // `- key: value` starts a mapping at the column of `key`.
            let column = indent + (text.len() - rest.len());
            lines[*i] = Line { indent: column, text: rest.to_string() };
            items.push(mapping(lines, i, column));
        } else {
            *i += 1;
            items.push(Value::String(scalar(rest)));
        }
    }
    Value::Array(items)
}

/// `key: rest` or `key:` (the key plain or quoted); `None` for a line that is no mapping entry.
fn split_key(text: &str) -> Option<(String, String)> {
    let (key, after) = if let Some(quote @ ('\'' | '"')) = text.chars().next() {
        let end = closing_quote(text, quote)?;
        (scalar(&text[..=end]), &text[end + 1..])
    } else {
        let colon = text.find(": ").or_else(|| text.strip_suffix(':').map(str::len))?;
        if text.starts_with(['[', '{']) {
            return None;
        }
        (text[..colon].trim().to_string(), &text[colon..])
    };
    let rest = after.trim_start().strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim().to_string()))
}

/// The byte index of the quote closing the one at 0 (`''` inside single quotes is an escaped quote).
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut j = 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' if quote == '"' => j += 2,
            b'\'' if quote == '\'' && bytes.get(j + 1) == Some(&b'\'') => j += 2,
            b if b == quote as u8 => return Some(j),
            _ => j += 1,
        }
    }
    None
}

/// A scalar as text: quotes removed (with YAML's escapes), a trailing ` # comment` dropped from plain ones.
fn scalar(raw: &str) -> String {
    let raw = raw.trim();
    if raw.starts_with('\'') {
        if let Some(end) = closing_quote(raw, '\'') {
            return raw[1..end].replace("''", "'");
        }
    }
    if raw.starts_with('"') {
        if let Some(end) = closing_quote(raw, '"') {
            // JSON's escapes are the common subset of YAML's double-quoted ones.
            return serde_json::from_str(&raw[..=end]).unwrap_or_else(|_| raw[1..end].to_string());
        }
    }
    raw.split(" #").next().unwrap_or(raw).trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = r#"---
license: cc-by-4.0
tags: [news, topics]
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
dataset_info:
- config_name: default
  features:
  - name: text
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
          '0': tech
          '1': "sport"
          '2': it's politics
          '3': 'it''s entertainment' # a comment
  splits:
  - name: train
    num_examples: 40
- config_name: other
  features:
    - name: topic
      dtype:
        class_label:
          names:
            '0': a
            '1': b
description: |
  Several lines
  of text.
---
# Card

Body text with - dashes: and colons.
"#;

    #[test]
    fn readme_metadata_gives_the_same_class_labels_as_card_data() {
        let meta = readme_metadata(README).unwrap();
        assert_eq!(meta["license"], "cc-by-4.0");
        assert_eq!(meta["configs"][0]["data_files"][0]["path"], "data/train-*");
        let labels = card_class_labels(&meta);
        assert_eq!(labels["default"]["label"], ["tech", "sport", "it's politics", "it's entertainment"]);
        assert_eq!(labels["other"]["topic"], ["a", "b"]);
        assert_eq!(readme_metadata("# No front matter\n"), None);
        assert_eq!(readme_metadata("---\n---\n"), Some(Value::Object(Map::new())));
    }

    #[test]
    fn card_data_class_labels_are_read_per_config() {
        let card = serde_json::json!({
            "dataset_info": [
                {"config_name": "sst2", "features": [
                    {"name": "sentence", "dtype": "string"},
                    {"name": "label", "dtype": {"class_label": {"names": {"1": "positive", "0": "negative"}}}}
                ]},
                {"features": [{"name": "topic", "dtype": {"class_label": {"names": {"0": "a", "2": "c"}}}}]}
            ]
        });
        let labels = card_class_labels(&card);
        assert_eq!(labels["sst2"]["label"], ["negative", "positive"]);
        // Names with a gap are not a usable ClassLabel list.
        assert!(!labels.contains_key("default"));
        let single = serde_json::json!({"dataset_info": {"features": [
            {"name": "label", "dtype": {"class_label": {"names": {"0": "x", "1": "y"}}}}
        ]}});
        assert_eq!(card_class_labels(&single)["default"]["label"], ["x", "y"]);
    }
}
