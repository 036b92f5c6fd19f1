//! Cost shares under a rule, with their fairness and core check, and the programmes' funding sources.

use super::*;

pub(super) fn share(data: &Dataset, args: ShareArgs) -> anyhow::Result<ExitCode> {
    let request = ShareRequest {
        rule: args.rule.into(),
        total: args.total,
        basis: args.basis,
        weights: args
            .weights
            .iter()
            .map(|w| pair(w, "--weight"))
            .collect::<anyhow::Result<_>>()?,
        nations: args
            .nations
            .iter()
            .map(|n| nation(n))
            .collect::<anyhow::Result<_>>()?,
        cap: args.cap,
        floor: args.floor,
        game: args.game,
        programme: args.programme,
        phase: args.phase,
        at: args
            .at
            .as_deref()
            .map(entente_types::parse_date)
            .transpose()?,
        today: parse_day(None)?,
    };
    let share = cost_share::resolve(data, &request)?;
    if args.json {
        output::print_json(&share_json(&share))?;
    } else {
        share_text(&share)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn share_json(share: &CostShare) -> Value {
    let (allocation, fairness) = (&share.allocation, &share.fairness);
    json!({
        "rule": share.rule.as_str(),
        "total": allocation.total,
        "cap": share.cap, "floor": share.floor,
        "basis": share.basis.as_ref().map(|b| json!({"name": b.name, "kind": b.kind, "unit": b.unit, "source": b.source})),
        "context": share.context,
        "shares": allocation.shares.iter().map(|s| json!({
            "nation": s.nation.as_str(), "fraction": s.fraction, "amount": s.amount,
            "bound": s.bound.map(|b| format!("{b:?}").to_lowercase()),
            "planned": share.planned.iter().find(|(n, _)| *n == s.nation).map(|(_, v)| v),
        })).collect::<Vec<_>>(),
        "fairness": {
            "reference": if share.against_basis { "basis" } else { "equal" },
            "hhi": fairness.hhi, "gini": fairness.gini,
            "proportionality_gap": fairness.proportionality_gap,
            "ratios": fairness.ratios.iter().map(|(n, r)| json!({"nation": n.as_str(), "share_over_reference": r})).collect::<Vec<_>>(),
        },
        "core": share.core.as_ref().map(|c| json!({
            "in_core": c.in_core,
            "worst_coalition": c.worst_coalition.iter().map(NationCode::as_str).collect::<Vec<_>>(),
            "worst_excess": c.worst_excess,
        })),
    })
}

fn share_text(share: &CostShare) -> anyhow::Result<()> {
    let mut title = format!("Rule {}", share.rule.as_str());
    if let Some(c) = share.cap {
        title += &format!(", cap {c}");
    }
    if let Some(f) = share.floor {
        title += &format!(", floor {f}");
    }
    if let Some(b) = &share.basis {
        title += &format!(
            ", basis {} ({}, {}; source {})",
            b.name, b.kind, b.unit, b.source
        );
    }
    if !share.context.is_empty() {
        title += &format!(", {}", share.context.join(", "));
    }
    output::print(format!("{title}; total {}", share.total))?;
    let mut header = vec!["nation", "share", "amount", "bound", "vs reference"];
    if !share.planned.is_empty() {
        header.push("planned share");
    }
    let mut table = output::table(header);
    for s in &share.allocation.shares {
        let ratio = share
            .fairness
            .ratios
            .iter()
            .find(|(n, _)| *n == s.nation)
            .map(|(_, r)| *r);
        let mut row = vec![
            s.nation.to_string(),
            format!("{:.4}%", s.fraction * 100.0),
            format!("{:.3}", s.amount),
            s.bound
                .map_or(String::new(), |b| format!("{b:?}").to_lowercase()),
            opt(ratio, |r| format!("{r:.3}")),
        ];
        if !share.planned.is_empty() {
            row.push(opt(share.planned_share(s.nation), |v| {
                format!("{:.2}%", v * 100.0)
            }));
        }
        table.add_row(row);
    }
    output::print(table)?;
    let fairness = &share.fairness;
    output::print(format!(
        "Fairness against {}: HHI {:.4} (equal split {:.4}); Gini {:.4}; proportionality gap {:.2}% of the total",
        if share.against_basis { "the basis" } else { "equal shares" },
        fairness.hhi,
        1.0 / share.allocation.shares.len() as f64,
        fairness.gini,
        fairness.proportionality_gap * 100.0
    ))?;
    if let Some(c) = &share.core {
        let who: Vec<&str> = c.worst_coalition.iter().map(NationCode::as_str).collect();
        output::print(if c.in_core {
            format!("In the core: no coalition pays more than its stand-alone cost (tightest: [{}], {:.3})", who.join(", "), c.worst_excess)
        } else {
            format!(
                "NOT in the core: [{}] pays {:.3} more than on its own",
                who.join(", "),
                c.worst_excess
            )
        })?;
    }
    Ok(())
}

pub(super) fn funding(data: &Dataset, json: bool) -> anyhow::Result<ExitCode> {
    let cf = &data.common_funding;
    let edf = &data.edf;
    if json {
        output::print_json(&json!({
            "nato_common_funding": {
                "basis": cf.basis, "formula": cf.formula, "source": cf.formula_source,
                "budgets": cf.budgets.iter().map(|b| json!({
                    "year": b.year, "civil": b.civil, "military": b.military, "nsip": b.nsip,
                    "nsip_ceiling": b.nsip_ceiling, "total": b.total(), "currency": b.currency, "source": b.source, "note": b.note,
                })).collect::<Vec<_>>(),
                "known_shares": cf.shares.iter().map(|s| json!({
                    "period": s.period, "nation": s.nation.as_str(), "pct": s.pct, "source": s.source, "note": s.note,
                })).collect::<Vec<_>>(),
                "full_table": "not found in the sources consulted",
            },
            "edf": {
                "name": edf.name, "period": edf.period, "currency": edf.currency, "total": edf.total, "source": edf.source,
                "strands": edf.strands.iter().map(|s| json!({"name": s.name, "amount": s.amount, "source": s.source, "note": s.note})).collect::<Vec<_>>(),
            },
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    output::print(format!(
        "NATO common funding — formula: {} (source {})",
        cf.formula, cf.formula_source
    ))?;
    let mut table = output::table([
        "year", "civil", "military", "NSIP", "total", "unit", "source",
    ]);
    for b in &cf.budgets {
        table.add_row([
            b.year.to_string(),
            format!("{}", b.civil),
            format!("{}", b.military),
            format!(
                "{}{}",
                b.nsip,
                if b.nsip_ceiling { " (ceiling)" } else { "" }
            ),
            format!("{:.1}", b.total()),
            b.currency.clone(),
            b.source.clone(),
        ]);
    }
    output::print(table)?;
    let mut table = output::table(["period", "nation", "cost share %", "source", "note"]);
    for s in &cf.shares {
        table.add_row([
            s.period.clone(),
            s.nation.to_string(),
            format!("{:.2}", s.pct),
            s.source.clone(),
            s.note.clone().unwrap_or_default(),
        ]);
    }
    output::print("Known cost shares (the full per-ally table was not found):")?;
    output::print(table)?;
    output::print(format!(
        "\n{} {}: {} {} (source {})",
        edf.name, edf.period, edf.total, edf.currency, edf.source
    ))?;
    for s in &edf.strands {
        output::print(format!("  {}: {} ({})", s.name, s.amount, s.source))?;
    }
    Ok(ExitCode::SUCCESS)
}
