//! Serde for a dense `faer::Mat<f64>` as `{ rows, cols, data }` (column-major), validated.

use faer::Mat;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
struct RawMat {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

pub(crate) fn serialize<S: Serializer>(m: &Mat<f64>, s: S) -> Result<S::Ok, S::Error> {
    let mut data = Vec::with_capacity(m.nrows() * m.ncols());
    for j in 0..m.ncols() {
        data.extend_from_slice(m.col_as_slice(j));
    }
    RawMat {
        rows: m.nrows(),
        cols: m.ncols(),
        data,
    }
    .serialize(s)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Mat<f64>, D::Error> {
    let r = RawMat::deserialize(d)?;
    let expected = r.rows.checked_mul(r.cols);
    if expected != Some(r.data.len()) {
        return Err(serde::de::Error::custom(format!(
            "matrix of {}x{} needs {} values, got {}",
            r.rows,
            r.cols,
            expected.map_or("too many".to_string(), |v| v.to_string()),
            r.data.len()
        )));
    }
    Ok(Mat::from_fn(r.rows, r.cols, |i, j| r.data[j * r.rows + i]))
}
