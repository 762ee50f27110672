//! Small dense products with one fixed summation order, the same bits on every x86-64 CPU.
//!
//! Every product here computes, for each output element independently,
//!
//! `out[r, c] = init[c] + Σ_k lhs(r, k) · rhs[k, c]`
//!
//! as one chain of fused multiply-adds over `k = 0, 1, …` in ascending order (starting from
//! `init[c]`, or from `0` without `init`). Vector code only ever runs several such chains side
//! by side — one lane per output column — so the vector width, the tiling and the CPU cannot
//! change any sum: each lane performs exactly the scalar chain, and a fused multiply-add is
//! exactly rounded on every CPU. The portable path computes the same chains with
//! [`f64::mul_add`], so both paths give the same bits (tested by forcing each).

use serde::{Deserialize, Serialize};

use crate::error::MdgpsError;

/// Which implementation of the native S-step's matrix products to use. Every choice gives the
/// same bits; the choice only changes the speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum KernelPath {
    /// The AVX2 + FMA kernels when the CPU has both, else the portable ones.
    #[default]
    Auto,
    /// Plain Rust with [`f64::mul_add`] (slow without hardware FMA: a library call per term).
    Portable,
    /// The AVX2 + FMA kernels (an error on a CPU without them).
    Avx2Fma,
}

/// A kernel path resolved against this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// [`KernelPath::Portable`].
    Portable,
    /// [`KernelPath::Avx2Fma`], checked to be supported.
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
}

/// Whether this CPU runs the AVX2 + FMA kernels.
fn avx2_fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl KernelPath {
    /// The kernel this choice selects on this CPU (an error for [`KernelPath::Avx2Fma`] on a
    /// CPU without AVX2 and FMA).
    pub(crate) fn resolve(self) -> Result<Kernel, MdgpsError> {
        match self {
            KernelPath::Portable => Ok(Kernel::Portable),
            KernelPath::Auto | KernelPath::Avx2Fma => {
                #[cfg(target_arch = "x86_64")]
                if avx2_fma_available() {
                    return Ok(Kernel::Avx2Fma);
                }
                if self == KernelPath::Auto {
                    Ok(Kernel::Portable)
                } else {
                    Err(MdgpsError::InvalidConfig {
                        field: "kernels",
                        reason: "this CPU lacks AVX2 or FMA".into(),
                    })
                }
            }
        }
    }
}

/// The left operand `lhs(r, k) = data[r·row_stride + k·k_stride]` (a matrix or a transposed
/// one, without copying).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lhs<'a> {
    /// The values.
    pub data: &'a [f64],
    /// Distance between consecutive rows `r`.
    pub row_stride: usize,
    /// Distance between consecutive `k`.
    pub k_stride: usize,
}

impl Lhs<'_> {
    #[inline(always)]
    fn at(&self, r: usize, k: usize) -> f64 {
        self.data[r * self.row_stride + k * self.k_stride]
    }
}

/// The shape of a product: `out` is `rows × cols`, the sums run over `depth` terms.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Output rows `m`.
    pub rows: usize,
    /// Output columns `n` (also the row length of `rhs`).
    pub cols: usize,
    /// Terms per sum `k`.
    pub depth: usize,
}

