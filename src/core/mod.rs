//! The UI-free core. Nothing in here may depend on egui, eframe or rfd.

pub mod backend;
pub mod config;
pub mod data;
pub mod demo;
pub mod device;
pub mod embeddings;
pub mod error;
pub mod hub;
pub mod model;
pub mod train;
pub mod model_source;
pub mod ngram;
pub mod text;

pub use error::{CoreError, CoreResult};

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so readers (another
/// copy of the app included) never see a half-written file. The core's one way of writing a file whole.
pub fn write_file_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
