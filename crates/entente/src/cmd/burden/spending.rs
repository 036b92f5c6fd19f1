//! Defence expenditure against the guidelines: standings, trends and what-if, as tables or JSON.

use super::*;

fn standing_json(data: &Dataset, a: &Assessment) -> Value {
    json!({
        "year": a.year,
        "guidelines": data.guidelines.iter().filter(|g| g.assessable()).map(|g| json!({
            "id": g.id, "name": g.name, "threshold_pct": g.threshold_pct,
            "adopted": g.adopted.to_string(), "target_year": g.target_year, "source": g.source,
        })).collect::<Vec<_>>(),
        "not_assessed": data.guidelines.iter().filter(|g| !g.assessable()).map(|g| json!({
            "id": g.id, "name": g.name, "threshold_pct": g.threshold_pct, "note": g.note,
        })).collect::<Vec<_>>(),
        "counts": a.counts.iter().map(|(g, n)| json!({"guideline": g, "allies_meeting": n})).collect::<Vec<_>>(),
        "allies": a.standings.iter().map(|s| json!({
            "nation": s.nation.as_str(),
            "pct_gdp": s.pct_gdp,
            "estimate": s.estimate,
            "edition": s.edition,
            "price_base": s.price_base,
            "source": s.source,
            "assumed": s.assumed,
            "checks": s.checks.iter().map(|c| json!({
                "guideline": c.guideline, "met": c.met, "gap_pp": c.gap_pp,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn standing_table(data: &Dataset, a: &Assessment) -> anyhow::Result<()> {
    let lines: Vec<_> = data.guidelines.iter().filter(|g| g.assessable()).collect();
    let mut header = vec!["nation".to_owned(), "% GDP".to_owned()];
    header.extend(lines.iter().map(|g| format!("{}%", g.threshold_pct)));
    header.push("edition".to_owned());
    let mut table = output::table(header);
    let mut rows: Vec<_> = a.standings.iter().collect();
    rows.sort_by(|x, y| {
        y.pct_gdp
            .total_cmp(&x.pct_gdp)
            .then(x.nation.cmp(&y.nation))
    });
    for s in rows {
        let mut row = vec![
            s.nation.to_string(),
            format!("{}{}", pct(s.pct_gdp), if s.estimate { "e" } else { "" }),
        ];
        row.extend(s.checks.iter().map(|c| {
            if c.met {
                "yes".to_owned()
            } else {
                format!("no (-{})", pct(c.gap_pp))
            }
        }));
        row.push(s.edition.clone());
        table.add_row(row);
    }
    output::print(table)?;
    Ok(())
}

pub(super) fn guideline(
    data: &Dataset,
    year: i32,
    edition: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let a = entente_burden::assess(&data.expenditure, &data.guidelines, year, edition)?;
    if json {
        output::print_json(&standing_json(data, &a))?;
        return Ok(ExitCode::SUCCESS);
    }
    let editions: std::collections::BTreeSet<&str> =
        a.standings.iter().map(|s| s.edition.as_str()).collect();
    let counts: Vec<String> = a
        .counts
        .iter()
        .map(|(g, n)| format!("{g}: {n} of {}", a.standings.len()))
        .collect();
    output::print(format!(
        "Defence expenditure in {year} (% of GDP; e = NATO estimate; editions: {})\nMeeting: {}",
        editions.into_iter().collect::<Vec<_>>().join(", "),
        counts.join("; ")
    ))?;
    standing_table(data, &a)?;
    for g in data.guidelines.iter().filter(|g| !g.assessable()) {
        output::print(format!(
            "{}: {}",
            g.name,
            g.note.as_deref().unwrap_or("not assessed")
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn trends(
    data: &Dataset,
    nations: &[String],
) -> anyhow::Result<Vec<entente_burden::Trend>> {
    let codes: Vec<NationCode> = if nations.is_empty() {
        data.expenditure.nations().into_iter().collect()
    } else {
        nations
            .iter()
            .map(|n| nation(n))
            .collect::<anyhow::Result<_>>()?
    };
    Ok(codes
        .into_iter()
        .map(|c| entente_burden::trend(&data.expenditure, c))
        .collect::<Result<_, _>>()?)
}

pub(super) fn trend(data: &Dataset, nations: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let ts = trends(data, nations)?;
    if json {
        output::print_json(&ts
            .iter()
            .map(|t| json!({
                "nation": t.nation.as_str(),
                "change_pp": t.change_pp,
                "slope_pp_per_year": t.slope_pp_per_year,
                "mixed_editions": t.mixed_editions,
                "points": t.points.iter().map(|p| json!({
                    "year": p.year, "pct_gdp": p.pct_gdp, "edition": p.edition, "source": p.source,
                })).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>())?;
        return Ok(ExitCode::SUCCESS);
    }
    let years: Vec<i32> = data.expenditure.years().into_iter().collect();
    let mut header = vec!["nation".to_owned()];
    header.extend(years.iter().map(i32::to_string));
    header.extend(["change (pp)".to_owned(), "slope (pp/yr)".to_owned()]);
    let mut table = output::table(header);
    for t in &ts {
        let mut row = vec![t.nation.to_string()];
        for y in &years {
            row.push(
                t.points
                    .iter()
                    .find(|p| p.year == *y)
                    .map_or("—".to_owned(), |p| pct(p.pct_gdp)),
            );
        }
        row.push(format!("{:+.2}", t.change_pp));
        row.push(format!("{:+.3}", t.slope_pp_per_year));
        table.add_row(row);
    }
    output::print("Defence expenditure, % of GDP (latest NATO edition holding each year; editions differ in price base)")?;
    output::print(table)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn what_if(
    data: &Dataset,
    year: i32,
    set: &[String],
    edition: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let overrides: Vec<(NationCode, f64)> = set
        .iter()
        .map(|s| pair(s, "what-if"))
        .collect::<anyhow::Result<_>>()?;
    let w = entente_burden::what_if(
        &data.expenditure,
        &data.guidelines,
        year,
        edition,
        &overrides,
    )?;
    if json {
        output::print_json(&json!({
            "year": year,
            "assumptions": overrides.iter().map(|(n, v)| json!({"nation": n.as_str(), "pct_gdp": v})).collect::<Vec<_>>(),
            "counts_before": w.before.counts.iter().map(|(g, n)| json!({"guideline": g, "allies_meeting": n})).collect::<Vec<_>>(),
            "counts_after": w.after.counts.iter().map(|(g, n)| json!({"guideline": g, "allies_meeting": n})).collect::<Vec<_>>(),
            "changes": w.changes.iter().map(|(n, g, b, a)| json!({
                "nation": n.as_str(), "guideline": g, "met_before": b, "met_after": a,
            })).collect::<Vec<_>>(),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    for (nation, v) in &overrides {
        let was = w
            .before
            .standings
            .iter()
            .find(|s| s.nation == *nation)
            .map_or("no published value".to_owned(), |s| {
                format!("{}% published ({})", pct(s.pct_gdp), s.edition)
            });
        output::print(format!(
            "If {nation} spends {}% of GDP in {year} (was {was}):",
            pct(*v)
        ))?;
    }
    let mut table = output::table(["guideline", "allies meeting before", "after"]);
    for ((g, b), (_, a)) in w.before.counts.iter().zip(&w.after.counts) {
        table.add_row([g.clone(), b.to_string(), a.to_string()]);
    }
    output::print(table)?;
    if w.changes.is_empty() {
        output::print("No ally's standing against any guideline changes.")?;
    }
    for (n, g, _, after) in &w.changes {
        output::print(format!(
            "{n} {} {g}",
            if *after {
                "now meets"
            } else {
                "no longer meets"
            }
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
