//! glibc allocator tuning for large tensors.
//!
//! glibc serves allocations above `M_MMAP_THRESHOLD` (dynamic, at most 32 MiB) with fresh
//! `mmap`s, so every training step pays page faults and kernel page zeroing for each large
//! buffer (the LSTM keeps ~300 MiB of activations at the benchmark shape). Raising the mmap
//! and trim thresholds keeps freed memory in the heap for reuse: the process keeps its peak
//! footprint instead of returning memory to the OS after each step.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallopt(param: i32, value: i32) -> i32;
}

/// Applies the tuning once per process (idempotent; no-op outside Linux/glibc). Returns whether
/// it took effect.
pub fn tune_allocator() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *ONCE.get_or_init(|| {
            const M_TRIM_THRESHOLD: i32 = -1;
            const M_MMAP_THRESHOLD: i32 = -3;
            // SAFETY: mallopt only changes allocator parameters (glibc returns 0 for values
            // it rejects).
            unsafe {
                let a = mallopt(M_MMAP_THRESHOLD, i32::MAX);
                let b = mallopt(M_TRIM_THRESHOLD, i32::MAX);
                a == 1 && b == 1
            }
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
