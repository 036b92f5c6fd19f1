//! Which national tracks may enter which nation's picture: the release policy's decision, per
//! sensor, recipient nation and UTC day of the simulation.
//!
//! Every national track carries the confidentiality label of the sensor that produced it (the
//! nation's `label` in the scenario, or a radar's own `label`). A nation's radars that share a
//! label feed one tracker, its sensor here; a radar with a label of its own feeds a tracker of
//! its own, so that each track carries exactly one label. [`Releases::prepare`] asks
//! [`ReleasePolicy::decide`] once per sensor, recipient and day of the run (a run may cross
//! midnight; membership and agreements change on days), keeps each [`Decision`] with its reason,
//! and [`DayReleases`] is the predicate fusion applies before any arithmetic. The exercise decides
//! nothing itself: an unknown sensor or a day outside the run is denied.

use std::collections::BTreeMap;

use entente_fusion::fusion::Releasability;
use entente_fusion::model::{Markings, NationalTrack};
use entente_labels::Label;
use entente_labels::{parse_marking, render_marking};
use entente_policy::{Decision, ReleasePolicy};
use entente_types::{Date, NationCode};
use serde_json::Value;

use crate::error::{Diagnostic, Error};
use crate::record::ReleaseEntry;
use crate::scenario::{LabelText, Scenario};

/// One national tracker and the label its tracks carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensor {
    /// Name, unique in the run: `LTU-radars` for the radars under their nation's label, the
    /// radar ids joined by `+` for radars with a label of their own.
    pub name: String,
    /// The nation whose radars these are: the originator of its tracks.
    pub nation: NationCode,
    /// Indices into [`Scenario::radars`], in scenario order.
    pub radars: Vec<usize>,
    /// The label, validated against the policies.
    pub label: Label,
    /// The label in its canonical marking form.
    pub marking: String,
    /// The STIX marking definition of the label.
    pub marking_definition: Value,
    /// Its id, what the sensor's tracks carry in `object_marking_refs`.
    pub marking_id: String,
}

/// The decisions of one day: whether each sensor's tracks may reach each nation.
#[derive(Debug, Clone, PartialEq)]
pub struct DayReleases {
    day: Date,
    /// Sensor name and nation, in [`Releases::sensors`] order.
    sensors: Vec<(String, NationCode)>,
    recipients: Vec<NationCode>,
    /// `decisions[sensor * recipients.len() + recipient]`.
    decisions: Vec<Decision>,
}

impl DayReleases {
    /// The day.
    pub fn day(&self) -> Date {
        self.day
    }

    /// The decision for `sensor`'s tracks and `recipient`, if both take part.
    pub fn decision(&self, sensor: &str, recipient: NationCode) -> Option<&Decision> {
        let s = self.sensors.iter().position(|(name, _)| name == sensor)?;
        let r = self.recipients.iter().position(|&n| n == recipient)?;
        self.decisions.get(s * self.recipients.len() + r)
    }
}

impl Releasability<Markings> for DayReleases {
    /// Released when the policy permitted the track's sensor to the recipient on this day, and
    /// the track's nation is that sensor's (a track claiming another nation's sensor is denied).
    fn may_receive(&self, track: &NationalTrack<Markings>, recipient: NationCode) -> bool {
        let Some(s) = self
            .sensors
            .iter()
            .position(|(name, _)| *name == track.sensor)
        else {
            return false;
        };
        if self.sensors[s].1 != track.source.nation {
            return false;
        }
        self.recipients
            .iter()
            .position(|&n| n == recipient)
            .and_then(|r| self.decisions.get(s * self.recipients.len() + r))
            .is_some_and(Decision::is_permit)
    }
}

/// The sensors of a scenario with their labels, and the policy's decisions for every day of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Releases {
    sensors: Vec<Sensor>,
    days: BTreeMap<Date, DayReleases>,
    /// What every day denies: no sensor is known on a day outside the run.
    outside: DayReleases,
}

/// The UTC day of a Unix time (seconds).
pub fn day_of(unix_seconds: f64) -> Date {
    chrono::DateTime::from_timestamp(unix_seconds.floor() as i64, 0)
        .unwrap_or_default()
        .date_naive()
}

impl Releases {
    /// The sensors of `scenario` and the decisions of `policy` for each sensor, participating
    /// nation and UTC day from `epoch` to `epoch + scenario.duration`. Labels that the policies do
    /// not accept are reported as located diagnostics ([`sensors`]).
    pub fn prepare(
        policy: &ReleasePolicy,
        scenario: &Scenario,
        epoch: f64,
    ) -> Result<Releases, Error> {
        let sensors = sensors(policy, scenario)?;
        let recipients: Vec<NationCode> = scenario.nations.iter().map(|n| n.code).collect();
        let names: Vec<(String, NationCode)> =
            sensors.iter().map(|s| (s.name.clone(), s.nation)).collect();
        let first = day_of(epoch);
        let last = day_of(epoch + scenario.duration.max(0.0));
        let mut days = BTreeMap::new();
        for day in first.iter_days().take_while(|d| *d <= last) {
            let decisions = sensors
                .iter()
                .flat_map(|s| {
                    recipients
                        .iter()
                        .map(move |&r| policy.decide(&s.label, s.nation, r, day))
                })
                .collect();
            days.insert(
                day,
                DayReleases {
                    day,
                    sensors: names.clone(),
                    recipients: recipients.clone(),
                    decisions,
                },
            );
        }
        Ok(Releases {
            sensors,
            days,
            outside: DayReleases {
                day: first,
                sensors: Vec::new(),
                recipients: Vec::new(),
                decisions: Vec::new(),
            },
        })
    }

