//! Benchmark: is the app smooth while it trains at full speed? Opens the real app (egui_kittest, no
//! window) on the Train page, starts a whole-model fine-tune of all-MiniLM-L6-v2 on BBC News from the
//! page's own button, and times every frame while the trainer thread runs (egui layout and our UI code;
//! painting is the GPU's job in the app), one frame every 16 ms as a 60 Hz display asks for them.
//! While it trains, a value of the page changes every frame as a drag does (the charts' smoothing slider,
//! which re-smooths every curve; `DRAG=0` turns that off).
//! Prints and writes target/bench/train_frame_time.json: frame time p50/p99/max and the run's samples/s.
//!
//! Run: `bash scripts/fetch-fixtures.sh && cargo run --release --example train_frame_time`
//! (`STEPS=N` training steps, default 12; `LMW_SHARED_DATA` the folder holding bbc-news/).

use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::ui::{Page, State, WorkbenchApp};

fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    // As the app's main() does.
    lm_workbench::core::device::tune_cpu_runtime();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("fixtures/all-minilm-l6-v2");
    assert!(model.is_dir(), "run scripts/fetch-fixtures.sh first");
    let shared = std::env::var("LMW_SHARED_DATA").map_or_else(|_| root.join("../shared/data"), std::path::PathBuf::from);
    let data = shared.join("bbc-news");
    assert!(data.join("train.csv").is_file(), "{} not found (set LMW_SHARED_DATA)", data.display());
    let steps: u64 = std::env::var("STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    let runs = tempfile::tempdir().expect("temp dir");

    let mut state = State { page: Page::Train, ..State::default() };
    let c = &mut state.train.config;
    c.model = model.display().to_string();
    c.data = data.display().to_string();
    c.freeze = "none".into();
    c.learning_rate = 5e-5;
    c.batch_size = 16;
    c.max_length = 128;
    c.max_steps = Some(steps);
    c.validation_fraction = 0.0;
    c.runs_dir = runs.path().to_path_buf();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    h.run_ok();
    h.get_by_label("▶ Start training").scroll_to_me();
    h.run_ok();
    h.get_by_label("▶ Start training").click();

    let started = Instant::now();
    let mut frames = Vec::new();
    let mut samples_per_sec = Vec::new();
    let mut training = false;
    let drag = std::env::var("DRAG").map_or(true, |v| v != "0");
    let mut frame_no = 0u32;
    loop {
        if drag {
            // A drag from 0 to 0.99 and back, one position per frame.
            frame_no += 1;
            let phase = (frame_no % 200) as f32 / 100.0;
            h.state_mut().state.train.charts.smoothing = if phase <= 1.0 { phase * 0.99 } else { (2.0 - phase) * 0.99 };
        }
        let t = Instant::now();
        h.step();
        let frame = t.elapsed();
        let live = h.state().state.train.live.as_ref().expect("a run started");
        let step = live.steps.last().map(|s| (s.step, s.samples_per_sec));
        if let Some((n, sps)) = step {
            training = true;
            if samples_per_sec.last().map(|(m, _)| *m) != Some(n) {
                samples_per_sec.push((n, sps));
            }
        }
        // Frames while the trainer computes steps (not while it loads the model and tokenizes).
        if training && live.is_active() {
            frames.push(frame);
        }
        if !live.is_active() {
            assert_eq!(live.status, lm_workbench::ui::RunStatus::Finished, "{:?}", live.status);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "the run did not finish in 30 minutes");
        std::thread::sleep(Duration::from_millis(16).saturating_sub(frame));
    }
    let mut sorted = frames.clone();
    sorted.sort();
    let steady: Vec<f64> = samples_per_sec.iter().skip(1).map(|(_, s)| *s).collect();
    let mean_sps = steady.iter().sum::<f64>() / steady.len().max(1) as f64;
    let result = serde_json::json!({
        "benchmark": "train_frame_time",
        "model": "all-MiniLM-L6-v2 (whole model)",
        "data": "bbc-news",
        "steps": steps,
        "dragging": if drag { "the charts' smoothing slider, every frame" } else { "nothing" },
        "frames": frames.len(),
        "frame_ms_p50": percentile_ms(&sorted, 0.5),
        "frame_ms_p99": percentile_ms(&sorted, 0.99),
        "frame_ms_max": percentile_ms(&sorted, 1.0),
        "training_samples_per_sec": mean_sps,
    });
    println!("{result:#}");
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).expect("create target/bench");
    std::fs::write(out.join("train_frame_time.json"), format!("{result:#}\n")).expect("write result");
}
