//! An objective that computes its own gradients (TSJT's path): the engine clips and applies
//! them instead of backpropagating the loss, and still logs the loss it was given.
use anyhow::Result;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use urbancast_train::{BatchLoss, Direction, LrSchedule, Objective, OptimConfig, TrainSpec, Validation, fit};

#[derive(Module, Debug)]
struct Lin {
    l: Linear,
}

/// Gradient 1 on every weight, none on the bias; the logged loss is 7.
struct Own {
    pending: Option<GradientsParams>,
}

impl Objective for Own {
    type Model = Lin;
    type Batch = ();

    fn batches(&mut self, _epoch: usize, _seed: u64) -> Result<Vec<()>> {
        Ok(vec![()])
    }

    fn loss(&mut self, m: &Lin, _b: &()) -> Result<BatchLoss> {
        let d = m.l.weight.val().device();
        let mut g = GradientsParams::new();
        g.register(m.l.weight.id, Tensor::<2>::ones([2, 1], &d.clone().without_autodiff()));
        self.pending = Some(g);
        Ok(BatchLoss::plain(Tensor::<1>::from_data(TensorData::new(vec![7.0f32], [1]), &d)))
    }

    fn take_gradients(&mut self) -> Option<GradientsParams> {
        self.pending.take()
    }

    fn validate(&mut self, _m: &Lin) -> Result<Validation> {
        Ok(Validation::score(0.0))
    }

    fn direction(&self) -> Direction {
        Direction::Lower
    }
}

#[test]
fn the_engine_applies_an_objectives_own_gradients() {
    let d = Device::flex().autodiff();
    let m = Lin { l: LinearConfig::new(2, 1).init(&d) };
    let w0 = m.l.weight.val().into_data().try_to_vec::<f32>().unwrap();
    let b0 = m.l.bias.as_ref().unwrap().val().into_data().try_to_vec::<f32>().unwrap();
    let spec = TrainSpec {
        label: "own".into(),
        lr: 0.1,
        optim: OptimConfig { weight_decay: 0.0, ..OptimConfig::default() },
        schedule: LrSchedule::Constant,
        clip_norm: 0.0,
        max_epochs: 1,
        max_batches_per_epoch: None,
        patience: None,
        min_steps: 0,
        seed: 1,
        progress: false,
    };
    let fitted = fit(m, &mut Own { pending: None }, &spec, None).unwrap();
    let w1 = fitted.best.l.weight.val().into_data().try_to_vec::<f32>().unwrap();
    let b1 = fitted.best.l.bias.as_ref().unwrap().val().into_data().try_to_vec::<f32>().unwrap();
    // Adam's first step moves a parameter with gradient g by lr·g/(|g| + ε) ≈ lr.
    for (a, b) in w0.iter().zip(&w1) {
        assert!((a - b - 0.1).abs() < 1e-4, "weight {a} -> {b}");
    }
    assert_eq!(b0, b1, "no gradient for the bias: it stays");
    assert_eq!(fitted.log.epochs[0].loss, 7.0);
}
