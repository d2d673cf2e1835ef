//! Renders every page of the real app with wgpu (on the CPU: lavapipe or llvmpipe) and checks the images.
//! With `LMW_WRITE_SCREENSHOTS=1` (scripts/screenshots.sh) the PNGs go to screenshots/ for the README;
//! otherwise to target/screenshots/.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::minilm;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::ui::{Page, State, WorkbenchApp};

fn out_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = if std::env::var_os("LMW_WRITE_SCREENSHOTS").is_some() { root.join("screenshots") } else { root.join("target/screenshots") };
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_name(page: Page) -> String {
    page.title().to_lowercase().replace(" & ", "-").replace(' ', "-")
}

#[test]
fn every_page_renders() {
    let mut state = State::default();
    state.model.spec = minilm().display().to_string();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    let start = Instant::now();
    while h.state().model().is_none_or(|m| m.name != "all-minilm-l6-v2") {
        assert!(start.elapsed() < Duration::from_secs(60), "model did not load");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_ok();
    for page in Page::ALL {
        h.state_mut().state.page = page;
        h.run_ok();
        if page == Page::Tokenize {
            // Hover a token chip: its span lights up in the input and in the other views.
            h.get_by_label("##izer").hover();
            h.run_ok();
        }
        let image = h.render().expect("render with wgpu");
        assert_eq!((image.width(), image.height()), (1280, 820));
        // A real picture, not a blank frame: many distinct colours.
        let mut colours: Vec<[u8; 4]> = image.pixels().map(|p| p.0).collect();
        colours.sort_unstable();
        colours.dedup();
        assert!(colours.len() > 20, "{page:?} rendered only {} colours", colours.len());
        image.save(out_dir().join(format!("{}.png", file_name(page)))).unwrap();
    }
}
