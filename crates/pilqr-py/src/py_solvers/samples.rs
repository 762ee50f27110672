//! Sample arrays `x [N, T, dX]`, `u [N, T, dU]` (and the noise `[N, T, dU]` and costs `[N, T]`
//! where an update needs them) as the Rust crates' [`SampleBatch`].

use pilqr_core::{SampleBatch, SampleDims};
use pyo3::prelude::*;

use super::arrays::{Array, Dims};
use super::errors::solver_err;

/// Checked sample arrays, ready to become a [`SampleBatch`] without the GIL.
pub(crate) struct Samples {
    dims: SampleDims,
    n: usize,
    x: Vec<f64>,
    u: Vec<f64>,
    noise: Vec<f64>,
    cost: Vec<f64>,
}

impl Samples {
    /// Read `x`, `u` and, when given, `noise` and `costs` (zero when not), checking their
    /// shapes against each other and against the sizes already in `dims`.
    pub(crate) fn read(
        dims: &mut Dims,
        x: &Bound<'_, PyAny>,
        u: &Bound<'_, PyAny>,
        noise: Option<&Bound<'_, PyAny>>,
        costs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let x: Array = dims.array(x, "x", &["N", "T", "dX"])?;
        let u = dims.array(u, "u", &["N", "T", "dU"])?;
        let (n, horizon, dx, du) = (x.shape[0], x.shape[1], x.shape[2], u.shape[2]);
        let noise = match noise {
            Some(e) => dims.array(e, "noise", &["N", "T", "dU"])?.data,
            None => vec![0.0; n * horizon * du],
        };
        let cost = match costs {
            Some(c) => dims.array(c, "costs", &["N", "T"])?.data,
            None => vec![0.0; n * horizon],
        };
        Ok(Samples {
            dims: SampleDims {
                horizon,
                dx,
                du,
                dobs: 0,
            },
            n,
            x: x.data,
            u: u.data,
            noise,
            cost,
        })
    }

    /// The batch (checks that every value is finite; the error names sample and step).
    pub(crate) fn into_batch(self) -> PyResult<SampleBatch> {
        SampleBatch::new(
            self.dims,
            self.n,
            self.x,
            self.u,
            vec![],
            self.noise,
            self.cost,
        )
        .map_err(solver_err)
    }
}
