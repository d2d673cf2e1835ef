//! Benchmark: the Embeddings page projects 2,000 BBC News rows with all-MiniLM-L6-v2 (max length 128,
//! mean pooling) from its own "Project" button while the UI keeps drawing. Opens the real app
//! (egui_kittest, no window), times every frame (one every 16 ms, as a 60 Hz display asks for them) and
//! the whole projection, and records the progress fractions the page showed.
//! Prints and writes target/bench/projection_frame_time.json.
//!
//! Run: `bash scripts/fetch-fixtures.sh && cargo run --release --example projection_frame_time`
//! (`ROWS=N`, default 2000; `LMW_SHARED_DATA` the folder holding bbc-news/).

use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::ui::{EmbeddingsView, Page, State, WorkbenchApp};

fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    lm_workbench::core::device::tune_cpu_runtime();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("fixtures/all-minilm-l6-v2");
    assert!(model.is_dir(), "run scripts/fetch-fixtures.sh first");
    let shared = std::env::var("LMW_SHARED_DATA").map_or_else(|_| root.join("../shared/data"), std::path::PathBuf::from);
    let data = shared.join("bbc-news/train.csv");
    assert!(data.is_file(), "{} not found (set LMW_SHARED_DATA)", data.display());
    let rows: usize = std::env::var("ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);

    let mut state = State { page: Page::Embeddings, ..State::default() };
    state.model.data.spec = data.display().to_string();
    state.model.data.options.validation_fraction = 0.0;
    state.embeddings.model = model.display().to_string();
    state.embeddings.view = EmbeddingsView::Projection;
    state.embeddings.projection.limit = rows;
    state.tokenize.text = "Shares in the chip maker rose after strong results.".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    h.run_ok();
    h.get_by_label("Load model").click();
    let wait = Instant::now();
    while !(h.state().state.embeddings.inspection().is_some() && h.query_by_label("Project").is_some() && h.state().jobs().is_empty()) {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
        assert!(wait.elapsed() < Duration::from_secs(300), "model and data did not load");
    }
    h.get_by_label("Project").click();
    let started = Instant::now();
    let mut frames = Vec::new();
    let mut fractions: Vec<f32> = Vec::new();
    loop {
        let t = Instant::now();
        h.step();
        let frame = t.elapsed();
        frames.push(frame);
        if let Some(f) = h.state().jobs().iter().find(|j| j.name.starts_with("Embedding")).and_then(|j| j.fraction) {
            if fractions.last() != Some(&f) {
                fractions.push(f);
            }
        }
        let panel = &h.state().state.embeddings.projection;
        if !panel.is_running() && panel.points() > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "the projection did not finish in 30 minutes");
        std::thread::sleep(Duration::from_millis(16).saturating_sub(frame));
    }
    let secs = started.elapsed().as_secs_f64();
    let points = h.state().state.embeddings.projection.points();
    let mut sorted = frames.clone();
    sorted.sort();
    let result = serde_json::json!({
        "rows": points,
        "seconds": secs,
        "rows_per_sec": points as f64 / secs,
        "frames": frames.len(),
        "frame_ms_p50": percentile_ms(&sorted, 0.5),
        "frame_ms_p99": percentile_ms(&sorted, 0.99),
        "frame_ms_max": sorted.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        "progress_updates": fractions.len(),
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
    });
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).expect("target/bench");
    std::fs::write(out.join("projection_frame_time.json"), result.to_string()).expect("write");
}
