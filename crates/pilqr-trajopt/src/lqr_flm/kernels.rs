//! Small dense kernels of the passes: products that fill only the lower triangle of a
//! symmetric result (faer's triangular matmul, single-threaded), mirroring, and short
//! vector loops that are cheaper written out than dispatched to a matmul.

use faer::linalg::matmul::triangular::{BlockStructure, matmul};
use faer::{Accum, MatMut, MatRef, Par};

/// `dst_lower (+)= alpha · lhs · rhs` on the lower triangle (diagonal included) of the square
/// `dst`; its strict upper triangle is neither read nor written.
pub(crate) fn lower_matmul(
    dst: MatMut<'_, f64>,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    alpha: f64,
    accumulate: bool,
) {
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(
        dst,
        BlockStructure::TriangularLower,
        accum,
        lhs,
        BlockStructure::Rectangular,
        rhs,
        BlockStructure::Rectangular,
        alpha,
        Par::Seq,
    );
}

/// Copy the strict lower triangle of the leading `m x m` block of a column-major slice with
/// column stride `ld` onto its strict upper triangle.
pub(crate) fn mirror_lower(s: &mut [f64], ld: usize, m: usize) {
    for j in 0..m {
        for i in j + 1..m {
            s[j + i * ld] = s[i + j * ld];
        }
    }
}

/// Add the lower triangle of the `m x m` matrix `w` (column stride `ldw`) to that of the leading
/// `m x m` block of `s` (column stride `ld`), then mirror the block's lower triangle onto its
/// upper one.
pub(crate) fn add_lower_and_mirror(s: &mut [f64], ld: usize, w: &[f64], ldw: usize, m: usize) {
    for j in 0..m {
        let (col, wcol) = (&mut s[j * ld + j..j * ld + m], &w[j * ldw + j..j * ldw + m]);
        for (o, v) in col.iter_mut().zip(wcol) {
            *o += v;
        }
    }
    mirror_lower(s, ld, m);
}

/// `Σ a_i b_i` over the common length.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four partial sums let the loop vectorise (the order of a sum is free here).
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (ac, bc) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0; 4];
    for (x, y) in ac.zip(bc) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// `y += alpha · x`.
#[inline]
pub(crate) fn axpy(y: &mut [f64], alpha: f64, x: &[f64]) {
    for (o, v) in y.iter_mut().zip(x) {
        *o += alpha * v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{normal, rng};
    use faer::Mat;

    #[test]
    fn lower_matmul_matches_the_full_product_on_the_lower_triangle() {
        let mut r = rng(5);
        let (n, k) = (7, 5);
        let a = Mat::from_fn(n, k, |_, _| normal(&mut r));
        let b = Mat::from_fn(k, n, |_, _| normal(&mut r));
        let c0 = Mat::from_fn(n, n, |_, _| normal(&mut r));
        let mut c = c0.clone();
        lower_matmul(c.as_mut(), a.as_ref(), b.as_ref(), -2.0, true);
        let full = &c0 - (&a * &b) * 2.0;
        for j in 0..n {
            for i in 0..n {
                let want = if i >= j { full[(i, j)] } else { c0[(i, j)] };
                assert!((c[(i, j)] - want).abs() < 1e-12, "({i}, {j})");
            }
        }
        let mut s: Vec<f64> = (0..n * n).map(|k| c[(k % n, k / n)]).collect();
        mirror_lower(&mut s, n, n);
        for j in 0..n {
            for i in 0..n {
                assert_eq!(s[i + j * n], c[(i.max(j), i.min(j))]);
            }
        }
    }

    #[test]
    fn add_lower_and_mirror_adds_and_symmetrises() {
        let (ld, m) = (4, 3);
        let mut s: Vec<f64> = (0..ld * ld).map(|k| k as f64).collect();
        let w: Vec<f64> = (0..m * m).map(|k| 100.0 * k as f64).collect();
        let s0 = s.clone();
        add_lower_and_mirror(&mut s, ld, &w, m, m);
        for j in 0..m {
            for i in j..m {
                let want = s0[i + j * ld] + w[i + j * m];
                assert_eq!(s[i + j * ld], want);
                assert_eq!(s[j + i * ld], want);
            }
        }
        assert_eq!(s[3 + 3 * ld], s0[3 + 3 * ld]);
    }

    #[test]
    fn dot_and_axpy() {
        let a: Vec<f64> = (0..11).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..11).map(|i| 1.0 + 0.5 * i as f64).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot(&a, &b), want);
        let mut y = b.clone();
        axpy(&mut y, 2.0, &a);
        assert_eq!(y[10], b[10] + 20.0);
    }
}
