//! The three histograms (trip distance, radius of gyration, step duration), real vs generated,
//! side by side (PNG or SVG via plotters).
use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Histogram, Histograms};
use crate::plot::{err, font_available};

/// Draws the histograms of `h` as three panels. The real histogram is drawn in blue, the
/// generated one in red (both translucent); the overflow bin (values above the real maximum) is
/// drawn one bin width right of the maximum. The format follows the extension.
pub fn histograms_plot(path: &Path, h: &Histograms) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let size = (1650u32, 520u32);
    urbancast_io::with_temp(path, |tmp| match ext.as_str() {
        "svg" => draw_all(SVGBackend::new(tmp, size).into_drawing_area(), path, h),
        "png" => draw_all(BitMapBackend::new(tmp, size).into_drawing_area(), path, h),
        _ => Err(anyhow!("{}: plot files must end in .png or .svg", path.display())),
    })
}

fn draw_all<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, path: &Path, h: &Histograms) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err(path))?;
    for (area, hist) in root.split_evenly((1, 3)).into_iter().zip([&h.distance, &h.radius, &h.duration]) {
        draw(area, path, hist)?;
    }
    root.present().map_err(err(path))?;
    Ok(())
}

/// `[x0, x1]` of bin `k` (the last one is the overflow bin).
fn bin_span(edges: &[f64], k: usize) -> (f64, f64) {
    let bins = edges.len() - 1;
    let width = if edges[bins] > 0.0 { edges[bins] / bins as f64 } else { 1.0 };
    if k < bins { (edges[k], edges[k + 1].max(edges[k] + width * 1e-9)) } else { (edges[bins], edges[bins] + width) }
}

fn draw<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, path: &Path, h: &Histogram) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let text = font_available();
    let title = format!("{} — JSD {:.4}", h.name, h.jsd);
    let mut builder = ChartBuilder::on(&area);
    builder.margin(15);
    if text {
        builder.caption(&title, ("sans-serif", 20)).x_label_area_size(40).y_label_area_size(60);
    }
    if h.edges.len() < 2 {
        // No real values: an empty frame with the title.
        builder.build_cartesian_2d(0f64..1.0, 0f64..1.0).map_err(err(path))?;
        return Ok(());
    }
    let n = h.real.len();
    let x_max = bin_span(&h.edges, n - 1).1;
    let y_max = h.real.iter().chain(&h.generated).copied().fold(0.0, f64::max).max(1e-12) * 1.08;
    let mut chart = builder.build_cartesian_2d(0f64..x_max, 0f64..y_max).map_err(err(path))?;
    if text {
        let name = h.name.clone();
        chart.configure_mesh().disable_x_mesh().x_desc(name).y_desc("share").draw().map_err(err(path))?;
    }
    for (values, colour, label) in [(&h.real, BLUE, "real"), (&h.generated, RED, "generated")] {
        let series = chart
            .draw_series(values.iter().enumerate().map(|(k, &v)| {
                let (x0, x1) = bin_span(&h.edges, k);
                Rectangle::new([(x0, 0.0), (x1, v)], colour.mix(0.4).filled())
            }))
            .map_err(err(path))?;
        if text {
            series.label(label).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.mix(0.4).filled()));
        }
    }
    if text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err(path))?;
    }
    Ok(())
}
