//! A tiny anti-aliased rasteriser: filled circles, stadiums (projected capsules) and convex
//! polygons drawn through their signed distance, with a dark outline.

use crate::world::Rgb;

/// An RGB image, row-major, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    /// Width (pixels).
    pub width: u32,
    /// Height (pixels).
    pub height: u32,
    /// Pixels, `width · height · 3` bytes.
    pub rgb: Vec<u8>,
}

/// A filled 2-D shape in pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape2 {
    /// Disc: centre and radius.
    Circle([f32; 2], f32),
    /// All points within `r` of the segment `a → b`.
    Stadium([f32; 2], [f32; 2], f32),
    /// A convex polygon (any orientation, at least 3 vertices).
    Polygon(Vec<[f32; 2]>),
}

impl Canvas {
    /// A canvas filled with `background`.
    pub fn new(width: u32, height: u32, background: Rgb) -> Self {
        let mut rgb = Vec::with_capacity((width * height * 3) as usize);
        for _ in 0..width * height {
            rgb.extend_from_slice(&background);
        }
        Canvas { width, height, rgb }
    }

    /// Fill `shape` with `color`, outlined in a darker shade.
    pub fn fill(&mut self, shape: &Shape2, color: Rgb) {
        let outline = color.map(|c| (f32::from(c) * 0.55) as u8);
        let (lo, hi) = bounds(shape);
        let x0 = (lo[0] - 1.0).floor().max(0.0) as u32;
        let y0 = (lo[1] - 1.0).floor().max(0.0) as u32;
        let x1 = ((hi[0] + 2.0).ceil().max(0.0) as u32).min(self.width);
        let y1 = ((hi[1] + 2.0).ceil().max(0.0) as u32).min(self.height);
        let edges = match shape {
            Shape2::Polygon(v) => polygon_edges(v),
            _ => Vec::new(),
        };
        for y in y0..y1 {
            for x in x0..x1 {
                let p = [x as f32 + 0.5, y as f32 + 0.5];
                let d = match shape {
                    Shape2::Circle(c, r) => dist(p, *c) - r,
                    Shape2::Stadium(a, b, r) => segment_distance(p, *a, *b) - r,
                    Shape2::Polygon(_) => edges
                        .iter()
                        .map(|(v, n)| (p[0] - v[0]) * n[0] + (p[1] - v[1]) * n[1])
                        .fold(f32::NEG_INFINITY, f32::max),
                };
                let coverage = (0.5 - d).clamp(0.0, 1.0);
                if coverage <= 0.0 {
                    continue;
                }
                // Inside by more than ~1.2 px: body colour; the rim: outline colour.
                let t = (-d - 0.7).clamp(0.0, 1.0);
                let i = ((y * self.width + x) * 3) as usize;
                for k in 0..3 {
                    let c = f32::from(outline[k]) * (1.0 - t) + f32::from(color[k]) * t;
                    let old = f32::from(self.rgb[i + k]);
                    self.rgb[i + k] = (old * (1.0 - coverage) + c * coverage).round() as u8;
                }
            }
        }
    }
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

fn segment_distance(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let len2 = ab[0] * ab[0] + ab[1] * ab[1];
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    dist(p, [a[0] + t * ab[0], a[1] + t * ab[1]])
}

/// Each edge's start vertex and outward unit normal.
fn polygon_edges(v: &[[f32; 2]]) -> Vec<([f32; 2], [f32; 2])> {
    let n = v.len();
    let area: f32 = (0..n)
        .map(|i| {
            let (a, b) = (v[i], v[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum();
    let sign = if area >= 0.0 { 1.0 } else { -1.0 };
    (0..n)
        .filter_map(|i| {
            let (a, b) = (v[i], v[(i + 1) % n]);
            let e = [b[0] - a[0], b[1] - a[1]];
            let len = e[0].hypot(e[1]);
            (len > 1e-6).then(|| (a, [sign * e[1] / len, -sign * e[0] / len]))
        })
        .collect()
}

fn bounds(shape: &Shape2) -> ([f32; 2], [f32; 2]) {
    match shape {
        Shape2::Circle(c, r) => ([c[0] - r, c[1] - r], [c[0] + r, c[1] + r]),
        Shape2::Stadium(a, b, r) => (
            [a[0].min(b[0]) - r, a[1].min(b[1]) - r],
            [a[0].max(b[0]) + r, a[1].max(b[1]) + r],
        ),
        Shape2::Polygon(v) => v.iter().fold(
            ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]),
            |(lo, hi), p| {
                (
                    [lo[0].min(p[0]), lo[1].min(p[1])],
                    [hi[0].max(p[0]), hi[1].max(p[1])],
                )
            },
        ),
    }
}

/// Convex hull of 2-D points (monotone chain), counter-clockwise in a y-up frame.
pub fn convex_hull(points: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut p: Vec<[f32; 2]> = points.to_vec();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f32; 2]>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_circle_covers_its_area() {
        let mut c = Canvas::new(64, 64, [255; 3]);
        c.fill(&Shape2::Circle([32.0, 32.0], 10.0), [0, 0, 0]);
        let dark = c.rgb.chunks(3).filter(|p| p[0] < 128).count() as f32;
        let area = std::f32::consts::PI * 100.0;
        assert!((dark - area).abs() < 0.05 * area, "{dark} vs {area}");
        assert_eq!(&c.rgb[0..3], &[255, 255, 255]);
    }

    #[test]
    fn polygon_of_either_winding_fills_its_area() {
        for square in [
            vec![[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]],
            vec![[10.0, 10.0], [10.0, 30.0], [30.0, 30.0], [30.0, 10.0]],
        ] {
            let mut c = Canvas::new(40, 40, [255; 3]);
            c.fill(&Shape2::Polygon(square), [0, 0, 0]);
            let dark = c.rgb.chunks(3).filter(|p| p[0] < 128).count();
            assert!((dark as i64 - 400).abs() <= 40, "{dark}");
        }
    }

    #[test]
    fn hull_drops_interior_points() {
        let pts = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.5]];
        assert_eq!(convex_hull(&pts).len(), 4);
    }
}
