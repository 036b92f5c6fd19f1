//! The text of the generated Cedar policies: the same-nation permit, the releasability forbids
//! and one permit per security-of-information clause.

use entente_labels::{PolicySet, MAX_RELEASE_SETS};
use entente_registry::{Interval, Party};
use entente_types::NationCode;

use super::*;

/// The same-nation permit and the releasability forbids. Every forbid spares the originating
/// nation itself, which may always hold its own information.
pub(super) fn releasability_policies() -> Vec<(String, String)> {
    let scope = "(principal, action == Action::\"release\", resource)";
    let mut out = vec![
        (
            SAME_NATION.to_owned(),
            format!(
                "@id(\"{SAME_NATION}\")\npermit {scope}\nwhen {{ principal == context.recipient }};"
            ),
        ),
        (
            DEFAULT_RELEASE.to_owned(),
            format!(
                "@id(\"{DEFAULT_RELEASE}\")\nforbid {scope}\nwhen {{\n  principal != context.recipient &&\n  resource.releaseSetCount == 0 &&\n  !(resource has defaultReleaseTo && context.recipient in resource.defaultReleaseTo)\n}};"
            ),
        ),
    ];
    // Cedar has no "for all" over a set of sets: a label holds at most MAX_RELEASE_SETS sets,
    // so each position gets its own forbids.
    for k in 0..MAX_RELEASE_SETS {
        let set = format!("resource.rel{k}");
        let rules = [
            ("empty", format!("{set}.tokens.isEmpty()")),
            (
                "unknown-token",
                format!(
                    "!Registry::\"{REGISTRY_ID}\".releaseTokens.containsAll({set}.tokens)"
                ),
            ),
            (
                "not-admitted",
                format!(
                    "!({set}.nations.contains(context.recipient) || context.recipient in {set}.groups)"
                ),
            ),
        ];
        for (what, condition) in rules {
            let id = format!("releasable-to/{k}/{what}");
            out.push((
                id.clone(),
                format!(
                    "@id(\"{id}\")\nforbid {scope}\nwhen {{\n  principal != context.recipient &&\n  resource has rel{k} &&\n  {condition}\n}};"
                ),
            ));
        }
    }
    out
}

/// The `permit` of one security-of-information clause, or `None` if it can cover nothing (no
/// level of any known policy lies under its ceiling).
pub(super) fn clause_policy(
    a: &entente_registry::Agreement,
    c: &entente_registry::Clause,
    force: Interval,
    policies: &PolicySet,
) -> Option<String> {
    let security = c.security.clone().unwrap_or_default();
    let nation = |n: NationCode| format!("Nation::{}", quoted(n.as_str()));
    let org = |o: &str| format!("Organization::{}", quoted(o));
    let named: Vec<NationCode> = a
        .parties
        .iter()
        .filter_map(|p| match p {
            Party::Nation(n) => Some(*n),
            Party::Organization(_) => None,
        })
        .collect();
    let org_parties: Vec<&str> = a
        .parties
        .iter()
        .filter_map(|p| match p {
            Party::Organization(o) => Some(o.0.as_str()),
            Party::Nation(_) => None,
        })
        .collect();
    let member_org = a.parties_are_members_of.as_ref().map(|o| o.0.as_str());

    // Ceilings: policy → highest rank covered.
    let mut ceilings: Vec<(String, usize)> = Vec::new();
    match &security.max_classification {
        Some(max) => {
            if let Some(p) = policies.get(&max.policy) {
                if let Some(rank) = p.rank_of(&max.level) {
                    ceilings.push((p.id.clone(), usize::from(rank)));
                }
            }
        }
        None => {
            // No ceiling stated: the parties' own policies, at every level.
            let ids = named
                .iter()
                .map(|n| n.to_string())
                .chain(org_parties.iter().map(|o| (*o).to_owned()))
                .chain(member_org.map(str::to_owned));
            for id in ids {
                if let Some(p) = policies.get(&id) {
                    if !ceilings.iter().any(|(q, _)| *q == p.id) {
                        ceilings.push((p.id.clone(), p.levels.len().saturating_sub(1)));
                    }
                }
            }
        }
    }
    if ceilings.is_empty() {
        return None;
    }

    let mut when: Vec<String> = Vec::new();
    when.push(format!("context.day >= {}", day_number(force.from)));
    if let Some(until) = force.until {
        when.push(format!("context.day <= {}", day_number(until)));
    }
    for s in &a.suspended {
        let inside = match s.until {
            Some(u) => format!(
                "context.day >= {} && context.day <= {}",
                day_number(s.from),
                day_number(u)
            ),
            None => format!("context.day >= {}", day_number(s.from)),
        };
        when.push(format!("!({inside})"));
    }
    let ceilings: Vec<String> = ceilings
        .iter()
        .map(|(p, rank)| {
            format!(
                "(resource.policy == Policy::{} && resource.rank <= {rank})",
                quoted(p)
            )
        })
        .collect();
    when.push(format!("({})", ceilings.join(" || ")));
    when.push(if security.caveats.is_empty() {
        "resource.caveats.isEmpty()".to_owned()
    } else {
        format!(
            "[{}].containsAll(resource.caveats)",
            security
                .caveats
                .iter()
                .map(|c| quoted(c))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    if security.caveats_only {
        when.push("!resource.caveats.isEmpty()".to_owned());
    }

    // The parties each end stands for: `N` as a nation (named, or a member of the organisation
    // whose members are parties), `O` through an organisation party acting for its members (for
    // that organisation's own policy only). The two ends must be two different parties: N–N
    // (the nations differ), N–O or O–N, never O–O.
    let stands = |x: &str| {
        let accession: Vec<String> = a
            .accessions
            .iter()
            .map(|(n, d)| {
                format!(
                    "!({x} == {} && context.day < {})",
                    nation(*n),
                    day_number(d.earliest_certain_start())
                )
            })
            .collect();
        let mut as_nation: Vec<String> = named
            .iter()
            .map(|n| format!("{x} == {}", nation(*n)))
            .collect();
        as_nation.extend(member_org.map(|o| format!("{x} in {}", org(o))));
        let as_org: Vec<String> = org_parties
            .iter()
            .map(|o| {
                format!(
                    "(resource.policy == Policy::{} && {x} in {})",
                    quoted(o),
                    org(o)
                )
            })
            .collect();
        let any = |terms: Vec<String>| {
            if terms.is_empty() {
                "false".to_owned()
            } else {
                format!("({})", terms.join(" || "))
            }
        };
        let gate = if accession.is_empty() {
            String::new()
        } else {
            format!("{} && ", accession.join(" && "))
        };
        (
            format!("({gate}{})", any(as_nation)),
            format!("({gate}{})", any(as_org)),
        )
    };
    let (from_n, from_o) = stands("principal");
    let (to_n, to_o) = stands("context.recipient");
    when.push(format!(
        "(\n    ({from_n} && {to_n}) ||\n    ({from_n} && {to_o}) ||\n    ({from_o} && {to_n})\n  )"
    ));
    Some(format!(
        "permit (principal, action == Action::\"release\", resource)\nwhen {{\n  {}\n}};",
        when.join(" &&\n  ")
    ))
}
