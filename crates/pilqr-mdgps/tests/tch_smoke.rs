//! libtorch smoke test: a small MLP trained with Adam on CPU fits a smooth function.

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

#[test]
fn mlp_trained_with_adam_reduces_loss_tenfold() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let net = nn::seq()
        .add(nn::linear(&root / "l1", 2, 32, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(&root / "l2", 32, 32, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(&root / "l3", 32, 1, Default::default()));
    // Target: y = sin(2 x0) + 0.5 x1², on 256 fixed inputs in [-1, 1]².
    let x = Tensor::rand([256, 2], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let y = (x.select(1, 0) * 2.0).sin() + x.select(1, 1).square() * 0.5;
    let y = y.unsqueeze(1);
    let mut opt = nn::Adam::default()
        .build(&vs, 1e-2)
        .expect("Adam over the VarStore");
    let loss_of = |net: &nn::Sequential| net.forward(&x).mse_loss(&y, tch::Reduction::Mean);
    let initial = loss_of(&net).double_value(&[]);
    for _ in 0..400 {
        let loss = loss_of(&net);
        opt.backward_step(&loss);
    }
    let last = loss_of(&net).double_value(&[]);
    assert!(initial.is_finite() && last.is_finite());
    assert!(
        last * 10.0 <= initial,
        "loss fell only from {initial} to {last}"
    );
}
