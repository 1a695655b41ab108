//! Flush-to-zero: subnormal results become 0 on the calling thread and on rayon's threads.
use std::hint::black_box;

#[test]
fn subnormals_flush_to_zero_everywhere() {
    let tiny = || black_box(1e-30f32) * black_box(1e-10f32);
    if !cfg!(any(target_arch = "x86_64", target_arch = "x86")) {
        return;
    }
    assert!(tiny() > 0.0 && tiny() < f32::MIN_POSITIVE, "without FTZ the product is subnormal");
    urbancast_nn::flush_denormals();
    assert!(urbancast_nn::denormals_flushed());
    assert_eq!(tiny(), 0.0);
    let on_pool: Vec<bool> = rayon::broadcast(|_| urbancast_nn::denormals_flushed() && tiny() == 0.0);
    assert!(!on_pool.is_empty() && on_pool.iter().all(|&b| b), "{on_pool:?}");
}