/// `out[r·cols + c] = init[c] + Σ_{k ascending} lhs(r, k) · rhs[k·cols + c]`, every term
/// fused (see the module documentation). `rhs` is `depth × cols` row-major, `init` (if any)
/// has `cols` values, `out` is `rows × cols` row-major.
pub(crate) fn product(
    kernel: Kernel,
    shape: Shape,
    lhs: Lhs<'_>,
    rhs: &[f64],
    init: Option<&[f64]>,
    out: &mut [f64],
) {
    let Shape { rows, cols, depth } = shape;
    // Index bounds the kernels rely on (the vector kernel reads through raw pointers).
    assert!(rhs.len() >= depth * cols && out.len() >= rows * cols);
    assert!(init.is_none_or(|b| b.len() >= cols));
    if rows > 0 && depth > 0 {
        let last = (rows - 1) * lhs.row_stride + (depth - 1) * lhs.k_stride;
        assert!(lhs.data.len() > last);
    }
    match kernel {
        Kernel::Portable => product_portable(shape, lhs, rhs, init, out),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Kernel::Avx2Fma` is only built by `KernelPath::resolve` after checking that
        // the CPU has AVX2 and FMA; the bounds the kernel reads and writes were asserted above.
        Kernel::Avx2Fma => unsafe { avx2::product(shape, lhs, rhs, init, out) },
    }
}

/// The reference implementation: one output row at a time, terms in ascending `k`.
fn product_portable(
    shape: Shape,
    lhs: Lhs<'_>,
    rhs: &[f64],
    init: Option<&[f64]>,
    out: &mut [f64],
) {
    let Shape { rows, cols, depth } = shape;
    for r in 0..rows {
        let row = &mut out[r * cols..(r + 1) * cols];
        match init {
            Some(b) => row.copy_from_slice(&b[..cols]),
            None => row.fill(0.0),
        }
        for k in 0..depth {
            let a = lhs.at(r, k);
            let w = &rhs[k * cols..(k + 1) * cols];
            for (o, &w) in row.iter_mut().zip(w) {
                *o = a.mul_add(w, *o);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The AVX2 + FMA kernels: register tiles of up to 4 output rows × 12 columns (three
    //! vectors of 4), each lane one output's chain.

    use std::arch::x86_64::*;

    use super::{Lhs, Shape};

    /// Rows per register tile.
    const ROWS: usize = 4;

    /// See [`super::product`].
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA, and the slices must have the lengths
    /// [`super::product`] asserts.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn product(
        shape: Shape,
        lhs: Lhs<'_>,
        rhs: &[f64],
        init: Option<&[f64]>,
        out: &mut [f64],
    ) {
        let Shape { rows, cols, .. } = shape;
        let mut r0 = 0;
        while r0 < rows {
            let nr = ROWS.min(rows - r0);
            let mut c0 = 0;
            // SAFETY (all calls below): the tiles stay inside `rows × cols` and the caller's
            // bounds; the CPU features are the caller's contract.
            unsafe {
                while c0 + 12 <= cols {
                    match nr {
                        4 => tile::<4, 3>(shape, lhs, rhs, init, out, r0, c0),
                        3 => tile::<3, 3>(shape, lhs, rhs, init, out, r0, c0),
                        2 => tile::<2, 3>(shape, lhs, rhs, init, out, r0, c0),
                        _ => tile::<1, 3>(shape, lhs, rhs, init, out, r0, c0),
                    }
                    c0 += 12;
                }
                while c0 + 4 <= cols {
                    match nr {
                        4 => tile::<4, 1>(shape, lhs, rhs, init, out, r0, c0),
                        3 => tile::<3, 1>(shape, lhs, rhs, init, out, r0, c0),
                        2 => tile::<2, 1>(shape, lhs, rhs, init, out, r0, c0),
                        _ => tile::<1, 1>(shape, lhs, rhs, init, out, r0, c0),
                    }
                    c0 += 4;
                }
            }
            if c0 < cols {
                scalar_tile(shape, lhs, rhs, init, out, r0, nr, c0);
            }
            r0 += nr;
        }
    }

    /// Output rows `r0 .. r0 + R`, columns `c0 .. c0 + 4·V`.
    ///
    /// # Safety
    /// AVX2 and FMA; the tile inside the output and `rhs`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile<const R: usize, const V: usize>(
        shape: Shape,
        lhs: Lhs<'_>,
        rhs: &[f64],
        init: Option<&[f64]>,
        out: &mut [f64],
        r0: usize,
        c0: usize,
    ) {
        let Shape { cols, depth, .. } = shape;
        let mut acc = [[_mm256_setzero_pd(); V]; R];
        // SAFETY: every pointer below addresses `c0 + 4·V ≤ cols` columns of a row inside
        // the slices (asserted by `super::product`).
        unsafe {
            if let Some(b) = init {
                for v in 0..V {
                    let x = _mm256_loadu_pd(b.as_ptr().add(c0 + 4 * v));
                    for row in acc.iter_mut() {
                        row[v] = x;
                    }
                }
            }
            let a_ptr = lhs.data.as_ptr();
            for k in 0..depth {
                let w_ptr = rhs.as_ptr().add(k * cols + c0);
                let mut w = [_mm256_setzero_pd(); V];
                for (v, wv) in w.iter_mut().enumerate() {
                    *wv = _mm256_loadu_pd(w_ptr.add(4 * v));
                }
                for (r, row) in acc.iter_mut().enumerate() {
                    let a =
                        _mm256_set1_pd(*a_ptr.add((r0 + r) * lhs.row_stride + k * lhs.k_stride));
                    for v in 0..V {
                        row[v] = _mm256_fmadd_pd(a, w[v], row[v]);
                    }
                }
            }
            for (r, row) in acc.iter().enumerate() {
                let o_ptr = out.as_mut_ptr().add((r0 + r) * cols + c0);
                for (v, x) in row.iter().enumerate() {
                    _mm256_storeu_pd(o_ptr.add(4 * v), *x);
                }
            }
        }
    }

    /// The last `cols − c0 < 4` columns of rows `r0 .. r0 + nr` (`nr ≤ 4`), scalar chains.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    fn scalar_tile(
        shape: Shape,
        lhs: Lhs<'_>,
        rhs: &[f64],
        init: Option<&[f64]>,
        out: &mut [f64],
        r0: usize,
        nr: usize,
        c0: usize,
    ) {
        let Shape { cols, depth, .. } = shape;
        let nc = cols - c0;
        let mut acc = [[0.0f64; 3]; ROWS];
        if let Some(b) = init {
            for row in acc.iter_mut().take(nr) {
                row[..nc].copy_from_slice(&b[c0..cols]);
            }
        }
        for k in 0..depth {
            let w = &rhs[k * cols + c0..k * cols + cols];
            for (r, row) in acc.iter_mut().enumerate().take(nr) {
                let a = lhs.at(r0 + r, k);
                for (o, &w) in row.iter_mut().zip(w) {
                    *o = a.mul_add(w, *o);
                }
            }
        }
        for (r, row) in acc.iter().enumerate().take(nr) {
            out[(r0 + r) * cols + c0..(r0 + r) * cols + cols].copy_from_slice(&row[..nc]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, salt: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i as f64 + salt) * 0.618_033_988_749_895).fract() * 2.0 - 1.0)
            .collect()
    }

    /// Every shape class the tiles distinguish (full and partial row tiles, 12-, 4- and
    /// scalar column tiles), with and without `init`, plain and transposed `lhs`.
    fn shapes() -> Vec<Shape> {
        let mut s = Vec::new();
        for rows in [1, 3, 4, 5, 25] {
            for cols in [1, 2, 3, 4, 7, 12, 13, 27, 100] {
                for depth in [1, 2, 14, 25] {
                    s.push(Shape { rows, cols, depth });
                }
            }
        }
        s
    }

    #[test]
    fn portable_product_is_the_ascending_fused_chain() {
        let shape = Shape {
            rows: 2,
            cols: 3,
            depth: 4,
        };
        let a = values(8, 0.5);
        let w = values(12, 1.5);
        let b = values(3, 2.5);
        let mut out = vec![0.0; 6];
        let lhs = Lhs {
            data: &a,
            row_stride: 4,
            k_stride: 1,
        };
        product(Kernel::Portable, shape, lhs, &w, Some(&b), &mut out);
        for r in 0..2 {
            for c in 0..3 {
                let mut want = b[c];
                for k in 0..4 {
                    want = a[r * 4 + k].mul_add(w[k * 3 + c], want);
                }
                assert_eq!(out[r * 3 + c].to_bits(), want.to_bits());
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_and_portable_products_are_the_same_bits() {
        if !avx2_fma_available() {
            eprintln!("no AVX2 + FMA on this CPU: nothing to compare");
            return;
        }
        for shape in shapes() {
            let Shape { rows, cols, depth } = shape;
            let a = values(rows * depth, 0.25);
            let w = values(depth * cols, 3.75);
            let b = values(cols, 7.0);
            for transposed in [false, true] {
                let lhs = if transposed {
                    Lhs {
                        data: &a,
                        row_stride: 1,
                        k_stride: rows,
                    }
                } else {
                    Lhs {
                        data: &a,
                        row_stride: depth,
                        k_stride: 1,
                    }
                };
                for init in [None, Some(&b[..])] {
                    let mut p = vec![f64::NAN; rows * cols];
                    let mut v = vec![f64::NAN; rows * cols];
                    product(Kernel::Portable, shape, lhs, &w, init, &mut p);
                    product(Kernel::Avx2Fma, shape, lhs, &w, init, &mut v);
                    let same = p.iter().zip(&v).all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(
                        same,
                        "{shape:?} transposed {transposed} init {}",
                        init.is_some()
                    );
                }
            }
        }
    }

    #[test]
    fn forcing_the_vector_path_needs_the_cpu_features() {
        match KernelPath::Avx2Fma.resolve() {
            Ok(_) => assert!(avx2_fma_available()),
            Err(e) => {
                assert!(!avx2_fma_available());
                assert!(matches!(
                    e,
                    MdgpsError::InvalidConfig {
                        field: "kernels",
                        ..
                    }
                ));
            }
        }
        assert_eq!(KernelPath::Portable.resolve().unwrap(), Kernel::Portable);
    }
}
