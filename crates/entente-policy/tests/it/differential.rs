//! Differential test: random registries (nations, organisations with membership periods,
//! agreements with parties, organisation parties, force periods, suspensions, accessions and
//! security clauses), random labels, days and nation pairs; the compiled decision and the Cedar
//! encoding must return the same decision (verdict, and the same explanation: for a permit, the
//! same agreement and clause).
//!
//! `ENTENTE_DIFF_CASES` sets the number of decisions (default 20,000); `ENTENTE_DIFF_SEED` the
//! seed. The run is deterministic for a given seed and count.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Instant;

use entente_labels::{Label, PolicySet, ReleaseToken};
use entente_policy::{
    CedarNationalRules, CedarPolicy, CompiledNationalRules, Decision, NationalRules, Reason,
    ReleasePolicy,
};
use entente_registry::{Agreement, Clause, ClauseKind, DatasetText, OrgId, Registry};
use entente_types::{Date, NationCode};

/// Decisions per generated registry.
const CASES_PER_WORLD: usize = 400;

const NATIONS: [&str; 10] = [
    "FRA", "GBR", "USA", "DEU", "JPN", "SWE", "ITA", "CAN", "POL", "AUS",
];
const ORGS: [&str; 5] = ["NATO", "EU", "FVEY", "PESCO", "EI2"];
const UNKNOWN_TOKENS: [&str; 3] = ["XYZ", "Q-1", "ZZZZ"];

/// SplitMix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + self.below((hi - lo + 1) as usize) as i32
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A random subset, in the original order.
    fn subset<T: Clone>(&mut self, items: &[T], percent: usize) -> Vec<T> {
        items
            .iter()
            .filter(|_| self.chance(percent))
            .cloned()
            .collect()
    }
}

/// The classification policies of every world: alliance policies whose default is their
/// organisation's members (FVEY's organisation is sometimes absent), and national ones.
fn policy_texts() -> Vec<(String, String)> {
    let policy = |id: &str, default: &str, levels: &[&str], caveats: &[&str]| {
        let levels = levels
            .iter()
            .map(|l| format!("  {{ name = \"{l}\", marking = \"{id} {l}\" }},\n"))
            .collect::<String>();
        let caveats = caveats
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        (
            format!("{id}.toml"),
            format!(
                "id = \"{id}\"\nname = \"{id}\"\nsource = \"S1\"\ndefault_release = {default}\nlevels = [\n{levels}]\ncaveats = [{caveats}]\n"
            ),
        )
    };
    let members_of = |o: &str| format!("{{ members_of = \"{o}\" }}");
    let national = "\"originator-only\"";
    let three = ["CONFIDENTIAL", "SECRET", "TOP SECRET"];
    vec![
        policy(
            "NATO",
            &members_of("NATO"),
            &[
                "UNCLASSIFIED",
                "RESTRICTED",
                "CONFIDENTIAL",
                "SECRET",
                "COSMIC TOP SECRET",
            ],
            &["ATOMAL", "CRYPTO"],
        ),
        policy(
            "EU",
            &members_of("EU"),
            &["RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"],
            &["EU-CRYPTO"],
        ),
        policy("FVEY", &members_of("FVEY"), &three, &["NOFORN"]),
        policy(
            "FRA",
            national,
            &["SECRET", "TRES SECRET"],
            &["SPECIAL FRANCE"],
        ),
        policy("GBR", national, &three, &["UK EYES ONLY"]),
        policy("USA", national, &three, &["NOFORN"]),
        policy("JPN", national, &three, &[]),
        policy("DEU", national, &three, &[]),
    ]
}

