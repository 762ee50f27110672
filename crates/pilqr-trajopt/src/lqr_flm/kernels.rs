//! Small dense kernels of the passes on column-major slices: adding a lower triangle and
//! mirroring it, and short vector loops that are cheaper written out than dispatched to a
//! matmul. Products that fill one triangle are [`pilqr_linalg::lower_matmul_into`].

use faer::MatMut;
use pilqr_linalg::mirror_lower;

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
    mirror_lower(MatMut::from_column_major_slice_with_stride_mut(s, m, m, ld));
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

/// `y += M c` for the `y.len() x c.len()` column-major block `m` whose column k starts at
/// `m[k · ld]`; four columns per sweep over `y`.
#[inline]
pub(crate) fn add_matvec(y: &mut [f64], m: &[f64], ld: usize, c: &[f64]) {
    let len = y.len();
    let col = |k: usize| &m[k * ld..k * ld + len];
    let mut k = 0;
    while k + 4 <= c.len() {
        let (x0, x1, x2, x3) = (col(k), col(k + 1), col(k + 2), col(k + 3));
        let (c0, c1, c2, c3) = (c[k], c[k + 1], c[k + 2], c[k + 3]);
        for ((((o, a), b), c), d) in y.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3) {
            *o += (c0 * a + c1 * b) + (c2 * c + c3 * d);
        }
        k += 4;
    }
    for k in k..c.len() {
        axpy(y, c[k], col(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn add_matvec_matches_the_product() {
        for cols in 0..=9 {
            let len = 7;
            let m: Vec<f64> = (0..len * cols).map(|k| (k % 5) as f64 - 1.5).collect();
            let c: Vec<f64> = (0..cols).map(|k| 0.5 * k as f64 - 1.0).collect();
            let mut y: Vec<f64> = (0..len).map(|i| i as f64).collect();
            let want: Vec<f64> = (0..len)
                .map(|i| i as f64 + (0..cols).map(|k| m[i + k * len] * c[k]).sum::<f64>())
                .collect();
            add_matvec(&mut y, &m, len, &c);
            // The same columns inside a taller block (column stride 2·len).
            let wide: Vec<f64> = (0..cols)
                .flat_map(|k| (0..2 * len).map(move |r| (k, r)))
                .map(|(k, r)| if r < len { m[k * len + r] } else { f64::NAN })
                .collect();
            let mut z: Vec<f64> = (0..len).map(|i| i as f64).collect();
            add_matvec(&mut z, &wide, 2 * len, &c);
            assert_eq!(y, z);
            for (a, b) in y.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "{cols} columns: {a} vs {b}");
            }
        }
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
