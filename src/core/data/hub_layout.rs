//! How a Hub dataset's files map to configs and splits: the configs its card declares, else the
//! layout of its own files, else the auto-converted Parquet (see `hub.rs` for the order).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::hub::{HubConfig, HubSplit};
use super::spec::{FileFormat, SplitName};
use crate::core::hub::search::RepoFile;

/// The configs of a repo's own files: as the card's `configs` declare them where it does (and they
/// match files), else from the file layout.
pub(super) fn repo_configs(card: &serde_json::Value, files: &[RepoFile]) -> Vec<HubConfig> {
    let declared = card_configs(card, files);
    if declared.is_empty() {
        discover_repo_files(files)
    } else {
        declared
    }
}

/// Configs as a card's `configs` list declares them: `data_files` is a pattern or a list of patterns
/// (all train), or a list of `{split, path}` where `path` is a pattern or a list of them. Patterns
/// are matched against the repo's files (`*` within a folder, `**` across folders). The config marked
/// `default: true` comes first.
pub fn card_configs(card: &serde_json::Value, files: &[RepoFile]) -> Vec<HubConfig> {
    use serde_json::Value;
    fn patterns(value: &Value) -> Vec<String> {
        match value {
            Value::String(s) if s.trim_start().starts_with('[') => {
                // A flow list as the YAML reader keeps it: `["a.csv", "b.csv"]`.
                let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
                inner
                    .split(',')
                    .map(|p| p.trim().trim_matches(['"', '\'']).to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            }
            Value::String(s) => vec![s.clone()],
            Value::Array(list) => list.iter().flat_map(patterns).collect(),
            _ => Vec::new(),
        }
    }
    let Some(declared) = card.get("configs").and_then(|c| c.as_array()) else { return Vec::new() };
    let mut configs = Vec::new();
    let mut default_name = None;
    for entry in declared {
        let name = entry.get("config_name").and_then(|n| n.as_str()).unwrap_or("default").to_string();
        if entry.get("default").is_some_and(|d| d == true || d == "true") {
            default_name = Some(name.clone());
        }
        let data_files = entry.get("data_files").cloned().unwrap_or(Value::Null);
        let by_split: Vec<(String, Vec<String>)> = match &data_files {
            Value::Array(list) if list.iter().any(|i| i.is_object()) => list
                .iter()
                .filter_map(|item| {
                    let split = item.get("split")?.as_str()?.to_string();
                    Some((split, patterns(item.get("path")?)))
                })
                .collect(),
            Value::Object(map) => map.iter().map(|(split, paths)| (split.clone(), patterns(paths))).collect(),
            other => vec![("train".to_string(), patterns(other))],
        };
        let mut splits = Vec::new();
        for (split, patterns) in by_split {
            let matched: Vec<RepoFile> = files
                .iter()
                .filter(|f| FileFormat::from_path(Path::new(&f.path)).is_some())
                .filter(|f| patterns.iter().any(|p| glob_match(p.trim_start_matches("./"), &f.path)))
                .cloned()
                .collect();
            if !matched.is_empty() {
                splits.push(HubSplit { split: exact_split(&split), name: split, partial: false, files: matched });
            }
        }
        finish_config(&mut configs, name, splits);
    }
    sort_configs(&mut configs);
    if let Some(name) = default_name {
        if let Some(i) = configs.iter().position(|c| c.name == name) {
            let config = configs.remove(i);
            configs.insert(0, config);
        }
    }
    configs
}

/// A path pattern as `datasets` matches `data_files`: `*` and `?` within one path segment, `**`
/// across segments.
fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
                (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/') && go(rest, &s[i..])) || go(&p[2..], s)
            }
            Some(b'*') => (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != b'/').any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => s.first().is_some_and(|&c| c != b'/') && go(&p[1..], &s[1..]),
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

/// [`DataError::NoHubData`] naming at most 20 of the files found.
/// Files that have a data file's extension but are never data.
fn is_metadata_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "dataset_infos.json" | "dataset_info.json" | "dataset_dict.json" | "state.json")
        || ["readme", "license", "licence", "citation", "requirements", "changelog", "notice"]
            .iter()
            .any(|p| lower.starts_with(p))
}

