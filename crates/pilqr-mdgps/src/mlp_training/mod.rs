//! The S-step's network training in plain Rust: forward and backward passes over a
//! minibatch with fixed-order matrix products ([`matmul`]), and tch's Adam step re-implemented
//! ([`adam`]), all on buffers allocated once per S-step ([`workspace`]).
//!
//! The result is the same bits on every x86-64 CPU and with any number of threads: the matrix
//! products sum every dot product in one fixed order whatever the vector path (see
//! [`matmul`]), everything else is element-wise IEEE arithmetic (`+ − × ÷ √`, no library
//! function), and training runs on the calling thread.

pub(crate) mod adam;
pub(crate) mod backward;
pub(crate) mod forward;
pub(crate) mod matmul;
pub(crate) mod params;
pub(crate) mod trainer;
pub(crate) mod workspace;
