//! Line plots of forecast series against the truth, one row per panel (PNG or SVG via plotters).
//!
//! Text needs a TrueType font: the first of `URBANCAST_FONT` or a few common system paths is
//! registered; without one the plot is drawn without labels or legend text.
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One row of a series plot: the truth and any number of named predictions (same x axis).
#[derive(Debug, Clone)]
pub struct SeriesPanel {
    /// Panel title, e.g. `"sensor 17"`.
    pub title: String,
    /// The observed series (drawn black; none when empty, e.g. for training curves).
    pub truth: Vec<f32>,
    /// `(label, series)` per model, each drawn in its own colour.
    pub preds: Vec<(String, Vec<f32>)>,
}

use crate::plot::{err, font_available};

/// Draws `panels` one above the other under `title`: truth in black, each prediction in a
/// palette colour, with a legend. The format follows the extension (`.png` or `.svg`). Fails on
/// no panels, an unknown extension or a drawing error.
pub fn series_plot(path: &Path, title: &str, panels: &[SeriesPanel], x_label: &str, y_label: &str) -> Result<()> {
    if panels.is_empty() {
        bail!("{}: nothing to plot (no panels)", path.display());
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let size = (1100u32, 60 + 300 * panels.len() as u32);
    urbancast_io::with_temp(path, |tmp| match ext.as_str() {
        "svg" => draw_all(SVGBackend::new(tmp, size).into_drawing_area(), path, title, panels, (x_label, y_label)),
        "png" => draw_all(BitMapBackend::new(tmp, size).into_drawing_area(), path, title, panels, (x_label, y_label)),
        _ => Err(anyhow!("{}: plot files must end in .png or .svg", path.display())),
    })
}

fn draw_all<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    path: &Path,
    title: &str,
    panels: &[SeriesPanel],
    labels: (&str, &str),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err(path))?;
    let root = if font_available() { root.titled(title, ("sans-serif", 24)).map_err(err(path))? } else { root };
    for (area, p) in root.split_evenly((panels.len(), 1)).into_iter().zip(panels) {
        draw(area, path, p, labels)?;
    }
    root.present().map_err(err(path))?;
    Ok(())
}

fn draw<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, path: &Path, p: &SeriesPanel, labels: (&str, &str)) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let text = font_available();
    let all = p.truth.iter().chain(p.preds.iter().flat_map(|(_, s)| s.iter()));
    let finite: Vec<f64> = all.map(|&v| v as f64).filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if finite.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    };
    let pad = (hi - lo) * 0.05;
    let len = p.preds.iter().map(|(_, s)| s.len()).chain([p.truth.len()]).max().unwrap_or(0).max(2);
    let mut builder = ChartBuilder::on(&area);
    builder.margin(12);
    if text {
        builder.caption(&p.title, ("sans-serif", 18)).x_label_area_size(35).y_label_area_size(55);
    }
    let mut chart = builder.build_cartesian_2d(0f64..(len - 1) as f64, lo - pad..hi + pad).map_err(err(path))?;
    if text {
        chart.configure_mesh().x_desc(labels.0).y_desc(labels.1).light_line_style(RGBColor(235, 235, 235)).draw().map_err(err(path))?;
    }
    let points = |s: &[f32]| -> Vec<(f64, f64)> {
        s.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| (i as f64, v as f64)).collect()
    };
    if !p.truth.is_empty() {
        let truth = chart.draw_series(LineSeries::new(points(&p.truth), BLACK.stroke_width(2))).map_err(err(path))?;
        truth.label("truth").legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    }
    for (k, (label, s)) in p.preds.iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        let series = chart.draw_series(LineSeries::new(points(s), colour.stroke_width(2))).map_err(err(path))?;
        series.label(label.as_str()).legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err(path))?;
    }
    Ok(())
}
