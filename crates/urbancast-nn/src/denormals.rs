//! Flush-to-zero for subnormal floats on x86.
//!
//! Long trainings fill Adam's moments with subnormal numbers: the first moment of a parameter
//! whose gradient is exactly 0 (a dead ReLU unit, an inactive region) shrinks by β₁ = 0.9 per
//! step and falls below f32's normal range (1.2e-38) after ~800 steps. x86 cores handle
//! subnormal operands in microcode, tens of times slower than normal ones, so every later
//! step slows down: ST-net pre-training on the real sources went from ~13 s to ~170 s per
//! epoch after ~1,200 steps (README, "Speed"). Setting the FTZ and DAZ bits of MXCSR makes the
//! SSE/AVX units treat such values as 0, as GPU kernels and PyTorch's `set_flush_denormal` do;
//! values that small are far below anything a forecast or gradient needs.

/// FTZ (bit 15) and DAZ (bit 6) of MXCSR.
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
const FTZ_DAZ: u32 = 0x8040;

#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
fn read_csr() -> u32 {
    let mut csr = 0u32;
    // SAFETY: `stmxcsr` stores the 32-bit MXCSR register into `csr`, a valid, writable u32.
    unsafe {
        std::arch::asm!("stmxcsr dword ptr [{}]", in(reg) &mut csr as *mut u32, options(nostack, preserves_flags));
    }
    csr
}

/// Sets flush-to-zero and denormals-are-zero on the calling thread (no-op outside x86).
pub fn flush_denormals_this_thread() {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        let csr = read_csr() | FTZ_DAZ;
        // SAFETY: `ldmxcsr` loads a valid MXCSR value (the current one with FTZ and DAZ set);
        // it only changes how this thread's SSE/AVX units treat subnormal numbers.
        unsafe {
            std::arch::asm!("ldmxcsr dword ptr [{}]", in(reg) &csr as *const u32, options(nostack, readonly, preserves_flags));
        }
    }
}

/// Whether flush-to-zero and denormals-are-zero are on for the calling thread.
pub fn denormals_flushed() -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        read_csr() & FTZ_DAZ == FTZ_DAZ
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    {
        false
    }
}

/// Flushes subnormals on the calling thread and on every thread of rayon's global pool (where
/// the CPU kernels run). Call once at program start, before training.
pub fn flush_denormals() {
    flush_denormals_this_thread();
    rayon::broadcast(|_| flush_denormals_this_thread());
}
