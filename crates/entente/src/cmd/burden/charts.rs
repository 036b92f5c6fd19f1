//! Charts of the dataset, written as SVG or PNG.

use anyhow::Context as _;

use super::*;

/// Loads the chart font: `--font`, else DejaVu Sans from the usual system places.
pub(crate) fn font(explicit: Option<&Path>) -> anyhow::Result<()> {
    Ok(chart_files::load_font(explicit)?)
}

pub(super) fn draw(data: &Dataset, command: ChartCommand) -> anyhow::Result<ExitCode> {
    let (bytes, out, what) = match command {
        ChartCommand::Guideline {
            year,
            edition,
            what_if,
            out,
            font: f,
        } => {
            let format = Format::for_file(&out)?;
            font(f.as_deref())?;
            let overrides: Vec<_> = nation_pairs(&what_if, ("--what-if", "NATION=NUMBER"), number)?;
            let a = entente_burden::assess_with(
                &data.expenditure,
                &data.guidelines,
                year,
                edition.as_deref(),
                &overrides,
            )?;
            let n = a.standings.len();
            (
                chart::guideline_chart(&a, &data.guidelines, format)?,
                out,
                format!("{n} allies in {year}"),
            )
        }
        ChartCommand::Trend {
            nations,
            out,
            font: f,
        } => {
            let format = Format::for_file(&out)?;
            font(f.as_deref())?;
            let ts = data.trends(&nations_of(&nations)?)?;
            let n = ts.len();
            (
                chart::trend_chart(&ts, &data.guidelines, format)?,
                out,
                format!("{n} allies"),
            )
        }
    };
    std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    output::print(format!(
        "wrote {} ({} bytes, {what})",
        out.display(),
        bytes.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}
