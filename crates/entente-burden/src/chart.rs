//! Charts as bytes (SVG text or PNG), drawn with plotters. No file is written here: the caller decides
//! where the bytes go. Text needs a TrueType font, which the caller supplies (see [`register_font`]).

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, ErrorKind};
use entente_types::NationCode;

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
/// Guideline lines: dark and neutral so they never match an ally's series colour.
const GUIDE: [RGBColor; 2] = [RGBColor(20, 20, 20), RGBColor(110, 110, 110)];

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
    let n = i32::try_from(rows.len().max(1)).map_err(chart_err)?;
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
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n).into_segmented(), 0f64..y_max)
        .map_err(chart_err)?;
    let labels: Vec<String> = rows.iter().map(|r| r.nation.to_string()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len().max(1))
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| labels.get(i))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_style((FONT, 12))
        .y_desc("% of GDP")
        .y_label_style((FONT, 15))
        .axis_desc_style((FONT, 18))
        .draw()
        .map_err(chart_err)?;
    chart
        .draw_series(rows.iter().zip(0..).map(|(r, i)| {
            let colour = if r.assumed {
                ASSUMED
            } else if r.pct_gdp >= lowest - 1e-9 {
                MET
            } else {
                BELOW
            };
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), r.pct_gdp),
                ],
                colour.filled(),
            );
            bar.set_margin(0, 0, 4, 4);
            bar
        }))
        .map_err(chart_err)?;
    for (k, g) in lines.iter().enumerate() {
        let colour = GUIDE[k % GUIDE.len()];
        let y = g.threshold_pct;
        // Dashed: one stroke in the left half of every bar slot.
        let dashes = (0..n).map(move |i| {
            PathElement::new(
                vec![(SegmentValue::Exact(i), y), (SegmentValue::CenterOf(i), y)],
                colour.stroke_width(2),
            )
        });
        chart
            .draw_series(dashes)
            .map_err(chart_err)?
            .label(format!("{} ({}%)", g.name, g.threshold_pct))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    let mut keys = vec![
        (MET, format!("meets {lowest}%")),
        (BELOW, format!("below {lowest}%")),
    ];
    if rows.iter().any(|r| r.assumed) {
        keys.push((ASSUMED, "what-if value".to_owned()));
    }
    for (colour, label) in keys {
        chart
            .draw_series(std::iter::empty::<Rectangle<(SegmentValue<i32>, f64)>>())
            .map_err(chart_err)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
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
    trend_chart_in(trends, guidelines, None, format)
}

/// Like [`trend_chart`], for trends taken from one edition (named in the axis description);
/// `None`: the latest edition holding each year.
pub fn trend_chart_in(
    trends: &[Trend],
    guidelines: &[Guideline],
    edition: Option<&str>,
    format: Format,
) -> Result<Vec<u8>, Error> {
    if trends.is_empty() {
        return Err(chart_err("no series to draw"));
    }
    render(
        format,
        |root| draw_trend(root, trends, guidelines, edition),
        |root| draw_trend(root, trends, guidelines, edition),
    )
}

fn draw_trend<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    trends: &[Trend],
    guidelines: &[Guideline],
    edition: Option<&str>,
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
        .x_desc(match edition {
            Some(e) => format!("year; dots are published values (NATO edition {e}), lines join them"),
            None => "year; dots are published values (latest NATO edition holding each), lines join them".to_owned(),
        })
        .y_desc("% of GDP")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 18))
        .draw()
        .map_err(chart_err)?;
    for (k, g) in lines.iter().enumerate() {
        let colour = GUIDE[k % GUIDE.len()];
        let y = g.threshold_pct;
        // Dashed (every other year), so guideline lines read apart from the allies' solid series.
        let dashes = ((y0 - 1)..(y1 + 1))
            .step_by(2)
            .map(move |x| PathElement::new(vec![(x, y), (x + 1, y)], colour.stroke_width(1)));
        chart
            .draw_series(dashes)
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
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(chart_err)?;
    root.present().map_err(chart_err)?;
    Ok(())
}

