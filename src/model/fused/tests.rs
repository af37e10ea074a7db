//! The fast path against the generic burn path (the oracle): same loss, same gradient of
//! every weight, same forecast, on random inputs. `case` and the helpers also serve the
//! optimizer's test in the `train` module.
use super::*;
use burn::optim::GradientsParams;
use rand::{Rng, SeedableRng};

pub(crate) fn random(rng: &mut impl Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

pub(crate) struct Case {
    pub(crate) model: Seq2Seq,
    pub(crate) x: Vec<f32>,
    pub(crate) y: Vec<f32>,
    /// The baseline forecast `[B][H][C]` the network corrects.
    pub(crate) base: Vec<f32>,
    pub(crate) b: usize,
    pub(crate) t: usize,
    pub(crate) h: usize,
    pub(crate) c: usize,
}

pub(crate) fn case(cell: CellKind, layers: usize, seed: u64, device: &Device) -> Case {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let (b, t, h, c) = (3, 7, 4, 5);
    let shape = ModelShape {
        cell,
        layers,
        hidden: 6,
        channels: c,
    };
    let fresh = Seq2Seq::new(shape, &mut rng, device);
    // Non-zero output weights, as after training (they start at zero).
    let mut w = Weights::from_model(&fresh);
    let (wo, bo) = (w.layout.wo, w.layout.bo);
    for v in &mut w.data[wo..bo + c] {
        *v = rng.random_range(-0.5f32..0.5);
    }
    Case {
        model: w.to_model(device),
        x: random(&mut rng, b * t * c),
        y: random(&mut rng, b * h * c),
        base: random(&mut rng, b * h * c),
        b,
        t,
        h,
        c,
    }
}

impl Case {
    /// The case as a teacher-forced training batch with targets `y`.
    pub(crate) fn batch<'a>(&'a self, y: &'a [f32]) -> TrainBatch<'a> {
        TrainBatch {
            x: &self.x,
            y,
            base: &self.base,
            fed: None,
            horizon: self.h,
        }
    }
}

pub(crate) fn tensor3(v: &[f32], shape: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
}

/// Every weight tensor's gradient from burn autodiff, flattened in layout order.
fn burn_grads(m: &Seq2Seq, case: &Case, device: &Device) -> (f32, Vec<f32>) {
    let x = tensor3(&case.x, [case.b, case.t, case.c], device);
    let y = tensor3(&case.y, [case.b, case.h, case.c], device);
    let base = tensor3(&case.base, [case.b, case.h, case.c], device);
    let loss = (m.forward_teacher(x, y.clone(), base) - y).square().mean();
    let value = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0];
    let grads = GradientsParams::from_grads(loss.backward(), m);
    let mut flat = Vec::new();
    let g2 = |p: &Param<Tensor<2>>| {
        grads
            .get::<2>(p.id)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let g1 = |p: &Param<Tensor<1>>| {
        grads
            .get::<1>(p.id)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    for layer in m.encoder.iter().chain(&m.decoder) {
        flat.extend(g2(&layer.wx));
        flat.extend(g2(&layer.wh));
        flat.extend(g1(&layer.bx));
        flat.extend(g1(&layer.bh));
    }
    flat.extend(g2(&m.wo));
    flat.extend(g1(&m.bo));
    (value, flat)
}

pub(crate) fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!(
            (p - q).abs() <= tol * (1.0 + q.abs()),
            "{what}[{i}]: fast {p} vs burn {q}"
        );
    }
}

#[test]
fn weights_round_trip_through_the_burn_model() {
    let device = Device::flex();
    let c = case(CellKind::Lstm, 2, 1, &device);
    let w = Weights::from_model(&c.model);
    assert_eq!(w.data.len(), w.layout.len());
    assert_eq!(Weights::from_model(&w.to_model(&device)), w);
}

#[test]
fn loss_and_gradients_match_burn_autodiff() {
    let device = Device::flex().autodiff();
    for cell in [CellKind::Gru, CellKind::Lstm] {
        for layers in [1, 2] {
            let c = case(cell, layers, 7 + layers as u64, &device);
            let (loss, expected) = burn_grads(&c.model, &c, &device);
            let w = Weights::from_model(&c.model);
            let mut grad = vec![f32::NAN; w.data.len()];
            let mut ws = Workspace::default();
            // Twice through one workspace: reused buffers must not leak state.
            for _ in 0..2 {
                let fast = w.loss_and_grad(&c.batch(&c.y), &mut grad, &mut ws);
                assert!(
                    (fast - loss).abs() < 1e-4 * (1.0 + loss),
                    "{cell:?}: {fast} vs {loss}"
                );
                assert_close(&grad, &expected, 1e-4, &format!("{cell:?} x{layers} grad"));
            }
            let live = expected.iter().filter(|g| g.abs() > 1e-5).count();
            assert!(
                live > expected.len() * 3 / 4,
                "{live} of {} gradients non-zero",
                expected.len()
            );
        }
    }
}

#[test]
fn forecast_matches_burn() {
    let device = Device::flex();
    for cell in [CellKind::Gru, CellKind::Lstm] {
        let c = case(cell, 2, 3, &device);
        let x = tensor3(&c.x, [c.b, c.t, c.c], &device);
        let base = tensor3(&c.base, [c.b, c.h, c.c], &device);
        let expected = c
            .model
            .forecast(x, base)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let w = Weights::from_model(&c.model);
        let fast = w.forecast(&c.x, c.t, &c.base, &mut Workspace::default());
        assert_close(&fast, &expected, 1e-5, &format!("{cell:?} forecast"));
    }
}
