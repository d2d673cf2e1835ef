//! Retrains the built-in demo vocabulary on assets/demo_corpus.txt and writes assets/demo_vocab.txt.
//! Run: `cargo run --example train_demo_vocab`

fn main() {
    let vocab = lm_workbench::core::demo::train_demo_vocab().expect("training the demo vocabulary");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo_vocab.txt");
    std::fs::write(&path, vocab.join("\n") + "\n").expect("write assets/demo_vocab.txt");
    println!("wrote {} tokens to {}", vocab.len(), path.display());
}
