//! Reproducible initialisation: burn creates parameters lazily, so a seeded model must draw
//! every parameter at once, in a fixed order, right after seeding the device RNG.
use std::sync::Mutex;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

/// Serialises seeded initialisations: burn-flex's RNG is process-global, so two seeded
/// initialisations on different threads (parallel tests, several models trained at once) would
/// otherwise interleave their draws and get other weights than their seeds promise.
static SEEDED: Mutex<()> = Mutex::new(());

/// Seeds `device`, builds the module with `build` and draws all its parameters
/// ([`materialize`]) while holding a process-wide lock, so the same seed gives the same weights
/// whatever else initialises at the same time.
pub fn try_seeded<M: Module, E>(device: &Device, seed: u64, build: impl FnOnce() -> Result<M, E>) -> Result<M, E> {
    let _guard = SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(seed);
    let m = build()?;
    materialize(&m);
    Ok(m)
}

/// [`try_seeded`] for a `build` that cannot fail.
pub fn seeded<M: Module>(device: &Device, seed: u64, build: impl FnOnce() -> M) -> M {
    match try_seeded::<M, std::convert::Infallible>(device, seed, || Ok(build())) {
        Ok(m) => m,
    }
}

/// Draws every lazily initialised parameter of `m` now, in the module's visiting order. Call it
/// right after `device.seed(..)` and building the model; the burn-flex RNG is process-global,
/// so do not initialise other tensors concurrently.
pub fn materialize<M: Module>(m: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    m.visit(&mut Touch);
}

/// Reseeds `device`'s random stream (dropout and other draws during training) under the same
/// lock as [`try_seeded`], so a reseed never lands between another thread's seed and its draws.
pub fn reseed(device: &Device, seed: u64) {
    let _guard = SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(seed);
}
