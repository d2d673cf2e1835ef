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
