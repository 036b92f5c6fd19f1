//! Charts as bytes (SVG text or PNG), drawn with plotters. No file is written here: the caller decides
//! where the bytes go. Text needs a TrueType font, which the caller supplies (see [`register_font`]).

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, ErrorKind};
use crate::expenditure::{Assessment, Guideline, Trend};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 700;
const FONT: &str = "sans-serif";

fn chart_err(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Chart(e.to_string()))
}

/// Registers the font used for all chart text. Must be called once before drawing.
pub fn register_font(ttf: &'static [u8]) -> Result<(), Error> {
    plotters::style::register_font(FONT, FontStyle::Normal, ttf)
        .map_err(|_| chart_err("the font data is not a usable TrueType font"))
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];
const MET: RGBColor = RGBColor(44, 130, 80);
const BELOW: RGBColor = RGBColor(200, 80, 60);
const ASSUMED: RGBColor = RGBColor(120, 120, 200);

fn render(
    format: Format,
    draw: impl Fn(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), Error>,
    draw_png: impl Fn(DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), Error>,
) -> Result<Vec<u8>, Error> {
    match format {
        Format::Svg => {
            let mut out = String::new();
            {
                let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
                draw(root)?;
            }
            Ok(out.into_bytes())
        }
        Format::Png => {
            let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
            {
                let root =
                    BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
                draw_png(root)?;
            }
            encode_png(&buf)
        }
    }
}

fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(chart_err)?;
        writer.write_image_data(rgb).map_err(chart_err)?;
    }
    Ok(out)
}

/// Bars of each ally's share of GDP in the assessment's year, sorted high to low, coloured by whether
/// the lowest guideline is met, with a dashed line at each assessable guideline.
pub fn guideline_chart(
    assessment: &Assessment,
    guidelines: &[Guideline],
    format: Format,
) -> Result<Vec<u8>, Error> {
    render(
        format,
        |root| draw_guideline(root, assessment, guidelines),
        |root| draw_guideline(root, assessment, guidelines),
    )
}

fn draw_guideline<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    assessment: &Assessment,
    guidelines: &[Guideline],
) -> Result<(), Error> {
    let mut rows: Vec<_> = assessment.standings.iter().collect();
    rows.sort_by(|a, b| {
        b.pct_gdp
            .total_cmp(&a.pct_gdp)
            .then(a.nation.cmp(&b.nation))
    });
    let lines: Vec<&Guideline> = guidelines.iter().filter(|g| g.assessable()).collect();
    let lowest = lines
        .iter()
        .map(|g| g.threshold_pct)
        .fold(f64::INFINITY, f64::min);
    let top = rows
        .iter()
        .map(|r| r.pct_gdp)
        .chain(lines.iter().map(|g| g.threshold_pct))
        .fold(0.0, f64::max);
    let y_max = (top * 1.15).max(1.0);
    let n = rows.len().max(1);
    root.fill(&WHITE).map_err(chart_err)?;
    let estimates = rows.iter().any(|r| r.estimate);
    let title = format!(
        "Defence expenditure, % of GDP, {}{}",
        assessment.year,
        if estimates { " (NATO estimates)" } else { "" }
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n as f64, 0f64..y_max)
        .map_err(chart_err)?;
    let labels: Vec<String> = rows.iter().map(|r| r.nation.to_string()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (*x - i as f64 - 0.5).abs() < 1e-6 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_style((FONT, 13).into_font().transform(FontTransform::Rotate90))
        .y_desc("% of GDP")
        .y_label_style((FONT, 15))
        .axis_desc_style((FONT, 18))
        .draw()
        .map_err(chart_err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            let colour = if r.assumed {
                ASSUMED
            } else if r.pct_gdp >= lowest - 1e-9 {
                MET
            } else {
                BELOW
            };
            Rectangle::new(
                [(i as f64 + 0.12, 0.0), (i as f64 + 0.88, r.pct_gdp)],
                colour.filled(),
            )
        }))
        .map_err(chart_err)?;
    for (k, g) in lines.iter().enumerate() {
        let colour = PALETTE[(k + 3) % PALETTE.len()];
        let y = g.threshold_pct;
        let dashes = (0..n * 2).map(move |j| {
            let x0 = j as f64 * 0.5;
            PathElement::new(vec![(x0, y), (x0 + 0.3, y)], colour.stroke_width(2))
        });
        chart
            .draw_series(dashes)
            .map_err(chart_err)?
            .label(format!("{} ({}%)", g.name, g.threshold_pct))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(0.0, 0.0), (0.0, 0.0)],
            MET.filled(),
        )))
        .map_err(chart_err)?
        .label(format!("meets {lowest}%"))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], MET.filled()));
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(0.0, 0.0), (0.0, 0.0)],
            BELOW.filled(),
        )))
        .map_err(chart_err)?
        .label(format!("below {lowest}%"))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], BELOW.filled()));
    if rows.iter().any(|r| r.assumed) {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, 0.0), (0.0, 0.0)],
                ASSUMED.filled(),
            )))
            .map_err(chart_err)?
            .label("what-if value")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], ASSUMED.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(chart_err)?;
    root.present().map_err(chart_err)?;
    Ok(())
}

