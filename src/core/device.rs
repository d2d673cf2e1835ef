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

/// A short human-readable name of a device, for the status bar.
pub fn device_label(device: &Device) -> String {
    match device {
        Device::Cpu => {
            let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
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
