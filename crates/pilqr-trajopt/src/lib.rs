//! # pilqr-trajopt
//!
//! Work in progress: LQR-FLM, PI2, PILQR and the per-condition trajectory-optimisation loop
//! (DESIGN.md §4.3–§4.5, §4.7).
