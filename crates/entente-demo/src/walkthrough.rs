//! Part 1 of the demonstration: a walk through the shipped registry answering the questions
//! coalition staff ask: who belongs to which alliance on which day, who must come to whose aid,
//! and which agreements let two nations exchange classified information, with the release
//! decisions that follow from them.

use std::path::Path;
use std::time::Instant;

use entente_labels::{parse_marking, PolicySet};
use entente_policy::ReleasePolicy;
use entente_registry::{Party, Registry};
use entente_types::{parse_date, Date};
use serde::Serialize;
use serde_json::{json, Value};

use crate::progress::{Progress, Table};
use crate::DemoError;

/// The days of the membership table, before today's.
const MILESTONES: [&str; 10] = [
    "1950-01-01",
    "1958-01-01",
    "1990-01-01",
    "2004-05-01",
    "2017-12-11",
    "2020-01-31",
    "2020-02-01",
    "2023-05-23",
    "2024-03-06",
    "2024-03-07",
];
/// The organisations counted on each day.
const ORGANISATIONS: [&str; 5] = ["NATO", "EU", "PESCO", "EI2", "FVEY"];
const NATO_TREATY: &str = "north-atlantic-treaty";
const TEU: &str = "teu-lisbon";

/// What the walk-through showed (the first part of the demonstration's manifest).
#[derive(Debug, Clone, Serialize)]
pub struct WalkthroughReport {
    /// The day of the walk-through, YYYY-MM-DD.
    pub today: String,
    /// The registry folder it loaded.
    pub registry: String,
    pub membership_counts: Vec<MembershipCount>,
    pub obligations: Vec<Obligation>,
    pub security_cover: Vec<SecurityCover>,
    pub release_decisions: Vec<ShownDecision>,
}

/// The number of members of each organisation on one day.
#[derive(Debug, Clone, Serialize)]
pub struct MembershipCount {
    pub day: String,
    /// Organisation → number of members, in the order shown.
    pub members: serde_json::Map<String, Value>,
}

/// Who is bound to come to a nation's aid on a day, and under what.
#[derive(Debug, Clone, Serialize)]
pub struct Obligation {
    pub nation: String,
    pub at: String,
    pub defenders: usize,
    pub nato_article_5: usize,
    pub teu_article_42_7: usize,
    /// Defenders bound by another agreement than the two above.
    pub bilateral: Vec<String>,
}

/// The agreements under which two nations may exchange classified information today.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityCover {
    pub from: String,
    pub to: String,
    pub agreements: Vec<String>,
}

/// One release decision shown, with its reason.
#[derive(Debug, Clone, Serialize)]
pub struct ShownDecision {
    pub label: String,
    pub from: String,
    pub to: String,
    pub at: String,
    /// "permit" or "deny".
    pub decision: String,
    pub reason: String,
    pub agreement: Option<String>,
    pub clause: Option<String>,
}

/// The walk-through's outcome: its report, and the release policy built on the way (the live
/// federation decides with it).
pub struct Walkthrough {
    pub report: WalkthroughReport,
    pub release: ReleasePolicy,
}

/// Loads the registry in `registry_dir` and the policies in `policies_dir`, and shows, as of
/// `today`, memberships, obligations, information-security cover, release decisions and a few
/// landmarks of the timeline.
pub fn run(
    registry_dir: &Path,
    policies_dir: &Path,
    today: Date,
    progress: &mut dyn Progress,
) -> Result<Walkthrough, DemoError> {
    let started = Instant::now();
    let registry = Registry::load(registry_dir)?;
    progress.text(&format!(
        "Entente registry: {} nations, {} organisations, {} agreements, {} sources (loaded and validated in {:.1} ms from {})\n",
        registry.nations().count(),
        registry.organizations().len(),
        registry.agreements().len(),
        registry.sources().count(),
        started.elapsed().as_secs_f64() * 1e3,
        registry_dir.display(),
    ))?;
    let membership_counts = memberships(&registry, today, progress)?;
    let obligations = obligations(&registry, today, progress)?;
    let security_cover = security_cover(&registry, today, progress)?;
    let release = ReleasePolicy::new(&registry, PolicySet::load(policies_dir)?);
    let release_decisions = decisions(&registry, &release, today, progress)?;
    landmarks(&registry, progress)?;
    let report = WalkthroughReport {
        today: today.to_string(),
        registry: registry_dir.display().to_string(),
        membership_counts,
        obligations,
        security_cover,
        release_decisions,
    };
    Ok(Walkthrough { report, release })
}