/// One series of a share chart: its name and each nation's fraction of the total (0..=1).
pub type ShareSeries = (String, Vec<(NationCode, f64)>);

/// Grouped bars of each nation's share of a total, in percent, one colour per series (e.g. the
/// shares under a rule beside the planned contributions). Nations are in the order they first
/// appear in the series.
pub fn share_chart(title: &str, series: &[ShareSeries], format: Format) -> Result<Vec<u8>, Error> {
    if series.iter().all(|(_, values)| values.is_empty()) {
        return Err(chart_err("no shares to draw"));
    }
    render(
        format,
        |root| draw_shares(root, title, series),
        |root| draw_shares(root, title, series),
    )
}

fn draw_shares<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    series: &[ShareSeries],
) -> Result<(), Error> {
    let mut nations: Vec<NationCode> = Vec::new();
    for (_, values) in series {
        for (n, _) in values {
            if !nations.contains(n) {
                nations.push(*n);
            }
        }
    }
    let top = series
        .iter()
        .flat_map(|(_, v)| v.iter().map(|(_, f)| f * 100.0))
        .fold(0.0, f64::max);
    let n = i32::try_from(nations.len().max(1)).map_err(chart_err)?;
    let groups = i32::try_from(series.len().max(1)).map_err(chart_err)?;
    root.fill(&WHITE).map_err(chart_err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 28))
        .margin(20)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n).into_segmented(), 0f64..(top * 1.15).max(1.0))
        .map_err(chart_err)?;
    let labels: Vec<String> = nations.iter().map(ToString::to_string).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(nations.len().max(1))
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| labels.get(i))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_style((FONT, 15))
        .y_desc("% of the total")
        .y_label_style((FONT, 15))
        .axis_desc_style((FONT, 18))
        .draw()
        .map_err(chart_err)?;
    // Each slot is split in `groups` bars; a bar is drawn in a finer coordinate of its own.
    let slot = chart.plotting_area().get_pixel_range().0;
    let width = f64::from(slot.end - slot.start) / f64::from(n);
    let bar = width * 0.8 / f64::from(groups);
    for (k, (name, values)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let offset = width * 0.1 + bar * k as f64;
        let bars = values.iter().filter_map(|(nation, fraction)| {
            let i = i32::try_from(nations.iter().position(|x| x == nation)?).ok()?;
            let mut r = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), fraction * 100.0),
                ],
                colour.filled(),
            );
            let left = (offset).round() as u32;
            let right = (width - offset - bar).max(0.0).round() as u32;
            r.set_margin(0, 0, left, right);
            Some(r)
        });
        chart
            .draw_series(bars)
            .map_err(chart_err)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn nation(code: &str) -> NationCode {
        code.parse().unwrap()
    }

    #[test]
    fn a_share_chart_draws_every_nation_and_series_and_refuses_nothing_to_draw() {
        if crate::chart_files::load_font(None).is_err() {
            // No system font here: charts cannot be drawn, which the font tests cover.
            return;
        }
        let series: Vec<ShareSeries> = vec![
            (
                "GNI".into(),
                vec![(nation("DEU"), 0.6), (nation("FRA"), 0.4)],
            ),
            (
                "planned".into(),
                vec![(nation("FRA"), 0.5), (nation("ITA"), 0.5)],
            ),
        ];
        let svg = String::from_utf8(share_chart("Shares", &series, Format::Svg).unwrap()).unwrap();
        for text in ["<svg", "DEU", "FRA", "ITA", "GNI", "planned", "Shares"] {
            assert!(svg.contains(text), "{text} missing");
        }
        let empty: Vec<ShareSeries> = vec![("GNI".into(), Vec::new())];
        assert!(share_chart("Shares", &empty, Format::Svg).is_err());
    }
}
