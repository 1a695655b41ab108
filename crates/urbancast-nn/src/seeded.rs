//! Reproducible initialisation: burn creates parameters lazily, so a seeded model must draw
//! every parameter at once, in a fixed order, right after seeding the device RNG.
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

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
