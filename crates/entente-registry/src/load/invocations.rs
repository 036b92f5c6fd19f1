//! `invocations.toml`: the recorded invocations of clauses, checked against the rest of the
//! registry (the clause, the nations, their being parties on the day) once that has loaded.

use std::collections::HashSet;

use entente_types::NationCode;

use crate::error::{Error, ErrorKind};
use crate::invocation::{ClauseRef, Invocation};
use crate::Registry;

use super::check::{Checker, SourceFile};
use super::raw::RawInvocationsFile;

/// Converts the invocations in `file` and attaches them to `registry`, or every problem found.
pub(super) fn attach(mut registry: Registry, file: Option<SourceFile>) -> Result<Registry, Error> {
    let Some(file) = file else {
        return Ok(registry);
    };
    let mut ck = Checker {
        diagnostics: Vec::new(),
        file: None,
    };
    let mut invocations = Vec::new();
    if let Some(raw) = ck.parse::<RawInvocationsFile>(&file) {
        let mut ids: HashSet<String> = HashSet::new();
        for (i, inv) in raw.invocation.iter().enumerate() {
            let offset = inv.span().start;
            let inv = inv.get_ref();
            let id = inv.id.get_ref().trim().to_owned();
            let field = if id.is_empty() {
                format!("invocation[{i}]")
            } else {
                format!("invocation[{id}]")
            };
            ck.non_empty(&inv.id, &format!("{field}.id"));
            ck.non_empty(&inv.summary, &format!("{field}.summary"));
            if !id.is_empty() && !ids.insert(id.to_ascii_lowercase()) {
                ck.report(
                    inv.id.span().start,
                    format!("{field}.id"),
                    format!("duplicate invocation id {id:?}"),
                );
            }
            let sources = ck.sources(
                &inv.source,
                offset,
                &format!("{field}.source"),
                &registry.sources,
            );
            let clause = match registry.clause(inv.clause.get_ref()) {
                Ok((a, c)) => Some((a, c)),
                Err(err) => {
                    ck.report(
                        inv.clause.span().start,
                        format!("{field}.clause"),
                        err.to_string(),
                    );
                    None
                }
            };
            if inv.requested_by.is_empty() {
                ck.report(
                    offset,
                    format!("{field}.requested_by"),
                    "no requesting nation: give at least one",
                );
            }
            // (nation, offset, index in the list)
            let mut requested_by: Vec<(NationCode, usize, usize)> = Vec::new();
            for (j, n) in inv.requested_by.iter().enumerate() {
                let nfield = format!("{field}.requested_by[{j}]");
                if let Some(code) = ck.nation(n, &nfield, &registry.nations) {
                    if requested_by.iter().any(|(c, _, _)| *c == code) {
                        ck.report(n.span().start, nfield, format!("duplicate nation {code}"));
                    } else {
                        requested_by.push((code, n.span().start, j));
                    }
                }
            }
            let requested = ck.stated_date(&inv.requested, &format!("{field}.requested"));
            let met = ck.optional_date(&inv.met, &format!("{field}.met"));
            let closed = ck.optional_date(&inv.closed, &format!("{field}.closed"));
            // Inverted only when even the latest day the later date allows comes before the
            // earliest day the earlier one allows (as for signature and entry into force).
            if let Some(r) = requested {
                for (date, raw, name) in [(met, &inv.met, "met"), (closed, &inv.closed, "closed")] {
                    if let (Some(d), Some(raw)) = (date, raw) {
                        if d.last_possible_day() < r.sort_key() {
                            ck.report(
                                raw.span().start,
                                format!("{field}.{name}"),
                                format!("inverted dates: {name} {d} before requested {r}"),
                            );
                        }
                    }
                }
            }
            if let (Some(m), Some(c), Some(raw)) = (met, closed, &inv.closed) {
                if c.last_possible_day() < m.sort_key() {
                    ck.report(
                        raw.span().start,
                        format!("{field}.closed"),
                        format!("inverted dates: closed {c} before met {m}"),
                    );
                }
            }
            let (Some((agreement, clause)), Some(requested)) = (clause, requested) else {
                continue;
            };
            // Each requesting nation must be a party on every day the stated date allows.
            let (first, last) = (requested.sort_key(), requested.last_possible_day());
            let mut ok = requested_by.len() == inv.requested_by.len();
            'nations: for &(nation, at, j) in &requested_by {
                for day in [first, last] {
                    if let Err(err) = registry.participants(agreement, clause, &[nation], day) {
                        // A nation's fault is located to it; the clause's (not in force that
                        // day, not invocable) to the day, once.
                        let nation_at_fault = matches!(
                            err.kind(),
                            ErrorKind::NotAParty { .. } | ErrorKind::NotProtected { .. }
                        );
                        ok = false;
                        if nation_at_fault {
                            ck.report(at, format!("{field}.requested_by[{j}]"), err.to_string());
                            continue 'nations;
                        }
                        ck.report(
                            inv.requested.span().start,
                            format!("{field}.requested"),
                            err.to_string(),
                        );
                        break 'nations;
                    }
                }
            }
            if !ok {
                continue;
            }
            let mut nations: Vec<NationCode> = requested_by.iter().map(|(n, _, _)| *n).collect();
            nations.sort();
            invocations.push(Invocation {
                id,
                clause: ClauseRef::of(agreement, clause),
                requested_by: nations,
                requested,
                met,
                closed,
                summary: inv.summary.get_ref().trim().to_owned(),
                sources,
                note: inv.note.clone(),
            });
        }
    }
    if !ck.diagnostics.is_empty() {
        return Err(Error::new(ErrorKind::Invalid(ck.diagnostics)));
    }
    invocations
        .sort_by(|a, b| (a.requested.sort_key(), &a.id).cmp(&(b.requested.sort_key(), &b.id)));
    registry.invocations = invocations;
    Ok(registry)
}
