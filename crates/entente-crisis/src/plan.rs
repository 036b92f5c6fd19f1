//! Opening a room: the clause, its participants as of a day, and the room's label.

use entente_labels::{parse_marking, render_marking, DefaultRelease, Label, ReleaseToken};
use entente_policy::ReleasePolicy;
use entente_registry::{Agreement, Registry};
use entente_types::{Date, NationCode};
use serde::{Deserialize, Serialize};

use crate::room::{Room, RoomParticipant, RoomStatus, COLLECTION_PREFIX, ROOM_TYPE};
use crate::{Boundary, CrisisError};

/// What a user asks for when opening a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// `agreement/clause` or an alias (`nato-art-4`).
    pub clause: String,
    pub requested_by: Vec<NationCode>,
    /// The day the room is opened as of (participants are those of that day).
    pub as_of: Date,
    #[serde(default)]
    pub title: Option<String>,
    /// A marking to use instead of the derived label.
    #[serde(default)]
    pub label: Option<String>,
}

/// The room `request` opens at `opened_by`'s node, with its label: the participants are the
/// registry's for the clause, the requesting nations and the day; the label is given or derived
/// ([`room_label`]) and must reach every participant and no one else on that day. `uuid` names
/// the room (descriptor and collection), `now` is the opening time (STIX timestamp).
pub fn plan(
    registry: &Registry,
    policy: &ReleasePolicy,
    request: &OpenRequest,
    opened_by: NationCode,
    uuid: &str,
    now: &str,
) -> Result<(Room, Label), CrisisError> {
    if request.requested_by.is_empty() {
        return Err(CrisisError::Invalid(
            "requested_by: at least one requesting nation".into(),
        ));
    }
    let (agreement, clause) = registry.clause(&request.clause)?;
    let participants =
        registry.participants(agreement, clause, &request.requested_by, request.as_of)?;
    let nations: Vec<NationCode> = participants.entries.iter().map(|p| p.nation).collect();
    if !nations.contains(&opened_by) {
        return Err(CrisisError::Invalid(format!(
            "{opened_by} is not a participant in {} of the {} on {}: a room is opened at a participant's node",
            clause.article, agreement.name, request.as_of
        )));
    }
    let label = match &request.label {
        Some(text) => {
            let label = parse_marking(policy.policies(), text)?;
            policy
                .check_release_tokens(&label)
                .map_err(|e| CrisisError::Invalid(format!("label: {e}")))?;
            label
        }
        None => room_label(
            registry,
            policy,
            agreement,
            &nations,
            opened_by,
            request.as_of,
        )?,
    };
    let marking = render_marking(policy.policies(), &label)?;
    // The label must keep the room's objects among the participants on the day it is opened
    // as of. A participant it does not reach yet (no security agreement in force for it) stays
    // in the room, marked as receiving nothing until the policy permits.
    let reached = Boundary {
        policy,
        room_label: &label,
        originator: opened_by,
    }
    .reached_on(request.as_of);
    if let Some(outsider) = reached.iter().find(|n| !nations.contains(n)) {
        return Err(CrisisError::Invalid(format!(
            "label {marking:?} reaches {outsider}, which is not a participant on {}: give a label released to the participants only",
            request.as_of
        )));
    }
    let requested: Vec<String> = request
        .requested_by
        .iter()
        .map(ToString::to_string)
        .collect();
    let title = match &request.title {
        Some(t) if !t.trim().is_empty() => {
            entente_labels::check_characters(t, "title")?;
            t.trim().to_owned()
        }
        _ => format!(
            "{} consultation requested by {}",
            clause.article,
            requested.join(", ")
        ),
    };
    let room = Room {
        id: format!("{ROOM_TYPE}--{uuid}"),
        collection: format!("{COLLECTION_PREFIX}{uuid}"),
        title,
        clause: format!("{}/{}", agreement.id, clause.id),
        article: clause.article.clone(),
        agreement_name: agreement.name.clone(),
        clause_text: clause.summary.clone(),
        requested_by: request.requested_by.clone(),
        as_of: request.as_of,
        opened_by,
        opened: now.to_owned(),
        participants: participants
            .entries
            .iter()
            .map(|p| {
                let receives = reached.contains(&p.nation);
                RoomParticipant {
                    nation: p.nation,
                    requesting: p.requesting,
                    reason: p.reason.clone(),
                    receives,
                    withheld: (!receives).then(|| {
                        policy
                            .decide(&label, opened_by, p.nation, request.as_of)
                            .to_string()
                    }),
                }
            })
            .collect(),
        label: marking,
        status: RoomStatus::Open,
        closed: None,
        modified: now.to_owned(),
    };
    Ok((room, label))
}

/// The label a room gets when none is given, one below its policy's top level (NATO SECRET,
/// SECRET UE/EU SECRET), so that reports up to that level need no negotiation:
/// - a clause of an agreement whose parties are an organisation's members, when the
///   organisation has a policy of its own: that policy's default release (its members on the
///   day of each release), so the room follows accessions and departures;
/// - otherwise (a bilateral treaty) the policy of the largest organisation all participants
///   belong to on `day`, released to the participants by name (NATO SECRET//REL TO DEU, FRA),
///   so that every participant's officers hold a clearance under it;
/// - failing that, the opening nation's own policy, released to the participants by name.
pub fn room_label(
    registry: &Registry,
    policy: &ReleasePolicy,
    agreement: &Agreement,
    participants: &[NationCode],
    opened_by: NationCode,
    day: Date,
) -> Result<Label, CrisisError> {
    let policies = policy.policies();
    let second_from_top = |id: &str| -> Option<String> {
        let p = policies.get(id)?;
        let n = p.levels.len();
        p.levels.get(n.saturating_sub(2)).map(|l| l.name.clone())
    };
    if let Some(org) = &agreement.parties_are_members_of {
        if let Some(level) = second_from_top(&org.0) {
            return Ok(Label::new(policies, &org.0, &level)?);
        }
    }
    let by_name = |label: Label| -> Result<Label, CrisisError> {
        let tokens = participants
            .iter()
            .map(|n| ReleaseToken::parse(n.as_str()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(label.with_releasable_to(tokens)?)
    };
    let shared = policies
        .iter()
        .filter_map(|p| match &p.default_release {
            DefaultRelease::MembersOf(org) => {
                let org = registry.organization(org).ok()?;
                let members = registry.members(org, day);
                participants
                    .iter()
                    .all(|n| members.contains(n))
                    .then_some((members.len(), p.id.clone()))
            }
            DefaultRelease::OriginatorOnly => None,
        })
        .max();
    if let Some((_, id)) = shared {
        if let Some(level) = second_from_top(&id) {
            return by_name(Label::new(policies, &id, &level)?);
        }
    }
    let own = opened_by.as_str();
    let Some(level) = second_from_top(own) else {
        return Err(CrisisError::Invalid(format!(
            "no policy of {} or of {own} to derive the room's label from: give a label",
            agreement.name
        )));
    };
    by_name(Label::new(policies, own, &level)?)
}
