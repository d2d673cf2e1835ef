//! The real datasets load with exactly the counts their SOURCE.md states.

use lm_workbench::core::data::{FileFormat, LabelKind, DatasetOptions, SourceKind, SplitName, SplitOrigin};

use crate::{as_is, counts, load, rows, shared_data};

fn table(rows: &[(&str, usize)]) -> Vec<(String, usize)> {
    rows.iter().map(|(l, c)| (l.to_string(), *c)).collect()
}

#[test]
fn bbc_news_has_the_stated_counts_and_multi_line_texts() {
    let d = load(&shared_data("bbc-news"), &as_is()).unwrap();
    assert_eq!(d.source_kind, SourceKind::Files(FileFormat::Csv));
    assert_eq!(d.columns, ["text", "label"]);
    assert_eq!(
        (d.mapping.text.as_str(), d.mapping.pair.as_deref(), d.mapping.label.as_deref()),
        ("text", None, Some("label"))
    );
    assert_eq!(d.label_kind, Some(LabelKind::Strings));
    assert_eq!(d.splits.iter().map(|s| s.name).collect::<Vec<_>>(), [SplitName::Train, SplitName::Test]);
    assert_eq!((rows(&d, SplitName::Train), rows(&d, SplitName::Test)), (2004, 221));
    assert_eq!(
        counts(&d, SplitName::Train),
        table(&[("business", 460), ("entertainment", 348), ("politics", 375), ("sport", 459), ("tech", 362)])
    );
    assert_eq!(
        counts(&d, SplitName::Test),
        table(&[("business", 50), ("entertainment", 38), ("politics", 42), ("sport", 52), ("tech", 39)])
    );
    let first = &d.split(SplitName::Train).unwrap().texts[0];
    assert!(first.starts_with("Online games play with politics\n\nAfter bubbling under"), "{first:.80}");
    let preview = d.preview(SplitName::Test, 0, 2);
    assert_eq!(preview.len(), 2);
    assert!(preview[0].text.starts_with("Woodward eyes Brennan for Lions\n\n"));
    assert_eq!(preview[0].label, Some("sport"));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

#[test]
fn bbc_news_gets_a_seeded_stratified_validation_split() {
    let options = DatasetOptions { validation_fraction: 0.2, seed: 7, ..DatasetOptions::default() };
    let d = load(&shared_data("bbc-news"), &options).unwrap();
    let train_counts = counts(&d, SplitName::Train);
    let valid_counts = counts(&d, SplitName::Validation);
    assert_eq!(rows(&d, SplitName::Train) + rows(&d, SplitName::Validation), 2004);
    assert_eq!(rows(&d, SplitName::Test), 221);
    let stated = [460, 348, 375, 459, 362];
    for (i, &n) in stated.iter().enumerate() {
        assert_eq!(train_counts[i].1 + valid_counts[i].1, n);
        let expected = 0.2 * n as f64;
        assert!(
            (valid_counts[i].1 as f64 - expected).abs() <= 1.0,
            "{}: {} vs {expected}",
            valid_counts[i].0,
            valid_counts[i].1
        );
    }
    let validation = d.split(SplitName::Validation).unwrap();
    assert_eq!(validation.origin, SplitOrigin::HeldOut { from: SplitName::Train, fraction: 0.2, seed: 7 });
    let again = load(&shared_data("bbc-news"), &options).unwrap();
    assert_eq!(again.split(SplitName::Validation).unwrap().texts, validation.texts);
    let other_seed = load(&shared_data("bbc-news"), &DatasetOptions { seed: 8, ..options.clone() }).unwrap();
    assert_ne!(other_seed.split(SplitName::Validation).unwrap().texts, validation.texts);
}

#[test]
fn twenty_newsgroups_keeps_its_160470_character_post() {
    let d = load(&shared_data("20newsgroups"), &as_is()).unwrap();
    assert_eq!((rows(&d, SplitName::Train), rows(&d, SplitName::Test)), (11296, 7516));
    assert_eq!(d.label_names.len(), 20);
    let longest = d.split(SplitName::Test).unwrap().texts.iter().map(|t| t.chars().count()).max();
    assert_eq!(longest, Some(160_470));
    let stated = [
        ("alt.atheism", 480, 318),
        ("comp.graphics", 582, 389),
        ("comp.os.ms-windows.misc", 589, 391),
        ("comp.sys.ibm.pc.hardware", 587, 392),
        ("comp.sys.mac.hardware", 576, 383),
        ("comp.windows.x", 592, 394),
        ("misc.forsale", 582, 384),
        ("rec.autos", 592, 396),
        ("rec.motorcycles", 597, 398),
        ("rec.sport.baseball", 596, 397),
        ("rec.sport.hockey", 599, 399),
        ("sci.crypt", 595, 396),
        ("sci.electronics", 591, 393),
        ("sci.med", 594, 394),
        ("sci.space", 593, 393),
        ("soc.religion.christian", 599, 398),
        ("talk.politics.guns", 546, 364),
        ("talk.politics.mideast", 564, 376),
        ("talk.politics.misc", 465, 310),
        ("talk.religion.misc", 377, 251),
    ];
    assert_eq!(counts(&d, SplitName::Train), stated.iter().map(|(l, n, _)| (l.to_string(), *n)).collect::<Vec<_>>());
    assert_eq!(counts(&d, SplitName::Test), stated.iter().map(|(l, _, n)| (l.to_string(), *n)).collect::<Vec<_>>());
}

#[test]
fn sst2_uses_its_own_three_splits() {
    // The default options would hold out validation; a validation file makes that unnecessary.
    let d = load(&shared_data("sst2"), &DatasetOptions::default()).unwrap();
    assert_eq!(
        d.splits.iter().map(|s| (s.name, s.len())).collect::<Vec<_>>(),
        [(SplitName::Train, 6920), (SplitName::Validation, 872), (SplitName::Test, 1821)]
    );
    assert!(d.splits.iter().all(|s| s.origin == SplitOrigin::Files));
    assert_eq!(counts(&d, SplitName::Train), table(&[("negative", 3310), ("positive", 3610)]));
    assert_eq!(counts(&d, SplitName::Validation), table(&[("negative", 428), ("positive", 444)]));
    assert_eq!(counts(&d, SplitName::Test), table(&[("negative", 912), ("positive", 909)]));
}

#[test]
fn gutenberg_text_files_are_one_example_per_line() {
    let dir = shared_data("gutenberg-novels");
    let d = load(&dir.join("valid.txt"), &as_is()).unwrap();
    assert_eq!(d.source_kind, SourceKind::Files(FileFormat::Text));
    assert_eq!(rows(&d, SplitName::Train), 1169);
    assert_eq!(d.label_kind, None);
    assert!(d.label_names.is_empty() && d.split(SplitName::Train).unwrap().labels.is_none());
    assert_eq!(d.split(SplitName::Train).unwrap().texts[0], "CASSELL’S NATIONAL LIBRARY (New Series)");

    let folder = load(&dir, &DatasetOptions::default()).unwrap();
    assert_eq!(
        folder.splits.iter().map(|s| (s.name, s.len())).collect::<Vec<_>>(),
        [(SplitName::Train, 45359), (SplitName::Validation, 1169)]
    );
}