/// One line per ally over the years held, with dashed lines at the assessable guidelines.
pub fn trend_chart(
    trends: &[Trend],
    guidelines: &[Guideline],
    format: Format,
) -> Result<Vec<u8>, Error> {
    if trends.is_empty() {
        return Err(chart_err("no series to draw"));
    }
    render(
        format,
        |root| draw_trend(root, trends, guidelines),
        |root| draw_trend(root, trends, guidelines),
    )
}

fn draw_trend<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    trends: &[Trend],
    guidelines: &[Guideline],
) -> Result<(), Error> {
    let years = trends.iter().flat_map(|t| t.points.iter().map(|p| p.year));
    let (mut y0, mut y1) = (i32::MAX, i32::MIN);
    for y in years {
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let lines: Vec<&Guideline> = guidelines.iter().filter(|g| g.assessable()).collect();
    let top = trends
        .iter()
        .flat_map(|t| t.points.iter().map(|p| p.pct_gdp))
        .chain(lines.iter().map(|g| g.threshold_pct))
        .fold(0.0, f64::max);
    root.fill(&WHITE).map_err(chart_err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Defence expenditure, % of GDP, by year", (FONT, 28))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d((y0 - 1)..(y1 + 1), 0f64..(top * 1.15).max(1.0))
        .map_err(chart_err)?;
    chart
        .configure_mesh()
        .x_labels(((y1 - y0) as usize + 3).min(20))
        .x_label_formatter(&|y| y.to_string())
        .x_desc("year (latest NATO edition holding each point)")
        .y_desc("% of GDP")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 18))
        .draw()
        .map_err(chart_err)?;
    for (k, g) in lines.iter().enumerate() {
        let colour = PALETTE[(k + 3) % PALETTE.len()].mix(0.8);
        let y = g.threshold_pct;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(y0 - 1, y), (y1 + 1, y)],
                colour.stroke_width(1),
            )))
            .map_err(chart_err)?
            .label(format!("{} ({}%)", g.name, g.threshold_pct))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(1))
            });
    }
    for (k, t) in trends.iter().enumerate() {
        let colour = if trends.len() <= PALETTE.len() {
            PALETTE[k]
        } else {
            // Many allies: spread hues so that neighbours stay distinguishable.
            let hsl = HSLColor(k as f64 / trends.len() as f64, 0.65, 0.45);
            let (r, g, b) = hsl.rgb();
            RGBColor(r, g, b)
        };
        let pts: Vec<(i32, f64)> = t.points.iter().map(|p| (p.year, p.pct_gdp)).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
            .map_err(chart_err)?
            .label(t.nation.to_string())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, colour.filled())))
            .map_err(chart_err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(chart_err)?;
    root.present().map_err(chart_err)?;
    Ok(())
}
