//! Token-length statistics under the real bert-base-uncased tokenizer of all-MiniLM-L6-v2.

use std::path::Path;

use lm_workbench::core::data::{token_length_stats, token_lengths, SplitName};
use lm_workbench::core::text::tokenizer::TextTokenizer;

use crate::{as_is, load, write};

fn minilm() -> TextTokenizer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/all-minilm-l6-v2/tokenizer.json");
    assert!(path.is_file(), "{} is missing: run scripts/fetch-fixtures.sh", path.display());
    TextTokenizer::from_tokenizer_json(&path).unwrap()
}

#[test]
fn lengths_count_special_tokens_for_texts_and_pairs() {
    let tokenizer = minilm();
    let dir = tempfile::tempdir().unwrap();
    let single = write(dir.path(), "single.csv", "text,label\nhello world,a\nhello,b\n\"hello, world!\",a\n");
    let d = load(&single, &as_is()).unwrap();
    // [CLS] hello world [SEP]; [CLS] hello [SEP]; [CLS] hello , world ! [SEP]
    assert_eq!(token_lengths(&tokenizer, d.split(SplitName::Train).unwrap()).unwrap(), [4, 3, 6]);
    let pairs = write(dir.path(), "pairs.csv", "premise,hypothesis,label\nhello,world,1\nhello world,hello,0\n");
    let d = load(&pairs, &as_is()).unwrap();
    // [CLS] hello [SEP] world [SEP]; [CLS] hello world [SEP] hello [SEP]
    let train = d.split(SplitName::Train).unwrap();
    assert_eq!(token_lengths(&tokenizer, train).unwrap(), [5, 6]);
    let stats = token_length_stats(&tokenizer, train, 5).unwrap();
    assert_eq!((stats.count, stats.mean, stats.median, stats.p95, stats.max), (2, 5.5, 5.5, 6, 6));
    assert_eq!((stats.over_max_length, stats.over_max_share), (1, 0.5));
}
