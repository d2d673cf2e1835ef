//! The compute device the app runs on. CUDA is used when the binary was built with the
//! `cuda` feature and a GPU is present; otherwise the CPU.

use candle_core::Device;

/// Picks the best available device: CUDA 0 where compiled in and present, else the CPU.
pub fn best_device() -> Device {
    #[cfg(feature = "cuda")]
    if let Ok(device) = Device::new_cuda(0) {
        return device;
    }
    Device::Cpu
}

/// The device a `--device` / run setting names: `auto` (CUDA 0 where compiled in and usable, else the
/// CPU), `cpu`, `cuda` or `cuda:N`. The error says why a GPU cannot be used (a build without the `cuda`
/// feature, no driver, no such GPU).
pub fn parse_device(spec: &str) -> Result<Device, String> {
    let spec = spec.trim().to_ascii_lowercase();
    match spec.as_str() {
        "" | "auto" => Ok(best_device()),
        "cpu" => Ok(Device::Cpu),
        _ => {
            let ordinal = match spec.strip_prefix("cuda") {
                Some("") => 0,
                Some(rest) => rest
                    .strip_prefix(':')
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| format!("device '{spec}': expected auto, cpu, cuda or cuda:N"))?,
                None => return Err(format!("device '{spec}': expected auto, cpu, cuda or cuda:N")),
            };
            cuda_device(ordinal)
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda_device(ordinal: usize) -> Result<Device, String> {
    Device::new_cuda(ordinal).map_err(|e| format!("CUDA device {ordinal} is not usable: {e}"))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(ordinal: usize) -> Result<Device, String> {
    Err(format!(
        "cuda:{ordinal}: this build of lm-workbench has no CUDA support (build it with `cargo build --release \
         --features cuda`); use --device cpu"
    ))
}

/// A short human-readable name of a device, for the status bar.
pub fn device_label(device: &Device) -> String {
    match device {
        Device::Cpu => {
            let threads = candle_core::utils::get_num_threads();
            format!("CPU ({threads} threads)")
        }
        Device::Cuda(_) => "CUDA GPU 0".to_string(),
        Device::Metal(_) => "Metal GPU".to_string(),
    }
}

/// Tunes the CPU runtime for training, once at start (before other threads exist): the allocator (see
/// [`tune_allocator`]) and candle's elementwise thread pool, whose workers spin 25,000 times after each
/// op before they sleep. Our fused kernels and gemm run on rayon's pool; on a machine with few cores
/// the spinning worker takes a core from them (about 10 % of a MiniLM training step on 2 cores). A
/// short spin keeps candle's remaining elementwise ops parallel without that. Settings already in the
/// environment win.
pub fn tune_cpu_runtime() {
    tune_allocator();
    if std::env::var_os("CANDLE_BARRIER_POOL_SPIN_LIMIT").is_none() {
        std::env::set_var("CANDLE_BARRIER_POOL_SPIN_LIMIT", "100");
    }
}

/// Tunes glibc's allocator for training (call once at start, before threads allocate): every op
/// allocates its output, and with glibc's defaults a tensor of a few MiB is mmap'ed and unmapped again,
/// so each step pays page faults on fresh zeroed pages, and the heap top is trimmed back to the system
/// between steps. Keeping such blocks on the heap (the largest threshold glibc accepts, 32 MiB) and
/// never trimming below 1 GiB makes the step's allocations reuse memory. A no-op elsewhere.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called before other threads start.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * 1024 * 1024);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
        }
    }
}
