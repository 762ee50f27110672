//! Learning curves in the style of the paper's figures: a metric against samples, one line per
//! method (the mean over seeds) with a band of its 95 % bootstrap confidence interval at every
//! iteration (see [`crate::report::statistics`]), written as SVG and PNG with plotters.
//!
//! Text is set in DejaVu Sans, embedded in the binary (the `dejavu` crate) and registered with
//! plotters' ab_glyph backend, so plots render the same on a machine without any system fonts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use thiserror::Error;

use crate::report::statistics::mean_estimate;
use crate::run::metrics_log::MetricsRow;

/// The font family name the plots use.
const FONT: &str = "sans-serif";

/// Plot size in pixels.
const SIZE: (u32, u32) = (800, 500);

/// What can go wrong when plotting.
#[derive(Debug, Clone, Error)]
pub enum PlotError {
    /// The embedded font could not be registered.
    #[error("the embedded plot font is not a valid TrueType font")]
    Font,
    /// There is nothing to plot.
    #[error("{}: no data to plot", path.display())]
    Empty {
        /// The plot that would have been written.
        path: PathBuf,
    },
    /// Drawing or writing the file failed.
    #[error("{}: cannot draw the plot: {message}", path.display())]
    Draw {
        /// The file.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
}

/// Register the embedded font with plotters (once per process).
pub fn register_fonts() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// One point of a curve: the mean over seeds and its band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// Samples per condition used so far.
    pub x: f64,
    /// Mean over seeds.
    pub mean: f64,
    /// Lower end of the mean's 95 % bootstrap interval (the mean itself with one seed).
    pub lo: f64,
    /// Upper end of the mean's 95 % bootstrap interval (the mean itself with one seed).
    pub hi: f64,
}

/// The curve of one method.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend label (the method).
    pub label: String,
    /// Points in increasing `x`.
    pub points: Vec<CurvePoint>,
}

/// Which metric a plot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Mean sample cost, averaged over conditions.
    Cost,
    /// Success rate, averaged over conditions.
    SuccessRate,
    /// The task's success metric (e.g. final distance to the target), averaged over
    /// conditions; rows without one are skipped.
    SuccessMetric,
}

impl Metric {
    fn of(self, row: &MetricsRow) -> Option<f64> {
        match self {
            Metric::Cost => Some(row.mean_cost),
            Metric::SuccessRate => Some(row.success_rate),
            Metric::SuccessMetric => row.metric,
        }
    }

    /// Axis label.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Cost => "mean cost",
            Metric::SuccessRate => "success rate",
            Metric::SuccessMetric => "success metric (e.g. final distance)",
        }
    }
}

/// Per seed of one (method, iteration): (sum of the metric over conditions, conditions, samples).
type SeedAcc = (f64, usize, usize);

/// Average `metric` over conditions for each (method, seed, iteration), then summarise over seeds
/// (mean and its 95 % bootstrap interval) for each (method, iteration). Methods keep their order
/// of first appearance.
pub fn curves_from_metrics(rows: &[MetricsRow], metric: Metric) -> Vec<Curve> {
    let mut order: Vec<String> = Vec::new();
    let mut acc: BTreeMap<&str, BTreeMap<usize, BTreeMap<u64, SeedAcc>>> = BTreeMap::new();
    for r in rows {
        let Some(value) = metric.of(r) else {
            continue;
        };
        if !order.contains(&r.method) {
            order.push(r.method.clone());
        }
        let e = acc
            .entry(&r.method)
            .or_default()
            .entry(r.iteration)
            .or_default()
            .entry(r.seed)
            .or_insert((0.0, 0, r.samples));
        e.0 += value;
        e.1 += 1;
        e.2 = e.2.max(r.samples);
    }
    order
        .into_iter()
        .map(|method| {
            let points = acc[method.as_str()]
                .values()
                .map(|seeds| {
                    let values: Vec<f64> = seeds.values().map(|&(s, n, _)| s / n as f64).collect();
                    let x = seeds.values().map(|&(_, _, x)| x).max().unwrap_or(0) as f64;
                    let e = mean_estimate(&values);
                    let (lo, hi) = e.interval.map_or((e.mean, e.mean), |i| (i.lo, i.hi));
                    CurvePoint {
                        x,
                        mean: e.mean,
                        lo,
                        hi,
                    }
                })
                .collect();
            Curve {
                label: method,
                points,
            }
        })
        .collect()
}

/// Write `<stem>.svg` and `<stem>.png` showing `curves`; returns the two paths.
pub fn plot_curves(
    stem: &Path,
    title: &str,
    y_label: &str,
    curves: &[Curve],
) -> Result<[PathBuf; 2], PlotError> {
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    let finite = |v: f64| v.is_finite();
    let pts = curves.iter().flat_map(|c| c.points.iter());
    let xs: Vec<f64> = pts.clone().map(|p| p.x).filter(|v| finite(*v)).collect();
    let ys: Vec<f64> = pts
        .flat_map(|p| [p.lo, p.hi, p.mean])
        .filter(|v| finite(*v))
        .collect();
    if xs.is_empty() || ys.is_empty() {
        return Err(PlotError::Empty { path: svg });
    }
    register_fonts()?;
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = if hi > lo {
            0.05 * (hi - lo)
        } else {
            0.5 * lo.abs().max(1.0)
        };
        (lo - pad)..(hi + pad)
    };
    // Falling curves leave the upper right free, rising ones the upper left.
    let rising = curves
        .iter()
        .filter_map(|c| Some(c.points.last()?.mean - c.points.first()?.mean))
        .sum::<f64>()
        > 0.0;
    let frame = Frame {
        legend: if rising {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::UpperRight
        },
        title,
        y_label,
        x: range(&xs),
        y: range(&ys),
        curves,
    };
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| PlotError::Draw { path, message }
    };
    frame
        .draw(SVGBackend::new(&svg, SIZE).into_drawing_area())
        .map_err(err(&svg))?;
    frame
        .draw(BitMapBackend::new(&png, SIZE).into_drawing_area())
        .map_err(err(&png))?;
    Ok([svg, png])
}

