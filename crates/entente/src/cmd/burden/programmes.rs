//! Joint programmes of the ledger: participants, phases, contributions and balances, as text or JSON.

use super::*;

fn full_ledger(data: &Dataset, ledgers: &[PathBuf]) -> anyhow::Result<Ledger> {
    let mut ledger = data.ledger.clone();
    for file in ledgers {
        ledger
            .merge(read_ledger(data, file)?)
            .with_context(|| format!("merging {}", file.display()))?;
    }
    Ok(ledger)
}

pub(super) fn programme(
    data: &Dataset,
    name: Option<&str>,
    ledgers: &[PathBuf],
    at: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let ledger = full_ledger(data, ledgers)?;
    let day = at.map(entente_types::parse_date).transpose()?;
    let Some(name) = name else {
        if json {
            output::print_json(&ledger.programmes().iter().map(|p| json!({
                "id": p.id, "name": p.name, "kind": p.kind, "participants": p.participants.len(), "source": p.source,
            })).collect::<Vec<_>>())?;
        } else {
            let mut table = output::table(["id", "name", "kind", "participants", "phases"]);
            for p in ledger.programmes() {
                table.add_row([
                    p.id.clone(),
                    p.name.clone(),
                    p.kind.clone(),
                    p.participants.len().to_string(),
                    p.phases.len().to_string(),
                ]);
            }
            output::print(table)?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let p = ledger.get(name)?;
    if json {
        output::print_json(&programme_json(p, day))?;
    } else {
        programme_text(p, day)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn programme_json(p: &Programme, day: Option<Date>) -> Value {
    let participants: Vec<_> = match day {
        Some(d) => p.participants_on(d),
        None => p.participants.iter().collect(),
    };
    json!({
        "id": p.id, "name": p.name, "kind": p.kind, "launched": p.launched, "currency": p.currency,
        "source": p.source, "note": p.note, "at": day.map(|d| d.to_string()),
        "participants": participants.iter().map(|x| json!({
            "nation": x.nation.as_str(), "role": x.role.as_str(), "from": x.from.to_string(),
            "until": x.until.map(|u| u.to_string()), "source": x.source, "note": x.note,
        })).collect::<Vec<_>>(),
        "timeline": p.timeline().iter().map(|(d, j, l)| json!({
            "day": d.to_string(),
            "joined": j.iter().map(NationCode::as_str).collect::<Vec<_>>(),
            "left": l.iter().map(NationCode::as_str).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "phases": p.phases.iter().map(|ph| json!({
            "id": ph.id, "name": ph.name, "cost": ph.cost, "source": ph.source, "note": ph.note,
            "contributions": ph.contributions.iter().filter(|c| day.is_none_or(|d| c.as_of <= d)).map(|c| json!({
                "nation": c.nation.as_str(), "as_of": c.as_of.to_string(), "planned": c.planned,
                "share": c.share, "actual": c.actual, "planned_amount": ph.planned_amount(c), "source": c.source,
            })).collect::<Vec<_>>(),
            "current": ph.current(day).values().map(|c| json!({
                "nation": c.nation.as_str(), "as_of": c.as_of.to_string(), "planned_amount": ph.planned_amount(c), "actual": c.actual,
            })).collect::<Vec<_>>(),
            "work_share": ph.work_share.iter().map(|w| json!({"nation": w.nation.as_str(), "share": w.share, "source": w.source})).collect::<Vec<_>>(),
            "external": ph.external.iter().map(|e| json!({"funder": e.funder, "amount": e.amount, "source": e.source})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "balance": p.balance(day).iter().map(|b| json!({
            "nation": b.nation.as_str(), "planned": b.planned, "actual": b.actual,
            "cost_share": b.cost_share, "work_share": b.work_share, "return_ratio": b.return_ratio,
        })).collect::<Vec<_>>(),
    })
}

fn programme_text(p: &Programme, day: Option<Date>) -> anyhow::Result<()> {
    let currency = p.currency.as_deref().unwrap_or("amounts");
    output::print(format!(
        "{} ({}) — {}{}\nsource: {}{}",
        p.name,
        p.id,
        p.kind,
        p.launched
            .as_deref()
            .map_or(String::new(), |l| format!(", launched {l}")),
        p.source,
        p.note
            .as_deref()
            .map_or(String::new(), |n| format!("\nnote: {n}")),
    ))?;
    let mut table = output::table(["nation", "role", "from", "until", "source"]);
    for x in &p.participants {
        if day.is_some_and(|d| !x.active_on(d)) {
            continue;
        }
        table.add_row([
            x.nation.to_string(),
            x.role.as_str().to_owned(),
            x.from.to_string(),
            x.until.map_or(String::new(), |u| u.to_string()),
            x.source.clone(),
        ]);
    }
    output::print(match day {
        Some(d) => format!("Participants on {d}:"),
        None => "Participants:".to_owned(),
    })?;
    output::print(table)?;
    let timeline: Vec<String> = p
        .timeline()
        .iter()
        .map(|(d, j, l)| {
            let mut s = format!("{d}:");
            if !j.is_empty() {
                s += &format!(
                    " +{}",
                    j.iter()
                        .map(NationCode::as_str)
                        .collect::<Vec<_>>()
                        .join(" +")
                );
            }
            if !l.is_empty() {
                s += &format!(
                    " -{}",
                    l.iter()
                        .map(NationCode::as_str)
                        .collect::<Vec<_>>()
                        .join(" -")
                );
            }
            s
        })
        .collect();
    output::print(format!("Timeline: {}", timeline.join("; ")))?;
    for ph in &p.phases {
        output::print(format!(
            "\nPhase {}{}: cost {} ({currency}); source {}{}",
            ph.id,
            ph.name
                .as_deref()
                .map_or(String::new(), |n| format!(" — {n}")),
            opt(ph.cost, |c| format!("{c}")),
            ph.source,
            ph.note
                .as_deref()
                .map_or(String::new(), |n| format!("\n  note: {n}")),
        ))?;
        let current = ph.current(day);
        if !ph.contributions.is_empty() {
            let mut table = output::table([
                "nation",
                "as of",
                "planned",
                "share of cost",
                "actual",
                "in force",
                "source",
            ]);
            for c in ph
                .contributions
                .iter()
                .filter(|c| day.is_none_or(|d| c.as_of <= d))
            {
                let in_force = current.get(&c.nation).is_some_and(|x| x.as_of == c.as_of);
                let amount = ph.planned_amount(c);
                table.add_row([
                    c.nation.to_string(),
                    c.as_of.to_string(),
                    opt(amount, |v| format!("{v}")),
                    opt(amount.zip(ph.cost).map(|(a, t)| a / t), |v| {
                        format!("{:.1}%", v * 100.0)
                    }),
                    opt(c.actual, |v| format!("{v}")),
                    if in_force { "yes" } else { "superseded" }.to_owned(),
                    c.source.clone(),
                ]);
            }
            output::print(table)?;
        } else {
            output::print("  national contributions: none recorded")?;
        }
        for w in &ph.work_share {
            output::print(format!(
                "  work share {}: {:.1}% ({})",
                w.nation,
                w.share * 100.0,
                w.source
            ))?;
        }
        for e in &ph.external {
            output::print(format!(
                "  external funding: {} {} ({})",
                e.funder, e.amount, e.source
            ))?;
        }
    }
    let balance = p.balance(day);
    if balance.iter().any(|b| b.planned > 0.0) {
        let mut table = output::table([
            "nation",
            "planned",
            "cost share",
            "actual",
            "work share",
            "work / cost",
        ]);
        for b in &balance {
            table.add_row([
                b.nation.to_string(),
                format!("{}", (b.planned * 1000.0).round() / 1000.0),
                opt(b.cost_share, |v| format!("{:.1}%", v * 100.0)),
                opt(b.actual, |v| format!("{v}")),
                opt(b.work_share, |v| format!("{:.1}%", v * 100.0)),
                opt(b.return_ratio, |v| format!("{v:.2}")),
            ]);
        }
        output::print(format!(
            "\nBalance over all phases (plans in force, {currency}):"
        ))?;
        output::print(table)?;
    }
    Ok(())
}
