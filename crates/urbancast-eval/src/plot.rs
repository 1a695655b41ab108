//! Maps of per-region error (PNG via plotters; SVG too).
//!
//! Text needs a TrueType font: the first of `URBANCAST_FONT` or a few common system paths
//! (DejaVu/Liberation) is registered; without one the map is drawn without labels.
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

/// Where regions sit on the map.
#[derive(Debug, Clone)]
pub enum MapLayout {
    /// A regular grid; region `r = row * width + col`, row 0 drawn at the top.
    Grid {
        /// Number of grid rows.
        height: usize,
        /// Number of grid columns.
        width: usize,
    },
    /// Zones with coordinates (x = lon, y = lat).
    Points(Vec<(f64, f64)>),
    /// Zones without coordinates: drawn as tiles in index order.
    Tiles,
}

pub(crate) fn font_available() -> bool {
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(|| {
        let mut candidates: Vec<String> = std::env::var("URBANCAST_FONT").into_iter().collect();
        candidates.extend(
            [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                "/Library/Fonts/Arial.ttf",
                "C:\\Windows\\Fonts\\arial.ttf",
            ]
            .map(String::from),
        );
        for p in candidates {
            if let Ok(bytes) = std::fs::read(&p) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

pub(crate) fn err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow!("cannot draw {}: {e:?}", path.display())
}

/// Draws `values` (one per region; `NaN` = inactive, drawn grey) as a map with a colour bar.
/// The format follows the extension: `.png` or `.svg`.
pub fn region_map(path: &Path, title: &str, layout: &MapLayout, values: &[f64]) -> Result<()> {
    region_maps(path, layout, &[Panel { title, label: "test RMSE", values }])
}

/// One map of a figure: title, colour-bar label, one value per region (`NaN` = inactive).
pub struct Panel<'a> {
    /// Caption above the map.
    pub title: &'a str,
    /// Label of the colour bar (what the values measure).
    pub label: &'a str,
    /// One value per region, in region order; `NaN` marks an inactive region.
    pub values: &'a [f64],
}

/// Several maps of the same regions side by side, each with its own colour bar.
pub fn region_maps(path: &Path, layout: &MapLayout, panels: &[Panel]) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let size = (900 * panels.len().max(1) as u32, 720u32);
    urbancast_io::with_temp(path, |tmp| match ext.as_str() {
        "svg" => draw_all(SVGBackend::new(tmp, size).into_drawing_area(), path, layout, panels),
        "png" => draw_all(BitMapBackend::new(tmp, size).into_drawing_area(), path, layout, panels),
        _ => Err(anyhow!("{}: plot files must end in .png or .svg", path.display())),
    })
}

fn draw_all<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, path: &Path, layout: &MapLayout, panels: &[Panel]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err(path))?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, p) in areas.into_iter().zip(panels) {
        draw(area, path, p.title, p.label, layout, p.values)?;
    }
    root.present().map_err(err(path))?;
    Ok(())
}

/// Colour-bar tick text with as many decimals as the range needs.
fn tick(v: f64, lo: f64, hi: f64) -> String {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    if span < 1e-3 || hi.abs() >= 1e6 {
        format!("{v:.2e}")
    } else {
        let decimals = (2.0 - span.log10().floor()).clamp(0.0, 6.0) as usize;
        format!("{v:.decimals$}")
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    path: &Path,
    title: &str,
    bar_label: &str,
    layout: &MapLayout,
    values: &[f64],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let text = font_available();
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if finite.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo, lo + 1.0)
    };
    let colour = |v: f64| -> RGBColor { if v.is_finite() { ViridisRGB::get_color_normalized(v, lo, hi) } else { RGBColor(200, 200, 200) } };
    let (map_area, bar_area) = root.split_horizontally(730);
    let mut builder = ChartBuilder::on(&map_area);
    builder.margin(15);
    if text {
        builder.caption(title, ("sans-serif", 22)).x_label_area_size(30).y_label_area_size(40);
    }
    match layout {
        MapLayout::Grid { height, width } => {
            let (h, w) = (*height, *width);
            let mut chart = builder.build_cartesian_2d(0f64..w as f64, 0f64..h as f64).map_err(err(path))?;
            if text {
                let hf = h as f64;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels((w + 1).min(16))
                    .y_labels((h + 1).min(16))
                    .x_desc("column")
                    .y_desc("row")
                    .x_label_formatter(&|x| format!("{:.0}", x))
                    .y_label_formatter(&|y| format!("{:.0}", hf - y))
                    .draw()
                    .map_err(err(path))?;
            }
            chart
                .draw_series((0..h * w).map(|r| {
                    let (row, col) = (r / w, r % w);
                    // Row 0 at the top, as the array is printed.
                    let y0 = (h - 1 - row) as f64;
                    Rectangle::new([(col as f64, y0), (col as f64 + 1.0, y0 + 1.0)], colour(values[r]).filled())
                }))
                .map_err(err(path))?;
        }
        MapLayout::Points(pts) => {
            let xs = pts.iter().map(|p| p.0);
            let ys = pts.iter().map(|p| p.1);
            let (x0, x1) = (xs.clone().fold(f64::INFINITY, f64::min), xs.fold(f64::NEG_INFINITY, f64::max));
            let (y0, y1) = (ys.clone().fold(f64::INFINITY, f64::min), ys.fold(f64::NEG_INFINITY, f64::max));
            let pad = |a: f64, b: f64| ((b - a) * 0.05).max(1e-6);
            let (px, py) = (pad(x0, x1), pad(y0, y1));
            let mut chart = builder.build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py).map_err(err(path))?;
            if text {
                chart.configure_mesh().disable_mesh().draw().map_err(err(path))?;
            }
            chart.draw_series(pts.iter().zip(values).map(|(p, v)| Circle::new(*p, 9, colour(*v).filled()))).map_err(err(path))?;
        }
        MapLayout::Tiles => {
            let n = values.len().max(1);
            let w = (n as f64).sqrt().ceil() as usize;
            let h = n.div_ceil(w);
            let mut chart = builder.build_cartesian_2d(0f64..w as f64, 0f64..h as f64).map_err(err(path))?;
            chart
                .draw_series(values.iter().enumerate().map(|(r, v)| {
                    let (row, col) = (r / w, r % w);
                    let y0 = (h - 1 - row) as f64;
                    Rectangle::new([(col as f64 + 0.05, y0 + 0.05), (col as f64 + 0.95, y0 + 0.95)], colour(*v).filled())
                }))
                .map_err(err(path))?;
        }
    }
    // Colour bar.
    let mut bar = ChartBuilder::on(&bar_area);
    bar.margin_top(50).margin_bottom(40).margin_left(8).margin_right(4);
    if text {
        bar.right_y_label_area_size(112);
    }
    let mut chart = bar.build_cartesian_2d(0f64..1.0, lo..hi).map_err(err(path))?;
    if text {
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(8)
            .y_label_style(("sans-serif", 15))
            .y_label_formatter(&|v| tick(*v, lo, hi))
            .axis_desc_style(("sans-serif", 16))
            .y_desc(bar_label)
            .draw()
            .map_err(err(path))?;
    }
    let steps = 100;
    chart
        .draw_series((0..steps).map(|i| {
            let a = lo + (hi - lo) * i as f64 / steps as f64;
            let b = lo + (hi - lo) * (i + 1) as f64 / steps as f64;
            Rectangle::new([(0.0, a), (1.0, b)], colour((a + b) / 2.0).filled())
        }))
        .map_err(err(path))?;
    Ok(())
}
