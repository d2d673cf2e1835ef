//! Benchmark: how long one frame of the Tokenize page takes with 2,000 characters of input, with the
//! real all-MiniLM-L6-v2 tokenizer, (a) when nothing changes and (b) after each typed character
//! (re-tokenize + lay out the three views). Writes target/bench/tokenize_frame_time.json.
//!
//! Run: `bash scripts/fetch-fixtures.sh && cargo run --release --example tokenize_frame_time`

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use lm_workbench::core::demo::DEMO_CORPUS;
use lm_workbench::ui::{Page, State, WorkbenchApp};

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/all-minilm-l6-v2");
    assert!(model.is_dir(), "run scripts/fetch-fixtures.sh first");
    let text: String = DEMO_CORPUS.chars().cycle().take(2000).collect();
    let mut state = State { page: Page::Tokenize, ..State::default() };
    state.model.spec = model.display().to_string();
    state.tokenize.text = text;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    while h.state().model().is_none_or(|m| m.name != "all-minilm-l6-v2") {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_ok();
    let frames = 30;
    let steady: Vec<Duration> = (0..frames)
        .map(|_| {
            let t = Instant::now();
            h.step();
            t.elapsed()
        })
        .collect();
    let typing: Vec<Duration> = (0..frames)
        .map(|i| {
            h.state_mut().state.tokenize.text.push(if i % 5 == 4 { ' ' } else { 'a' });
            let t = Instant::now();
            h.step();
            t.elapsed()
        })
        .collect();
    let tokens = h.state().state.tokenize.encoded().map_or(0, |e| e.len());
    let result = serde_json::json!({
        "benchmark": "tokenize_frame_time",
        "characters": h.state().state.tokenize.text.chars().count(),
        "tokens": tokens,
        "frames": frames,
        "steady_frame_ms_median": median_ms(steady),
        "typing_frame_ms_median": median_ms(typing),
    });
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&out).expect("create target/bench");
    std::fs::write(out.join("tokenize_frame_time.json"), format!("{result:#}\n")).expect("write result");
    println!("{result:#}");
}