/// Alliances through time: members of each organisation on key days, and today.
fn memberships(
    registry: &Registry,
    today: Date,
    progress: &mut dyn Progress,
) -> Result<Vec<MembershipCount>, DemoError> {
    let mut table = Table::new(std::iter::once("day").chain(ORGANISATIONS));
    let mut counts = Vec::new();
    for day in MILESTONES.iter().map(|d| parse_date(d)).chain([Ok(today)]) {
        let day = day?;
        let mut row = vec![day.to_string()];
        let mut members = serde_json::Map::new();
        for org in ORGANISATIONS {
            let n = registry.members(registry.organization(org)?, day).len();
            row.push(n.to_string());
            members.insert(org.to_owned(), json!(n));
        }
        table.add_row(row);
        counts.push(MembershipCount {
            day: day.to_string(),
            members,
        });
    }
    progress.text("Members of each organisation on key days (the last row is today):")?;
    progress.table(&table)?;
    Ok(counts)
}

/// Obligations: the effect of Sweden's accession, and the Franco-German bond.
fn obligations(
    registry: &Registry,
    today: Date,
    progress: &mut dyn Progress,
) -> Result<Vec<Obligation>, DemoError> {
    let mut obligations = Vec::new();
    progress.text("\nWho is bound to come to a nation's aid:")?;
    let mut table = Table::new([
        "nation",
        "day",
        "defenders",
        "NATO Art. 5",
        "TEU Art. 42(7)",
        "bilateral",
    ]);
    for (nation, day) in [
        ("EST", today),
        ("SWE", parse_date("2024-03-06")?),
        ("SWE", parse_date("2024-03-07")?),
        ("DEU", today),
        ("JPN", today),
    ] {
        let code = registry.nation_code(nation)?;
        let defenders = registry.obligations_toward(code, day);
        let count = |agreement: &str| {
            defenders
                .iter()
                .filter(|d| d.basis.iter().any(|b| b.agreement.0 == agreement))
                .count()
        };
        let nato = count(NATO_TREATY);
        let eu = count(TEU);
        let bilateral: Vec<String> = defenders
            .iter()
            .filter(|d| {
                d.basis
                    .iter()
                    .any(|b| b.agreement.0 != NATO_TREATY && b.agreement.0 != TEU)
            })
            .map(|d| d.nation.to_string())
            .collect();
        table.add_row([
            nation.to_owned(),
            day.to_string(),
            defenders.len().to_string(),
            nato.to_string(),
            eu.to_string(),
            bilateral.join(", "),
        ]);
        obligations.push(Obligation {
            nation: nation.to_owned(),
            at: day.to_string(),
            defenders: defenders.len(),
            nato_article_5: nato,
            teu_article_42_7: eu,
            bilateral,
        });
    }
    progress.table(&table)?;
    Ok(obligations)
}

/// Information-security cover between pairs of nations.
fn security_cover(
    registry: &Registry,
    today: Date,
    progress: &mut dyn Progress,
) -> Result<Vec<SecurityCover>, DemoError> {
    progress.text(
        "\nAgreements under which two parties may exchange classified information (today):",
    )?;
    let mut table = Table::new(["from", "to", "agreement", "ceiling"]);
    let mut covers = Vec::new();
    for (a, b) in [
        ("FRA", "DEU"),
        ("FRA", "JPN"),
        ("GBR", "JPN"),
        ("USA", "JPN"),
        ("DEU", "JPN"),
        ("FRA", "USA"),
    ] {
        let pa = Party::Nation(registry.nation_code(a)?);
        let pb = Party::Nation(registry.nation_code(b)?);
        let found = registry.security_cover(&pa, &pb, today);
        if found.is_empty() {
            table.add_row([a, b, "none in force in the dataset", "-"]);
        }
        for c in &found {
            let ceiling = c
                .clause
                .security
                .as_ref()
                .and_then(|s| s.max_classification.as_ref())
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            table.add_row([
                a.to_owned(),
                b.to_owned(),
                c.agreement.name.clone(),
                ceiling,
            ]);
        }
        covers.push(SecurityCover {
            from: a.to_owned(),
            to: b.to_owned(),
            agreements: found.iter().map(|c| c.agreement.id.0.clone()).collect(),
        });
    }
    progress.table(&table)?;
    Ok(covers)
}