/// Colours of successive methods (colour-blind-friendly palette).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// Everything a plot needs, drawn the same on every backend.
struct Frame<'a> {
    legend: SeriesLabelPosition,
    title: &'a str,
    y_label: &'a str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    curves: &'a [Curve],
}

impl Frame<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, (FONT, title_size(self.title)))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(self.x.clone(), self.y.clone())
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("samples per condition")
            .y_desc(self.y_label)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style((FONT, 14))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(e)?;
        for (i, curve) in self.curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let band: Vec<(f64, f64)> = curve
                .points
                .iter()
                .map(|p| (p.x, p.hi))
                .chain(curve.points.iter().rev().map(|p| (p.x, p.lo)))
                .collect();
            if curve.points.iter().any(|p| p.hi > p.lo) {
                chart
                    .draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))
                    .map_err(e)?;
            }
            chart
                .draw_series(LineSeries::new(
                    curve.points.iter().map(|p| (p.x, p.mean)),
                    color.stroke_width(2),
                ))
                .map_err(e)?
                .label(curve.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(self.legend.clone())
            .draw()
            .map_err(e)?;
        root.present().map_err(e)
    }
}

/// Caption font size: 22 px, smaller for long titles so they fit the 800 px width
/// (DejaVu Sans averages about 0.55 em per character).
fn title_size(title: &str) -> u32 {
    let chars = title.chars().count().max(1) as f64;
    (760.0 / (0.55 * chars)).clamp(12.0, 22.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::metrics_log::TimeSplit;
    use crate::test_dir::TestDir;

    fn row(method: &str, seed: u64, iteration: usize, condition: usize, cost: f64) -> MetricsRow {
        MetricsRow {
            method: method.into(),
            seed,
            iteration,
            condition,
            condition_name: String::new(),
            samples: 20 * (iteration + 1),
            mean_cost: cost,
            std_cost: 0.0,
            success_rate: if cost < 5.0 { 1.0 } else { 0.0 },
            kl: None,
            eta: None,
            step_mult: None,
            residual_ratio: None,
            time: TimeSplit::default(),
            split: pilqr_core::Split::Train,
            metric: Some(cost / 10.0),
        }
    }

    #[test]
    fn aggregates_over_conditions_then_seeds() {
        let rows = vec![
            row("pilqr", 0, 0, 0, 10.0),
            row("pilqr", 0, 0, 1, 20.0),
            row("pilqr", 1, 0, 0, 30.0),
            row("pilqr", 1, 0, 1, 40.0),
            row("pi2", 0, 0, 0, 8.0),
            row("pilqr", 0, 1, 0, 2.0),
            row("pilqr", 0, 1, 1, 4.0),
        ];
        let curves = curves_from_metrics(&rows, Metric::Cost);
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[0].label, "pilqr");
        // Seed 0 averages 15, seed 1 averages 35; with two seeds the interval of the mean
        // spans them (resample means 15, 25, 35 with probabilities ¼, ½, ¼).
        assert_eq!(
            curves[0].points[0],
            CurvePoint {
                x: 20.0,
                mean: 25.0,
                lo: 15.0,
                hi: 35.0
            }
        );
        assert_eq!(curves[0].points[1].mean, 3.0);
        // One seed at iteration 1: no band.
        assert_eq!((curves[0].points[1].lo, curves[0].points[1].hi), (3.0, 3.0));
        assert_eq!(curves[1].points.len(), 1);
        let success = curves_from_metrics(&rows, Metric::SuccessRate);
        assert_eq!(success[0].points[1].mean, 1.0);
    }

    #[test]
    fn writes_svg_and_png_with_text() {
        let dir = TestDir::new("plot");
        let rows: Vec<MetricsRow> = (0..5)
            .flat_map(|i| {
                [
                    row("pilqr", 0, i, 0, 50.0 / (i + 1) as f64),
                    row("pilqr", 1, i, 0, 60.0 / (i + 1) as f64),
                    row("lqr-flm", 0, i, 0, 55.0 - i as f64),
                ]
            })
            .collect();
        let curves = curves_from_metrics(&rows, Metric::Cost);
        let [svg, png] =
            plot_curves(&dir.path().join("cost"), "cost", "mean cost", &curves).unwrap();
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(svg_text.contains("<svg"));
        assert!(svg_text.contains("lqr-flm"));
        assert!(svg_text.contains("samples per condition"));
        let png_bytes = std::fs::read(&png).unwrap();
        assert_eq!(&png_bytes[1..4], b"PNG");
    }

    #[test]
    fn empty_data_is_an_error() {
        let err = plot_curves(Path::new("x/cost"), "t", "y", &[]).unwrap_err();
        assert!(matches!(err, PlotError::Empty { .. }));
    }
}