/// A date in `year`, sometimes stated only to the month or the year.
fn stated_date(rng: &mut Rng, year: i32) -> String {
    match rng.below(10) {
        0 => format!("{year}"),
        1 => format!("{year}-{:02}", rng.range(1, 12)),
        _ => format!("{year}-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28)),
    }
}

struct World {
    text: String,
    registry: Registry,
    nations: Vec<String>,
    /// Days at which something changes, to test on, around and either side of.
    edges: Vec<Date>,
}

fn world(rng: &mut Rng, policies: &PolicySet) -> World {
    let mut nations = rng.subset(&NATIONS, 75);
    while nations.len() < 3 {
        let n = *rng.pick(&NATIONS);
        if !nations.contains(&n) {
            nations.push(n);
        }
    }
    let orgs = rng.subset(&ORGS, 70);
    let sources =
        "[[source]]\nid = \"S1\"\ntitle = \"Generated\"\nreference = \"test\"\ntier = 1\n";
    let nations_text = format!(
        "nations = [\n{}]\n",
        nations
            .iter()
            .map(|n| format!("  {{ code = \"{n}\", name = \"{n}\", source = \"S1\" }},\n"))
            .collect::<String>()
    );
    let mut orgs_text = String::new();
    for o in &orgs {
        let _ = writeln!(
            orgs_text,
            "[[organization]]\nid = \"{o}\"\nname = \"{o}\"\nkind = \"alliance\"\nsource = \"S1\"\nmembers = ["
        );
        for n in &nations {
            if !rng.chance(60) {
                continue;
            }
            // Periods years apart, so that partial dates never make them overlap or invert.
            let y1 = rng.range(1990, 2025);
            let mut periods = vec![(y1, None)];
            if rng.chance(40) {
                let y2 = y1 + rng.range(2, 8);
                periods[0].1 = Some(y2);
                if rng.chance(50) {
                    periods.push((y2 + rng.range(2, 6), None));
                }
            }
            for (from, until) in periods {
                let role = match rng.below(12) {
                    0 => ", role = \"third-state\"",
                    1 => ", role = \"observer\"",
                    _ => "",
                };
                let until = until
                    .map(|u| format!(", until = \"{}\"", stated_date(rng, u)))
                    .unwrap_or_default();
                let _ = writeln!(
                    orgs_text,
                    "  {{ nation = \"{n}\", from = \"{}\"{until}{role}, source = \"S1\" }},",
                    stated_date(rng, from)
                );
            }
        }
        orgs_text.push_str("]\n\n");
    }

    let policy_ids: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
    let all_caveats: Vec<String> = policies
        .iter()
        .flat_map(|p| p.caveats.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut agreements_text = String::new();
    let prefixes = ["alpha", "bravo", "kilo"];
    for i in 0..rng.range(2, 8) {
        let id = format!("{}-{i}", rng.pick(&prefixes));
        let mut parties: Vec<String> = Vec::new();
        for _ in 0..rng.below(4) {
            let n = rng.pick(&nations).to_string();
            if !parties.contains(&n) {
                parties.push(n);
            }
        }
        if !orgs.is_empty() && rng.chance(35) {
            for _ in 0..rng.range(1, 2) {
                let o = rng.pick(&orgs).to_string();
                if !parties.contains(&o) {
                    parties.push(o);
                }
            }
        }
        let members_of = (!orgs.is_empty() && rng.chance(40)).then(|| rng.pick(&orgs).to_string());
        if parties.is_empty() && members_of.is_none() {
            parties.push(rng.pick(&nations).to_string());
        }
        let _ = writeln!(
            agreements_text,
            "[[agreement]]\nid = \"{id}\"\nname = \"Agreement {id}\"\nkind = \"agreement\"\nsource = \"S1\"\nparties = [{}]",
            parties
                .iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(o) = &members_of {
            let _ = writeln!(agreements_text, "parties_are_members_of = \"{o}\"");
        }
        if rng.chance(90) {
            let y = rng.range(1990, 2030);
            if rng.chance(30) {
                let _ = writeln!(agreements_text, "signed = \"{}\"", y - 1);
            }
            let _ = writeln!(agreements_text, "in_force = \"{}\"", stated_date(rng, y));
            if rng.chance(25) {
                let t = y + rng.range(2, 10);
                let _ = writeln!(agreements_text, "terminated = \"{}\"", stated_date(rng, t));
            }
        }
        let mut suspended = Vec::new();
        for _ in 0..2 {
            if rng.chance(15) {
                let y = rng.range(1990, 2032);
                let until = if rng.chance(70) {
                    let u = y + rng.range(1, 3);
                    format!(", until = \"{}\"", stated_date(rng, u))
                } else {
                    String::new()
                };
                suspended.push(format!(
                    "{{ from = \"{}\"{until}, source = \"S1\" }}",
                    stated_date(rng, y)
                ));
            }
        }
        if !suspended.is_empty() {
            let _ = writeln!(agreements_text, "suspended = [{}]", suspended.join(", "));
        }
        let mut accessions: Vec<String> = Vec::new();
        let mut acceded: Vec<String> = Vec::new();
        for _ in 0..2 {
            if rng.chance(25) {
                let n = rng.pick(&nations).to_string();
                if !acceded.contains(&n) {
                    let y = rng.range(1995, 2032);
                    accessions.push(format!(
                        "{{ nation = \"{n}\", in_force = \"{}\", source = \"S1\" }}",
                        stated_date(rng, y)
                    ));
                    acceded.push(n);
                }
            }
        }
        if !accessions.is_empty() {
            let _ = writeln!(agreements_text, "accessions = [{}]", accessions.join(", "));
        }
        agreements_text.push('\n');
        for j in 0..rng.range(1, 3) {
            let cid = format!("c{}", rng.below(10) * 10 + j as usize);
            let security = rng.chance(85);
            let _ = writeln!(
                agreements_text,
                "[[agreement.clause]]\nid = \"{cid}\"\narticle = \"Article {j}\"\nsummary = \"s\"\nsource = \"S1\"\nkind = \"{}\"",
                if security { "security-of-information" } else { "cooperation" }
            );
            if security {
                if rng.chance(60) {
                    let (policy, level) = if rng.chance(5) {
                        ("UNKNOWN".to_owned(), "SECRET".to_owned())
                    } else {
                        let p = policies.get(rng.pick(&policy_ids).as_str()).unwrap();
                        let level = if rng.chance(5) {
                            "BOGUS".to_owned()
                        } else {
                            let l = rng.pick(&p.levels);
                            // By name or by marking, as datasets do.
                            if rng.chance(50) {
                                l.name.clone()
                            } else {
                                l.marking.clone()
                            }
                        };
                        (p.id.clone(), level)
                    };
                    let _ = writeln!(
                        agreements_text,
                        "max_classification = {{ policy = \"{policy}\", level = \"{level}\" }}"
                    );
                }
                let caveats = rng.subset(&all_caveats, 25);
                if !caveats.is_empty() {
                    let _ = writeln!(
                        agreements_text,
                        "caveats = [{}]",
                        caveats
                            .iter()
                            .map(|c| format!("\"{c}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                let _ = writeln!(agreements_text, "domains = [\"d\"]");
            }
            agreements_text.push('\n');
        }
    }
    let text = format!(
        "# nations.toml\n{nations_text}\n# organizations/orgs.toml\n{orgs_text}\n# agreements/agreements.toml\n{agreements_text}"
    );
    let registry = Registry::from_text(DatasetText {
        sources: sources.to_owned(),
        nations: nations_text,
        organizations: vec![("orgs.toml".to_owned(), orgs_text)],
        agreements: vec![("agreements.toml".to_owned(), agreements_text)],
    })
    .unwrap_or_else(|e| panic!("generated registry invalid: {e}\n{text}"));

    let mut edges = Vec::new();
    for o in registry.organizations() {
        for m in &o.memberships {
            edges.push(m.period.from);
            edges.extend(m.period.until);
        }
    }
    for a in registry.agreements() {
        if let Some(f) = a.force_period() {
            edges.push(f.from);
            edges.extend(f.until);
        }
        for s in &a.suspended {
            edges.push(s.from);
            edges.extend(s.until);
        }
        edges.extend(a.accessions.iter().map(|(_, d)| d.earliest_certain_start()));
    }
    World {
        text,
        registry,
        nations: nations.iter().map(|n| n.to_string()).collect(),
        edges,
    }
}

/// National rules for the world: France's shipped rules, and a generated British rule that
/// uses membership on the day.
fn rules(world: &World, rng: &mut Rng) -> Vec<(String, String)> {
    let mut files = Vec::new();
    if world.nations.iter().any(|n| n == "FRA") {
        files.push((
            "FRA.cedar".to_owned(),
            include_str!("../../../../data/policies/rules/FRA.cedar").to_owned(),
        ));
    }
    if world.nations.iter().any(|n| n == "GBR") {
        files.push((
            "GBR.cedar".to_owned(),
            r#"
@id("top-levels-stay-in-the-eu")
forbid (principal, action == Action::"release", resource)
when { resource.rank >= 2 && !(context.recipient in Organization::"EU") && context.day >= 20100101 };

@id("no-crypto-after-2020")
forbid (principal, action == Action::"release", resource)
when { resource.caveats.contains("CRYPTO") && context.day > 20200101 };
"#
            .to_owned(),
        ));
    }
    // Random rules of the supported subset (and, now and then, one Cedar must decide) for
    // some of the other nations.
    for n in &world.nations {
        if n == "FRA" || n == "GBR" || !rng.chance(40) {
            continue;
        }
        let mut text = String::new();
        for i in 0..=rng.below(3) {
            text.push_str(&random_rule(rng, world, n, i));
        }
        files.push((format!("{n}.cedar"), text));
    }
    files
}

const CAVEATS: [&str; 7] = [
    "ATOMAL",
    "CRYPTO",
    "EU-CRYPTO",
    "NOFORN",
    "SPECIAL FRANCE",
    "UK EYES ONLY",
    "OTHER",
];
const POLICY_IDS: [&str; 8] = ["NATO", "EU", "FVEY", "FRA", "GBR", "USA", "JPN", "DEU"];
const LEVELS: [&str; 6] = [
    "SECRET",
    "CONFIDENTIAL",
    "TOP SECRET",
    "RESTRICTED",
    "UNCLASSIFIED",
    "TRES SECRET",
];

/// One `forbid` rule of `nation`'s file, in the compiled subset nine times in ten.
fn random_rule(rng: &mut Rng, world: &World, nation: &str, i: usize) -> String {
    let principal = match rng.below(4) {
        0 => "principal".to_owned(),
        1 => format!("principal == Nation::\"{}\"", rng.pick(&NATIONS)),
        2 => format!("principal in Organization::\"{}\"", rng.pick(&ORGS)),
        _ => format!("principal == Nation::\"{nation}\""),
    };
    let action = if rng.chance(50) {
        "action"
    } else {
        "action == Action::\"release\""
    };
    let mut text = format!("@id(\"rule-{i}\")\nforbid ({principal}, {action}, resource)\n");
    let conditions = 1 + rng.below(2);
    for _ in 0..conditions {
        let kind = if rng.chance(75) { "when" } else { "unless" };
        let body = if rng.chance(10) {
            // Outside the subset: left to Cedar.
            format!(
                "resource has rel0 && resource.rel0.tokens.contains(\"{}\")",
                rng.pick(&NATIONS)
            )
        } else {
            condition(rng, world, 2)
        };
        let _ = writeln!(text, "{kind} {{ {body} }}");
    }
    text.push_str(";\n\n");
    text
}

fn condition(rng: &mut Rng, world: &World, depth: usize) -> String {
    if depth > 0 && rng.chance(45) {
        let a = condition(rng, world, depth - 1);
        let b = condition(rng, world, depth - 1);
        return match rng.below(4) {
            0 => format!("({a} && {b})"),
            1 => format!("({a} || {b})"),
            2 => format!("!({a})"),
            _ => format!(
                "(if {a} then {b} else {})",
                condition(rng, world, depth - 1)
            ),
        };
    }
    let op = *rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
    let nation = |rng: &mut Rng| {
        if rng.chance(70) {
            rng.pick(&world.nations).clone()
        } else {
            rng.pick(&NATIONS).to_string()
        }
    };
    let strings = |rng: &mut Rng| {
        let items: Vec<String> = (0..=rng.below(2))
            .map(|_| format!("\"{}\"", rng.pick(&CAVEATS)))
            .collect();
        items.join(", ")
    };
    match rng.below(14) {
        0 => format!("resource.caveats.contains(\"{}\")", rng.pick(&CAVEATS)),
        1 => format!("resource.caveats.containsAny([{}])", strings(rng)),
        2 => format!("resource.caveats.containsAll([{}])", strings(rng)),
        3 => format!(
            "resource.contexts.contains(\"{}\")",
            rng.pick(&["EU", "NATO", "X"])
        ),
        4 => format!("resource.policy == Policy::\"{}\"", rng.pick(&POLICY_IDS)),
        5 => format!("resource.level == \"{}\"", rng.pick(&LEVELS)),
        6 => format!("resource.rank {op} {}", rng.below(5)),
        7 => format!("resource.releaseSetCount {op} {}", rng.below(3)),
        8 => format!(
            "context.recipient {} Nation::\"{}\"",
            if rng.chance(50) { "==" } else { "!=" },
            nation(rng)
        ),
        9 => format!("context.recipient in Organization::\"{}\"", rng.pick(&ORGS)),
        10 => format!(
            "context.recipient in [Organization::\"{}\", Organization::\"{}\"]",
            rng.pick(&ORGS),
            rng.pick(&ORGS)
        ),
        11 => format!(
            "context.day {op} {}{:02}{:02}",
            rng.range(1990, 2030),
            rng.range(1, 12),
            rng.range(1, 28)
        ),
        12 => format!(
            "[Nation::\"{}\", Nation::\"{}\"].contains(context.recipient)",
            nation(rng),
            nation(rng)
        ),
        // A literal nation: it has organisations only when the request holds it.
        _ => format!(
            "Nation::\"{}\" in Organization::\"{}\"",
            nation(rng),
            rng.pick(&ORGS)
        ),
    }
}

/// A case aimed at a security clause of the world: a label of a policy under its ceiling,
/// caveats it may cover, and nations that may stand for its parties. Most such cases are still
/// refused for some detail (the day, a set, a caveat), which is the point.
fn aimed(
    rng: &mut Rng,
    world: &World,
    policies: &PolicySet,
) -> Option<(Label, String, String, Option<Date>)> {
    let clauses: Vec<(&Agreement, &Clause)> = world
        .registry
        .agreements()
        .iter()
        .flat_map(|a| a.clauses.iter().map(move |c| (a, c)))
        .filter(|(_, c)| c.kind == ClauseKind::SecurityOfInformation)
        .collect();
    if clauses.is_empty() {
        return None;
    }
    let (a, c) = *rng.pick(&clauses);
    let security = c.security.clone().unwrap_or_default();
    let mut candidates: Vec<String> = a.parties.iter().map(|p| p.to_string()).collect();
    candidates.extend(a.parties_are_members_of.iter().map(|o| o.0.clone()));
    let policy = match &security.max_classification {
        Some(max) => max.policy.clone(),
        None => rng.pick(&candidates).clone(),
    };
    let p = policies.get(&policy)?;
    let mut label = Label::new(policies, &p.id, &rng.pick(&p.levels).name).ok()?;
    // Nations that may stand for a party: named ones and members of organisation parties.
    let mut nations: Vec<String> = Vec::new();
    for party in candidates {
        match world.registry.organization_by_id(&OrgId(party.clone())) {
            Some(o) => nations.extend(o.memberships.iter().map(|m| m.nation.to_string())),
            None => nations.push(party),
        }
    }
    if nations.is_empty() {
        return None;
    }
    let from = rng.pick(&nations).clone();
    let mut to = rng.pick(&nations).clone();
    for _ in 0..3 {
        if to != from {
            break;
        }
        to = rng.pick(&nations).clone();
    }
    if rng.chance(70) {
        let mut set = vec![to.clone()];
        if rng.chance(50) {
            set.push(rng.pick(&world.nations).clone());
        }
        label = label
            .with_releasable_to(set.iter().map(|t| ReleaseToken::parse(t).unwrap()))
            .unwrap();
    }
    for caveat in &p.caveats {
        if (security.caveats.contains(caveat) && rng.chance(50)) || rng.chance(5) {
            label = label.with_caveat(policies, caveat).unwrap();
        }
    }
    // Usually a day the agreement is in force (suspensions and memberships aside).
    let day = a.force_period().filter(|_| rng.chance(70)).map(|f| {
        let span = f.until.map_or(6000, |u| (u - f.from).num_days().max(0) + 1);
        f.from + chrono::Days::new(rng.below(span as usize) as u64)
    });
    Some((label, from, to, day))
}

fn label(rng: &mut Rng, world: &World, policies: &PolicySet) -> Label {
    let ids: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
    let p = policies.get(rng.pick(&ids).as_str()).unwrap();
    let level = &rng.pick(&p.levels).name;
    let mut label = Label::new(policies, &p.id, level).unwrap();
    let sets = match rng.below(20) {
        0..=4 => 0,
        5..=13 => 1,
        14..=17 => 2,
        _ => 3,
    };
    for _ in 0..sets {
        let mut tokens = Vec::new();
        if !rng.chance(8) {
            for _ in 0..rng.range(1, 4) {
                let t = match rng.below(100) {
                    0..=59 => rng.pick(&world.nations).clone(),
                    60..=64 => rng.pick(&NATIONS).to_string(),
                    65..=97 => rng.pick(&ORGS).to_string(),
                    _ => rng.pick(&UNKNOWN_TOKENS).to_string(),
                };
                tokens.push(ReleaseToken::parse(&t).unwrap());
            }
        }
        label = label.with_releasable_to(tokens).unwrap();
    }
    for c in &p.caveats {
        if rng.chance(20) {
            label = label.with_caveat(policies, c).unwrap();
        }
    }
    label
}

fn day(rng: &mut Rng, world: &World) -> Date {
    if !world.edges.is_empty() && rng.chance(40) {
        let edge = *rng.pick(&world.edges);
        return match rng.below(3) {
            0 => edge.pred_opt().unwrap_or(edge),
            1 => edge,
            _ => edge.succ_opt().unwrap_or(edge),
        };
    }
    Date::from_ymd_opt(
        rng.range(1988, 2037),
        rng.range(1, 12) as u32,
        rng.range(1, 28) as u32,
    )
    .unwrap()
}

fn kind(d: &Decision) -> &'static str {
    match &d.reason {
        Reason::SameNation => "same nation",
        Reason::Covered { .. } => "covered",
        Reason::EmptyReleaseSet => "empty set",
        Reason::NotInReleaseSet { .. } => "not in set",
        Reason::OriginatorOnly { .. } => "originator only",
        Reason::NotMemberForDefault { .. } => "not member (default)",
        Reason::UnknownReleaseToken { .. } => "unknown token",
        Reason::NoAgreement { .. } => "no agreement",
        Reason::NationalRule { .. } => "national rule",
        Reason::RuleError { .. } => "rule error",
        Reason::NotInformation { .. } => "not information",
        Reason::Unlabelled => "unlabelled",
    }
}

#[test]
fn compiled_and_cedar_decisions_agree() {
    let cases: usize = std::env::var("ENTENTE_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("ENTENTE_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x0E17_E17E);
    let mut rng = Rng(seed);
    let policies = PolicySet::from_texts(policy_texts()).unwrap();
    let started = Instant::now();
    let mut done = 0;
    let mut worlds = 0;
    let mut disagreements = Vec::new();
    let mut disagreement_count = 0usize;
    let mut tally: std::collections::BTreeMap<&'static str, usize> = Default::default();
    while done < cases {
        let w = world(&mut rng, &policies);
        worlds += 1;
        let files = rules(&w, &mut rng);
        let compiled_rules = CompiledNationalRules::compile(
            CedarNationalRules::from_texts(files.clone(), &w.registry, &policies)
                .unwrap_or_else(|e| panic!("{e}\n{files:?}")),
            &w.registry,
        );
        let cedar_rules = CedarNationalRules::from_texts(files, &w.registry, &policies).unwrap();
        let compiled = ReleasePolicy::new(&w.registry, policies.clone())
            .with_national_rules(Box::new(compiled_rules));
        let cedar = CedarPolicy::new(&w.registry, &policies)
            .unwrap_or_else(|e| panic!("{e}\n{}", w.text))
            .with_national_rules(cedar_rules);
        for _ in 0..CASES_PER_WORLD.min(cases - done) {
            done += 1;
            let aimed = if rng.chance(50) {
                aimed(&mut rng, &w, &policies)
            } else {
                None
            };
            let (l, from, to, d): (Label, NationCode, NationCode, Option<Date>) = match aimed {
                Some((l, from, to, d)) => (l, from.parse().unwrap(), to.parse().unwrap(), d),
                None => {
                    let l = label(&mut rng, &w, &policies);
                    let pool: Vec<&str> = if rng.chance(5) {
                        NATIONS.to_vec()
                    } else {
                        w.nations.iter().map(String::as_str).collect()
                    };
                    let from: NationCode = rng.pick(&pool).parse().unwrap();
                    let to: NationCode = if rng.chance(5) {
                        from
                    } else {
                        rng.pick(&pool).parse().unwrap()
                    };
                    (l, from, to, None)
                }
            };
            let d = d.unwrap_or_else(|| day(&mut rng, &w));
            let a = compiled.decide(&l, from, to, d);
            let b = cedar.decide(&l, from, to, d);
            *tally.entry(kind(&a)).or_default() += 1;
            if a != b {
                disagreement_count += 1;
                if disagreements.len() < 3 {
                    disagreements.push(format!(
                        "label {l:?}\n{from} -> {to} on {d}\ncompiled: {a:?}\ncedar:    {b:?}\n{}\ncedar policies:\n{}",
                        w.text,
                        cedar.policy_text()
                    ));
                }
            }
        }
    }
    let elapsed = started.elapsed();
    let permits: usize = tally
        .iter()
        .filter(|(k, _)| matches!(**k, "covered" | "same nation"))
        .map(|(_, v)| v)
        .sum();
    println!(
        "differential: {done} decisions over {worlds} registries in {:.1} s, {permits} permits, {disagreement_count} disagreements",
        elapsed.as_secs_f64()
    );
    println!("by compiled reason: {tally:?}");
    assert!(
        disagreements.is_empty(),
        "{disagreement_count} disagreements; first ones:\n\n{}",
        disagreements.join("\n\n----\n\n")
    );
    // The generator must reach every kind of decision, or the agreement proves little.
    for k in [
        "covered",
        "same nation",
        "empty set",
        "not in set",
        "originator only",
        "not member (default)",
        "unknown token",
        "no agreement",
        "national rule",
    ] {
        assert!(
            cases < 5_000 || tally.get(k).copied().unwrap_or(0) > 0,
            "no case of {k}"
        );
    }
    assert_eq!(
        tally.values().sum::<usize>(),
        done,
        "every decision was tallied"
    );
}

/// The national rules alone, compiled and in Cedar, on random rules, labels, nations and days:
/// the same rule fires (or none, or both fail). `ENTENTE_RULES_CASES` sets the number of
/// requests (default 20,000; the release-mode run of 1,000,000 is recorded in BENCHMARKS.md).
#[test]
fn compiled_and_cedar_national_rules_agree() {
    let cases: usize = std::env::var("ENTENTE_RULES_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng(0x5EED_C0DE);
    let policies = PolicySet::from_texts(policy_texts()).unwrap();
    let started = Instant::now();
    let (mut done, mut fired, mut fallbacks, mut compiled_rules) = (0, 0, 0, 0);
    let mut disagreements = Vec::new();
    while done < cases {
        let w = world(&mut rng, &policies);
        let files = rules(&w, &mut rng);
        let cedar = CedarNationalRules::from_texts(files.clone(), &w.registry, &policies)
            .unwrap_or_else(|e| panic!("{e}\n{files:?}"));
        let compiled = CompiledNationalRules::compile(
            CedarNationalRules::from_texts(files.clone(), &w.registry, &policies).unwrap(),
            &w.registry,
        );
        fallbacks += compiled.fallbacks().len();
        compiled_rules += files
            .iter()
            .map(|(_, t)| t.matches("forbid").count())
            .sum::<usize>();
        let with_rules: Vec<String> = files
            .iter()
            .map(|(f, _)| f.trim_end_matches(".cedar").to_owned())
            .collect();
        if with_rules.is_empty() {
            continue;
        }
        for _ in 0..CASES_PER_WORLD.min(cases - done) {
            done += 1;
            let l = label(&mut rng, &w, &policies);
            let from: NationCode = rng.pick(&with_rules).parse().unwrap();
            let to: NationCode = rng.pick(&NATIONS).parse().unwrap();
            let d = day(&mut rng, &w);
            let a = compiled.forbids(&l, from, to, d);
            let b = cedar.forbids(&l, from, to, d);
            fired += usize::from(matches!(a, Ok(Some(_))));
            let same = match (&a, &b) {
                (Ok(x), Ok(y)) => x == y,
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if !same && disagreements.len() < 3 {
                disagreements.push(format!(
                    "label {l:?}\n{from} -> {to} on {d}\ncompiled: {a:?}\ncedar:    {b:?}\n{files:#?}"
                ));
            }
        }
    }
    println!(
        "national rules: {done} requests in {:.1} s, {fired} forbidden, {compiled_rules} rules of which {fallbacks} left to Cedar, {} disagreements",
        started.elapsed().as_secs_f64(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "disagreements:\n\n{}",
        disagreements.join("\n\n----\n\n")
    );
    assert!(
        cases < 5_000 || (fired > cases / 50 && fallbacks > 0),
        "the rules rarely fire: {fired}"
    );
}