/// Release decisions derived from those agreements, with their explanations.
fn decisions(
    registry: &Registry,
    release: &ReleasePolicy,
    today: Date,
    progress: &mut dyn Progress,
) -> Result<Vec<ShownDecision>, DemoError> {
    progress.text("\nRelease decisions (each names the agreement that allows it, or the rule that refuses it):")?;
    let mut table = Table::new(["label", "from", "to", "day", "decision", "because"]);
    let mut decisions = Vec::new();
    let nato_restricted = "NATO RESTRICTED//REL TO NATO";
    let cases = [
        ("NATO SECRET//REL TO FRA, GBR, USA", "FRA", "USA", today),
        ("NATO SECRET//REL TO FRA, GBR, USA", "FRA", "JPN", today),
        ("NATO SECRET//REL TO FRA, JPN", "FRA", "JPN", today),
        (nato_restricted, "FRA", "SWE", parse_date("2024-01-01")?),
        (nato_restricted, "FRA", "SWE", parse_date("2024-04-01")?),
        (nato_restricted, "FRA", "SWE", parse_date("2024-08-02")?),
        ("FR SECRET//REL TO FRA, JPN", "FRA", "JPN", today),
        ("FR SECRET", "FRA", "DEU", today),
        ("NATO SECRET//ATOMAL//REL TO FRA, USA", "FRA", "USA", today),
    ];
    for (marking, from, to, day) in cases {
        let label = parse_marking(release.policies(), marking)?;
        let d = release.decide(
            &label,
            registry.nation_code(from)?,
            registry.nation_code(to)?,
            day,
        );
        let verdict = if d.is_permit() { "permit" } else { "deny" };
        table.add_row([
            marking.to_owned(),
            from.to_owned(),
            to.to_owned(),
            day.to_string(),
            verdict.to_owned(),
            d.to_string(),
        ]);
        decisions.push(ShownDecision {
            label: marking.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            at: day.to_string(),
            decision: verdict.to_owned(),
            reason: d.to_string(),
            agreement: d.agreement().map(str::to_owned),
            clause: d.clause().map(str::to_owned),
        });
    }
    progress.table(&table)?;
    Ok(decisions)
}

/// A few landmarks of the timeline, and where to go next.
fn landmarks(registry: &Registry, progress: &mut dyn Progress) -> Result<(), DemoError> {
    progress.text("\nLandmarks:")?;
    let subjects = ["westphalia", NATO_TREATY, "rome", "elysee", "aachen", TEU];
    for e in registry
        .timeline(None, None)
        .iter()
        .filter(|e| e.nation.is_none())
        .filter(|e| subjects.iter().any(|k| e.subject.contains(k)))
    {
        progress.text(&format!("  {}  {}", e.date, e.description))?;
    }
    progress.text(
        "\nTry: entente registry obligations EST --json | entente registry graph --format dot",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::progress::Delivery;
    use crate::tests::data_dir;

    /// Keeps what the walk-through showed.
    #[derive(Default)]
    struct Recorded {
        texts: Vec<String>,
        tables: Vec<Table>,
    }

    impl Progress for Recorded {
        fn text(&mut self, text: &str) -> std::io::Result<()> {
            self.texts.push(text.to_owned());
            Ok(())
        }
        fn table(&mut self, table: &Table) -> std::io::Result<()> {
            self.tables.push(table.clone());
            Ok(())
        }
        fn delivery(&mut self, _: Delivery<'_>) -> std::io::Result<()> {
            Ok(())
        }
        fn crisis(&mut self, _: crate::Crisis<'_>) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn walk(day: &str) -> (Walkthrough, Recorded) {
        let mut shown = Recorded::default();
        let walk = run(
            &data_dir("registry"),
            &data_dir("policies"),
            parse_date(day).unwrap(),
            &mut shown,
        )
        .unwrap();
        (walk, shown)
    }

    #[test]
    fn the_shipped_registry_answers_the_walk_through() {
        let (walk, shown) = walk("2024-09-01");
        let report = &walk.report;
        assert_eq!(report.today, "2024-09-01");
        assert_eq!(report.membership_counts.len(), MILESTONES.len() + 1);
        let after_sweden = report
            .membership_counts
            .iter()
            .find(|c| c.day == "2024-03-07")
            .unwrap();
        assert_eq!(after_sweden.members["NATO"], 32);
        let swe: Vec<&str> = report
            .release_decisions
            .iter()
            .filter(|d| d.to == "SWE")
            .map(|d| d.decision.as_str())
            .collect();
        assert_eq!(swe, ["deny", "deny", "permit"]);
        assert_eq!(
            report.release_decisions[0].agreement.as_deref(),
            Some("nato-security-of-information-1997")
        );
        // Four tables (members, obligations, cover, decisions), in that order.
        assert_eq!(shown.tables.len(), 4);
        assert_eq!(shown.tables[0].header[0], "day");
        assert_eq!(shown.tables[3].header[4], "decision");
        assert!(shown.texts[0].starts_with("Entente registry: "));
        assert!(shown.texts.iter().any(|t| t == "\nLandmarks:"));
    }

    #[test]
    fn the_report_serialises_as_the_manifest_fields_in_order() {
        let (walk, _) = walk("2024-09-01");
        let text = serde_json::to_string(&walk.report).unwrap();
        let order = [
            "\"today\"",
            "\"registry\"",
            "\"membership_counts\"",
            "\"obligations\"",
            "\"security_cover\"",
            "\"release_decisions\"",
        ];
        let at: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["release_decisions"][1]["agreement"], Value::Null);
        assert_eq!(value["obligations"][0]["nation"], "EST");
    }

    #[test]
    fn a_missing_registry_is_a_registry_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut shown = Recorded::default();
        let e = run(
            &dir.path().join("registry"),
            &data_dir("policies"),
            parse_date("2024-09-01").unwrap(),
            &mut shown,
        )
        .err()
        .unwrap();
        assert!(matches!(e, DemoError::Registry(_)), "{e}");
    }
}