/// Configs from a repo's own files (rule 1 of the module docs).
pub fn discover_repo_files(files: &[RepoFile]) -> Vec<HubConfig> {
    // config → (split name or None, file)
    let mut found: BTreeMap<String, Vec<(Option<SplitName>, &RepoFile)>> = BTreeMap::new();
    for file in files {
        let parts: Vec<&str> = file.path.split('/').collect();
        let (dirs, name) = parts.split_at(parts.len() - 1);
        let name = name[0];
        if FileFormat::from_path(Path::new(name)).is_none()
            || is_metadata_file(name)
            || parts.iter().any(|p| p.starts_with('.') || p.starts_with("__"))
        {
            continue;
        }
        let (split, config_dirs) = match SplitName::from_name(name) {
            Some(split) => (Some(split), dirs),
            None => match dirs.iter().rposition(|d| exact_split(d).is_some()) {
                Some(i) => (exact_split(dirs[i]), &dirs[..i]),
                None => (None, dirs),
            },
        };
        let config: Vec<&str> = config_dirs.iter().copied().filter(|d| *d != "data").collect();
        let config = if config.is_empty() { "default".to_string() } else { config.join("/") };
        found.entry(config).or_default().push((split, file));
    }
    let mut configs = Vec::new();
    for (name, entries) in found {
        let any_split = entries.iter().any(|(s, _)| s.is_some());
        let mut splits: Vec<HubSplit> = Vec::new();
        for (split, file) in entries {
            let split = match (split, any_split) {
                (Some(split), _) => split,
                (None, false) => SplitName::Train,
                (None, true) => continue,
            };
            match splits.iter_mut().find(|s| s.split == Some(split)) {
                Some(s) => s.files.push(file.clone()),
                None => splits.push(HubSplit {
                    name: split.as_str().to_string(),
                    split: Some(split),
                    partial: false,
                    files: vec![file.clone()],
                }),
            }
        }
        finish_config(&mut configs, name, splits);
    }
    sort_configs(&mut configs);
    configs
}

/// A split (or split folder) named exactly as one of the names [`SplitName::from_name`] knows.
fn exact_split(name: &str) -> Option<SplitName> {
    match name.to_ascii_lowercase().as_str() {
        "train" | "training" => Some(SplitName::Train),
        "validation" | "valid" | "val" | "dev" => Some(SplitName::Validation),
        "test" | "testing" => Some(SplitName::Test),
        _ => None,
    }
}

/// Configs from the Parquet conversion (rule 2 of the module docs).
pub fn discover_converted(files: &[RepoFile]) -> Vec<HubConfig> {
    let mut found: BTreeMap<String, BTreeMap<(bool, String), Vec<RepoFile>>> = BTreeMap::new();
    for file in files {
        let parts: Vec<&str> = file.path.split('/').collect();
        if !file.path.ends_with(".parquet") || parts.len() < 2 {
            continue;
        }
        let (split, partial) = if parts.len() >= 3 {
            let dir = parts[parts.len() - 2];
            match dir.strip_prefix("partial-") {
                Some(split) => (split.to_string(), true),
                None => (dir.to_string(), false),
            }
        } else {
            // {name}-{split}.parquet or {name}-{split}-00000-of-00002.parquet
            let stem = parts[1].trim_end_matches(".parquet");
            let tokens: Vec<&str> = stem.split('-').collect();
            let sharded = tokens.len() >= 4 && tokens[tokens.len() - 2] == "of";
            let tokens = if sharded { &tokens[..tokens.len() - 3] } else { &tokens[..] };
            match tokens.last() {
                Some(split) if tokens.len() >= 2 => (split.to_string(), false),
                _ => continue,
            }
        };
        found.entry(parts[0].to_string()).or_default().entry((partial, split)).or_default().push(file.clone());
    }
    let mut configs = Vec::new();
    for (name, splits) in found {
        let splits = splits
            .into_iter()
            .map(|((partial, split), mut files)| {
                files.sort_by(|a, b| a.path.cmp(&b.path));
                HubSplit { split: exact_split(&split), name: split, partial, files }
            })
            .collect();
        finish_config(&mut configs, name, splits);
    }
    sort_configs(&mut configs);
    configs
}

