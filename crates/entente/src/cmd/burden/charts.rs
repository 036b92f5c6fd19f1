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
            edition,
            out,
            font: f,
        } => {
            let format = Format::for_file(&out)?;
            font(f.as_deref())?;
            let ts = data.trends_in(&nations_of(&nations)?, edition.as_deref())?;
            let n = ts.len();
            let what = match &edition {
                Some(e) => format!("{n} allies, edition {e}"),
                None => format!("{n} allies"),
            };
            (
                chart::trend_chart_in(&ts, &data.guidelines, edition.as_deref(), format)?,
                out,
                what,
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