    /// The sensors, in the order their first radar appears in the scenario.
    pub fn sensors(&self) -> &[Sensor] {
        &self.sensors
    }

    /// The sensor `radar` (an index into [`Scenario::radars`]) belongs to.
    pub fn sensor_of_radar(&self, radar: usize) -> Option<usize> {
        self.sensors.iter().position(|s| s.radars.contains(&radar))
    }

    /// The decisions of the day holding Unix time `unix_seconds`; outside the run, a day that
    /// releases nothing.
    pub fn at(&self, unix_seconds: f64) -> &DayReleases {
        self.days
            .get(&day_of(unix_seconds))
            .unwrap_or(&self.outside)
    }

    /// Every day's decisions, in day order.
    pub fn days(&self) -> impl Iterator<Item = &DayReleases> {
        self.days.values()
    }

    /// The marking definitions of the sensors' labels, by id.
    pub fn marking_definitions(&self) -> BTreeMap<String, Value> {
        self.sensors
            .iter()
            .map(|s| (s.marking_id.clone(), s.marking_definition.clone()))
            .collect()
    }

    /// What the run record keeps: per day, sensor and recipient, released or not and why.
    pub fn entries(&self) -> Vec<ReleaseEntry> {
        let mut out = Vec::new();
        for d in self.days.values() {
            for (si, s) in self.sensors.iter().enumerate() {
                for (ri, r) in d.recipients.iter().enumerate() {
                    let Some(decision) = d.decisions.get(si * d.recipients.len() + ri) else {
                        continue;
                    };
                    out.push(ReleaseEntry {
                        sensor: s.name.clone(),
                        nation: s.nation.to_string(),
                        recipient: r.to_string(),
                        day: d.day.to_string(),
                        label: s.marking.clone(),
                        released: decision.is_permit(),
                        reason: decision.to_string(),
                    });
                }
            }
        }
        out
    }
}

/// Checks every label of `scenario` against the policies and the registry's release tokens, and
/// groups the radars into sensors: one per nation and label, in the order of their first radar.
/// Every problem is a diagnostic naming the file, line and field (`nation[LVA].label`).
pub fn sensors(policy: &ReleasePolicy, scenario: &Scenario) -> Result<Vec<Sensor>, Error> {
    let mut diagnostics = Vec::new();
    let mut parse = |text: &LabelText, field: String| -> Option<Label> {
        let mut report = |message: String| {
            diagnostics.push(Diagnostic {
                file: scenario.file.clone(),
                line: text.line,
                field: field.clone(),
                message,
            })
        };
        let label = match parse_marking(policy.policies(), &text.text) {
            Ok(label) => label,
            Err(e) => {
                report(format!("label {:?}: {e}", text.text));
                return None;
            }
        };
        if let Err(e) = policy.check_release_tokens(&label) {
            report(format!("label {:?}: {e}", text.text));
            return None;
        }
        Some(label)
    };
    let nation_labels: Vec<(NationCode, Option<Label>)> = scenario
        .nations
        .iter()
        .map(|n| (n.code, parse(&n.label, format!("nation[{}].label", n.code))))
        .collect();
    // (nation, label, radars, under the nation's own label)
    let mut groups: Vec<(NationCode, Label, Vec<usize>, bool)> = Vec::new();
    for (ri, r) in scenario.radars.iter().enumerate() {
        let own = nation_labels
            .iter()
            .find(|(code, _)| *code == r.nation)
            .and_then(|(_, l)| l.clone());
        let (label, national) = match &r.label {
            Some(text) => {
                let label = parse(text, format!("radar[{}].label", r.id));
                let national = label.is_some() && label == own;
                (label, national)
            }
            None => (own, true),
        };
        let Some(label) = label else { continue };
        match groups
            .iter_mut()
            .find(|(n, l, _, _)| *n == r.nation && *l == label)
        {
            Some(g) => g.2.push(ri),
            None => groups.push((r.nation, label, vec![ri], national)),
        }
    }
    if !diagnostics.is_empty() {
        return Err(Error::Invalid(diagnostics));
    }
    groups
        .into_iter()
        .map(|(nation, label, radars, national)| {
            let name = if national {
                format!("{nation}-radars")
            } else {
                radars
                    .iter()
                    .map(|&i| scenario.radars[i].id.as_str())
                    .collect::<Vec<_>>()
                    .join("+")
            };
            let policies = policy.policies();
            let label_error = |e: entente_labels::LabelError| Error::Label {
                sensor: name.clone(),
                message: e.to_string(),
            };
            let marking = render_marking(policies, &label).map_err(label_error)?;
            let marking_definition = entente_labels::stix::to_marking_definition(policies, &label)
                .map_err(label_error)?;
            let marking_id = marking_definition["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(Sensor {
                name,
                nation,
                radars,
                label,
                marking,
                marking_definition,
                marking_id,
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
