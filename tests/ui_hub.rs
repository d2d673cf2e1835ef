//! The Model & Data page's Hub panel, driven through egui_kittest against a local Hub API server:
//! search, pick a result, see its files and config, download with progress, load it, and see it in
//! "On this machine".

mod common;

use common::step_until;


use common::hub_server::{HubServer, Repo};
use common::minilm;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lm_workbench::core::hub::HubSettings;
use lm_workbench::ui::{Page, State, WorkbenchApp};


#[test]
fn search_download_and_load_from_the_hub() {
    let files = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"];
    let mut repo = Repo::model("sentence-transformers/all-MiniLM-L6-v2", files.iter().map(|f| (f.to_string(), std::fs::read(minilm().join(f)).unwrap())).collect());
    repo.downloads = 1000;
    repo.pipeline_tag = Some("sentence-similarity".into());
    let server = HubServer::start(vec![repo]);
    let cache = tempfile::tempdir().unwrap();
    let hub = HubSettings { endpoint: Some(server.url.clone()), cache_dir: cache.path().into(), offline: false };
    let mut state = State { page: Page::ModelData, ..State::default() };
    state.model.hub.query = String::new();
    state.model.hub.task = None;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 1000.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::with_hub(state, hub));
    step_until(&mut h, "the demo and the cache scan", |h| h.state().model().is_some() && h.query_by_label("Nothing cached yet.").is_some());

    h.get_by_label("Search the Hub:").click();
    h.run_ok();
    h.get_by_label("Search the Hub:").type_text("minilm");
    h.run_ok();
    h.get_by_label("Search").click();
    step_until(&mut h, "search results", |h| h.query_by_label("sentence-transformers/all-MiniLM-L6-v2").is_some());
    h.get_by_label("sentence-similarity");

    h.get_by_label("sentence-transformers/all-MiniLM-L6-v2").click();
    step_until(&mut h, "repo details", |h| h.query_by_label_contains("Download 4 files").is_some());
    h.get_by_label("bert · 6 layers · hidden 384 · 12 heads");
    h.get_by_label_contains("22,713,216 parameters (encoder)");
    h.get_by_label_contains("vocab.txt  (231.5 KB)");

    h.get_by_label_contains("Download 4 files").click();
    step_until(&mut h, "the download", |h| h.query_by_label_contains("✔ in the HF cache").is_some());
    h.get_by_label_contains("tokenizer.json: 466.2 KB / 466.2 KB · done");
    assert!(cache.path().join("models--sentence-transformers--all-MiniLM-L6-v2/refs/main").is_file());

    h.get_by_label("Load sentence-transformers/all-MiniLM-L6-v2").click();
    step_until(&mut h, "the model", |h| h.state().model().is_some_and(|m| m.name == "sentence-transformers/all-MiniLM-L6-v2"));
    h.get_by_label("Tokenizer: WordPiece · vocab 30,522");
    // The cache list was refreshed after the download.
    step_until(&mut h, "the cache list", |h| h.query_by_label_contains("main ").is_some());
}

#[test]
fn search_and_load_a_hub_dataset() {
    let train = "text,label\nA late goal wins the cup,sport\nShares fall after the report,business\nThe striker scores twice,sport\nBanks raise rates again,business\n";
    let test = "text,label\nThe keeper saves a penalty,sport\nMarkets rally on the news,business\n";
    let repo = Repo::dataset("demo/tiny-news", vec![("data/train.csv".into(), train.as_bytes().to_vec()), ("data/test.csv".into(), test.as_bytes().to_vec())]);
    let server = HubServer::start(vec![repo]);
    let cache = tempfile::tempdir().unwrap();
    let hub = HubSettings { endpoint: Some(server.url.clone()), cache_dir: cache.path().into(), offline: false };
    let mut state = State { page: Page::ModelData, ..State::default() };
    state.model.hub.query = String::new();
    state.model.hub.kind = lm_workbench::core::hub::search::RepoKind::Dataset;
    state.model.data.options.validation_fraction = 0.0;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 1400.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), WorkbenchApp::with_hub(state, hub));
    step_until(&mut h, "start-up", |h| h.state().model().is_some() && h.state().state.model.data.dataset().is_some() && h.state().jobs().is_empty());

    h.get_by_label("Search").click();
    step_until(&mut h, "dataset results", |h| h.query_by_label("demo/tiny-news").is_some());
    h.get_by_label("demo/tiny-news").click();
    step_until(&mut h, "its configs", |h| h.query_by_label("Load default").is_some());
    h.get_by_label_contains("train: 1 files");
    h.get_by_label("Load default").click();
    step_until(&mut h, "the Hub dataset", |h| {
        h.state().state.model.data.dataset().is_some_and(|d| d.name.contains("demo/tiny-news")) && h.state().jobs().is_empty()
    });
    let dataset = h.state().state.model.data.dataset().unwrap().clone();
    assert_eq!(dataset.label_names, ["business", "sport"]);
    assert_eq!(dataset.split(lm_workbench::core::data::SplitName::Test).unwrap().len(), 2);
    assert!(cache.path().join("datasets--demo--tiny-news/refs/main").is_file());
}
