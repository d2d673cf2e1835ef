use clap::Parser;
use lm_workbench::cli::{self, Cli};

fn main() {
    lm_workbench::core::device::tune_cpu_runtime();
    tracing_subscriber::fmt()
        // hf_hub logs every exhausted retry as an ERROR although a cached file is then used (and an
        // unreachable Hub is reported by our own messages): its retry logger stays quiet unless asked.
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,hf_hub::retry=off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Cli::parse();
    match args.command {
        Some(command) => std::process::exit(cli::run(command)),
        None => {
            if let Err(e) = lm_workbench::ui::run_native() {
                eprintln!("error: cannot open the window: {e}");
                std::process::exit(1);
            }
        }
    }
}
