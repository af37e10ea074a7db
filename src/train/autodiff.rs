//! The burn engine: training with burn autodiff and burn's Adam, on any burn device.
//!
//! The generic path: the [`Seq2Seq`] module on the autodiff form of the chosen device
//! ([`super::DeviceChoice::device`]), one teacher-forced [`step`] per batch with burn's Adam
//! as [`optimizer`] configures it (coupled L2, gradient-norm clipping at 1). It is the engine
//! of the `tch` build (libtorch, GPUs) and the oracle the fused engine is tested against.
//! (Named `autodiff`, not `burn`, so that `burn::` in the parent module stays the crate.)

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};

use super::{epochs, Batch, DecoderTraining, DeviceChoice, Fit, Stepper, TrainSettings, Windows};
use crate::model::{ModelShape, Seq2Seq};

/// The burn engine's state: the module on an autodiff device and burn's optimizer.
struct Burn<'a> {
    data: &'a Windows<'a>,
    device: Device,
    model: Option<Seq2Seq>,
    optim: ModuleOptimizer,
    learning_rate: f64,
    val: Option<[Tensor<3>; 3]>,
    free_running: bool,
}

impl Burn<'_> {
    /// `[x, y, base]` of the windows starting at `starts`.
    fn tensors(&self, starts: &[usize]) -> [Tensor<3>; 3] {
        let mut batch = Batch::default();
        self.data.fill(starts, &mut batch);
        let (b, d) = (starts.len(), self.data);
        let out = [d.horizon, d.c];
        [
            Tensor::from_data(TensorData::new(batch.x, [b, d.window, d.c]), &self.device),
            Tensor::from_data(TensorData::new(batch.y, [b, out[0], out[1]]), &self.device),
            Tensor::from_data(
                TensorData::new(batch.base, [b, out[0], out[1]]),
                &self.device,
            ),
        ]
    }
}

impl Stepper for Burn<'_> {
    type Weights = Seq2Seq;

    fn step(&mut self, starts: &[usize]) -> f32 {
        let [x, y, base] = self.tensors(starts);
        let model = self.model.take().expect("model between steps");
        // Free running: the decoder is fed the model's own forecast (no gradient through it).
        let fed = self
            .free_running
            .then(|| model.forecast(x.clone(), base.clone()).detach());
        let (model, loss) = step(
            model,
            &mut self.optim,
            self.learning_rate,
            [x, y, base],
            fed,
        );
        self.model = Some(model);
        loss
    }

    fn val_loss(&mut self) -> f32 {
        let [x, y, base] = self.val.clone().expect("validation batch");
        let model = self.model.as_ref().expect("model between steps");
        let pred = model.forecast(x, base);
        scalar((pred - y).square().mean().detach())
    }

    fn weights(&self) -> Seq2Seq {
        self.model.clone().expect("model between steps")
    }
}

/// Fits with the burn engine on `s.device`.
pub(super) fn fit_burn(
    data: &Windows<'_>,
    shape: ModelShape,
    s: &TrainSettings,
    mut rng: rand::rngs::SmallRng,
    order: Vec<usize>,
    val_starts: &[usize],
) -> Fit {
    let device = s.device.device().autodiff();
    let model = Seq2Seq::new(shape, &mut rng, &device);
    let mut st = Burn {
        data,
        device,
        model: Some(model),
        optim: optimizer(s.l2),
        learning_rate: s.learning_rate,
        val: None,
        free_running: s.decoder == DecoderTraining::FreeRunning,
    };
    if !val_starts.is_empty() {
        st.val = Some(st.tensors(val_starts));
    }
    let run = epochs(&mut st, s, &mut rng, order, !val_starts.is_empty());
    let last = st.model.take().expect("model after the epochs");
    run.into_fit(last, data.baseline.clone(), |m| m.valid())
}

/// Adam with coupled L2 and gradient-norm clipping at 1 (see the module docs of [`super`]).
pub fn optimizer(l2: f64) -> ModuleOptimizer {
    let mut adam = AdamConfig::new().with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)));
    if l2 > 0.0 {
        adam = adam.with_weight_decay(Some(WeightDecayConfig::new(l2 as f32)));
    }
    adam.init()
}

/// One optimisation step on a batch `[x, y, base]`; returns the updated model and the
/// batch's MSE before the update. The decoder is fed `fed` (detached), or the targets `y`
/// when `None` (teacher forcing). The whole training loop, and `make bench`, go through here.
pub fn step(
    model: Seq2Seq,
    optim: &mut ModuleOptimizer,
    learning_rate: f64,
    [x, y, base]: [Tensor<3>; 3],
    fed: Option<Tensor<3>>,
) -> (Seq2Seq, f32) {
    let fed = fed.unwrap_or_else(|| y.clone());
    let pred = model.forward_teacher(x, fed, base);
    let loss = (pred - y).square().mean();
    let value = scalar(loss.clone());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(learning_rate, model, grads), value)
}

/// The autoregressive forecast of `fit` after the input window `x`, correcting `base`, on
/// `device` (see [`super::predict`]).
pub(super) fn predict(
    fit: &Fit,
    x: &[f32],
    base: &[f32],
    channels: usize,
    device: DeviceChoice,
) -> Vec<f32> {
    let window = x.len() / channels;
    let horizon = base.len() / channels;
    let device = device.device();
    let x = Tensor::<3>::from_data(TensorData::new(x.to_vec(), [1, window, channels]), &device);
    let base = Tensor::<3>::from_data(
        TensorData::new(base.to_vec(), [1, horizon, channels]),
        &device,
    );
    fit.model
        .forecast(x, base)
        .into_data()
        .try_into_vec::<f32>()
        .expect("f32 output")
}

/// A one-element tensor's value.
fn scalar(t: Tensor<1>) -> f32 {
    t.into_data().try_into_vec::<f32>().expect("f32 loss")[0]
}