fn finish_config(configs: &mut Vec<HubConfig>, name: String, mut splits: Vec<HubSplit>) {
    if splits.is_empty() {
        return;
    }
    for split in &mut splits {
        split.files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    splits.sort_by(|a, b| (a.split.is_none(), a.split, &a.name).cmp(&(b.split.is_none(), b.split, &b.name)));
    configs.push(HubConfig { name, splits, class_labels: HashMap::new() });
}

fn sort_configs(configs: &mut [HubConfig]) {
    configs.sort_by(|a, b| (a.name != "default", &a.name).cmp(&(b.name != "default", &b.name)));
}

/// Downloads the files of one config into the HF cache (skipping what is there) and returns the
/// snapshot folder. Offline, the listing's cached snapshot.
#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<RepoFile> {
        paths.iter().map(|p| RepoFile { path: p.to_string(), size: 10 }).collect()
    }

    /// `(config, [(split, [file])])`.
    type Shape = Vec<(String, Vec<(String, Vec<String>)>)>;
    type Rows<'a> = &'a [(&'a str, &'a [(&'a str, &'a [&'a str])])];

    fn shape(configs: &[HubConfig]) -> Shape {
        configs
            .iter()
            .map(|c| {
                let splits = c
                    .splits
                    .iter()
                    .map(|s| (s.name.clone(), s.files.iter().map(|f| f.path.clone()).collect()))
                    .collect();
                (c.name.clone(), splits)
            })
            .collect()
    }

    fn expect(rows: Rows<'_>) -> Shape {
        rows.iter()
            .map(|(c, splits)| {
                let splits = splits
                    .iter()
                    .map(|(s, files)| (s.to_string(), files.iter().map(|f| f.to_string()).collect()))
                    .collect();
                (c.to_string(), splits)
            })
            .collect()
    }

    #[test]
    fn repo_files_give_configs_and_splits() {
        let listing = discover_repo_files(&files(&[
            ".gitattributes",
            "README.md",
            "dataset_infos.json",
            "data/test-00000-of-00001.parquet",
            "data/train-00001-of-00002.parquet",
            "data/train-00000-of-00002.parquet",
            "sst2/validation.csv",
            "sst2/train.csv",
            "en/train/a.jsonl",
            "en/dev/a.jsonl",
            "loader.py",
        ]));
        assert_eq!(
            shape(&listing),
            expect(&[
                (
                    "default",
                    &[
                        ("train", &["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"]),
                        ("test", &["data/test-00000-of-00001.parquet"]),
                    ]
                ),
                ("en", &[("train", &["en/train/a.jsonl"]), ("validation", &["en/dev/a.jsonl"])]),
                ("sst2", &[("train", &["sst2/train.csv"]), ("validation", &["sst2/validation.csv"])]),
            ])
        );
        // Files that name no split are train; scripts and cards are never data.
        let single = discover_repo_files(&files(&["headlines.csv", "README.md", "requirements.txt"]));
        assert_eq!(shape(&single), expect(&[("default", &[("train", &["headlines.csv"])])]));
        assert!(discover_repo_files(&files(&["imdb.py", "README.md", "data/plain_text.zip"])).is_empty());
    }

    #[test]
    fn card_configs_declare_the_files() {
        let repo = files(&[
            "README.md",
            "reviews/2020/part-1.csv",
            "reviews/2021/part-1.csv",
            "holdout.csv",
            "extra/notes.csv",
            "data/train-00000-of-00001.parquet",
        ]);
        let card = serde_json::json!({"configs": [
            {"config_name": "reviews", "data_files": [
                {"split": "train", "path": "reviews/**/*.csv"},
                {"split": "test", "path": ["holdout.csv"]}
            ]},
            {"config_name": "notes", "data_files": "extra/*.csv"},
            {"config_name": "parquet", "default": true, "data_files": [{"split": "train", "path": "data/train-*"}]},
            {"config_name": "nothing", "data_files": "missing/*.csv"}
        ]});
        assert_eq!(
            shape(&repo_configs(&card, &repo)),
            expect(&[
                ("parquet", &[("train", &["data/train-00000-of-00001.parquet"])]),
                ("notes", &[("train", &["extra/notes.csv"])]),
                (
                    "reviews",
                    &[("train", &["reviews/2020/part-1.csv", "reviews/2021/part-1.csv"]), ("test", &["holdout.csv"])]
                ),
            ])
        );
        // The YAML reader keeps a flow list as text; it is read as a list of patterns.
        let flow = serde_json::json!({"configs": [{"config_name": "default", "data_files": [
            {"split": "validation", "path": "[\"holdout.csv\", 'extra/notes.csv']"}, {"split": "train", "path": "reviews/*/*.csv"}
        ]}]});
        let listing = repo_configs(&flow, &repo);
        assert_eq!(listing[0].splits[1].files.len(), 2);
        // Without declared configs (or none matching), the layout decides.
        assert_eq!(repo_configs(&serde_json::Value::Null, &repo), discover_repo_files(&repo));
        assert!(glob_match("data/train-*", "data/train-00000-of-00001.parquet"));
        assert!(!glob_match("*.csv", "extra/notes.csv"));
        assert!(glob_match("**/*.csv", "notes.csv") && glob_match("**/*.csv", "a/b/notes.csv"));
    }

    #[test]
    fn converted_parquet_gives_configs_and_splits() {
        let listing = discover_converted(&files(&[
            ".gitattributes",
            "plain_text/train/0000.parquet",
            "plain_text/test/0000.parquet",
            "plain_text/unsupervised/0000.parquet",
            "big/partial-train/0001.parquet",
            "big/partial-train/0000.parquet",
            "old/old-validation.parquet",
            "old/old-train-00000-of-00002.parquet",
            "old/old-train-00001-of-00002.parquet",
        ]));
        assert_eq!(
            shape(&listing),
            expect(&[
                ("big", &[("train", &["big/partial-train/0000.parquet", "big/partial-train/0001.parquet"])]),
                (
                    "old",
                    &[
                        ("train", &["old/old-train-00000-of-00002.parquet", "old/old-train-00001-of-00002.parquet"]),
                        ("validation", &["old/old-validation.parquet"]),
                    ]
                ),
                (
                    "plain_text",
                    &[
                        ("train", &["plain_text/train/0000.parquet"]),
                        ("test", &["plain_text/test/0000.parquet"]),
                        ("unsupervised", &["plain_text/unsupervised/0000.parquet"]),
                    ]
                ),
            ])
        );
        assert!(listing[0].splits[0].partial);
        assert_eq!(listing[2].splits[2].split, None);
    }
}

