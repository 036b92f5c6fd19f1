//! Conversion of the raw dataset into the model: nations, organisations with their memberships,
//! agreements with their clauses, every reference checked and every problem collected.

use std::collections::{BTreeMap, HashMap};

use entente_types::NationCode;

use crate::error::{Error, ErrorKind};
use crate::interval::Interval;
use crate::Registry;

use super::check::{Checker, SourceFile};
use super::raw::*;
use super::*;

pub(super) fn convert(
    sources_file: SourceFile,
    nations_file: SourceFile,
    org_files: Vec<SourceFile>,
    agreement_files: Vec<SourceFile>,
) -> Result<Registry, Error> {
    let mut ck = Checker {
        diagnostics: Vec::new(),
        file: None,
    };

    // Sources.
    let mut sources = BTreeMap::new();
    if let Some(raw) = ck.parse::<RawSourcesFile>(&sources_file) {
        for (i, s) in raw.source.iter().enumerate() {
            let src_offset = s.span().start;
            let s = s.get_ref();
            let field = format!("source[{i}]");
            ck.non_empty(&s.id, &format!("{field}.id"));
            ck.non_empty(&s.title, &format!("{field}.title"));
            ck.non_empty(&s.reference, &format!("{field}.reference"));
            if let Some(url) = &s.url {
                ck.non_empty(url, &format!("{field}.url"));
            }
            let id = SourceId(s.id.get_ref().trim().to_owned());
            let tier = match &s.tier {
                Some(raw) => {
                    let found = Tier::ALL
                        .iter()
                        .find(|(n, _)| n == raw.get_ref())
                        .map(|(_, t)| *t);
                    if found.is_none() {
                        ck.report(
                            raw.span().start,
                            format!("{field}.tier"),
                            format!(
                                "unknown tier {}: expected 1 (primary), 2 (secondary) or 3 (weak)",
                                raw.get_ref()
                            ),
                        );
                    }
                    found
                }
                None => {
                    ck.report(
                        src_offset,
                        format!("{field}.tier"),
                        format!(
                            "missing tier for source {:?}: every source states 1 (primary), 2 (secondary) or 3 (weak)",
                            id.0
                        ),
                    );
                    None
                }
            };
            let source = Source {
                id: id.clone(),
                title: s.title.get_ref().clone(),
                reference: s.reference.get_ref().clone(),
                url: s.url.as_ref().map(|u| u.get_ref().trim().to_owned()),
                // A source without a valid tier has been reported above, so the dataset is refused
                // anyway; it is not counted as weak, so that each fact citing it is not reported too.
                tier: tier.unwrap_or(Tier::Primary),
            };
            if sources.insert(id.clone(), source).is_some() {
                ck.report(
                    s.id.span().start,
                    format!("{field}.id"),
                    format!("duplicate source id {:?}", id.0),
                );
            }
        }
    }

    // Nations.
    let mut nations = BTreeMap::new();
    if let Some(raw) = ck.parse::<RawNationsFile>(&nations_file) {
        for (i, n) in raw.nations.iter().enumerate() {
            let offset = n.span().start;
            let n = n.get_ref();
            let field = format!("nations[{i}]");
            let source_ids = ck.sources(&n.source, offset, &format!("{field}.source"), &sources);
            ck.non_empty(&n.name, &format!("{field}.name"));
            match n.code.get_ref().parse::<NationCode>() {
                Ok(code) => {
                    let nation = Nation {
                        code,
                        name: n.name.get_ref().clone(),
                        sources: source_ids,
                    };
                    if nations.insert(code, nation).is_some() {
                        ck.report(
                            n.code.span().start,
                            format!("{field}.code"),
                            format!("duplicate nation {code}"),
                        );
                    }
                }
                Err(err) => ck.report(
                    n.code.span().start,
                    format!("{field}.code"),
                    err.to_string(),
                ),
            }
        }
    }

    // Organisations: first pass converts, second pass resolves parents once every id is known.
    let mut organizations: Vec<Organization> = Vec::new();
    let mut org_spans: Vec<(usize, Option<(usize, String)>)> = Vec::new(); // (file index, parent)
                                                                           // Per organisation: the offset of each kept membership's `from`, and its exclusions.
    let mut org_extras: Vec<(Vec<usize>, RawExclusions)> = Vec::new();
    let mut org_index: HashMap<String, usize> = HashMap::new();
    for (file_no, file) in org_files.iter().enumerate() {
        let Some(raw) = ck.parse::<RawOrganizationsFile>(file) else {
            continue;
        };
        for o in &raw.organization {
            let offset = o.span().start;
            let o = o.get_ref();
            let id = o.id.get_ref().trim().to_owned();
            let field = format!("organization[{id}]");
            ck.non_empty(&o.id, &format!("{field}.id"));
            ck.non_empty(&o.name, &format!("{field}.name"));
            if let Ok(code) = id.parse::<NationCode>() {
                if nations.contains_key(&code) {
                    ck.report(
                        o.id.span().start,
                        format!("{field}.id"),
                        format!("duplicate id {id:?}: already a nation code"),
                    );
                }
            }
            let kind = ck.keyword(&o.kind, &format!("{field}.kind"), &OrgKind::ALL);
            let established = ck.optional_date(&o.established, &format!("{field}.established"));
            let org_sources = ck.sources(&o.source, offset, &format!("{field}.source"), &sources);
            let mut memberships: Vec<Membership> = Vec::new();
            let mut member_offsets: Vec<usize> = Vec::new();
            for (j, m) in o.members.iter().enumerate() {
                let m_offset = m.span().start;
                let m = m.get_ref();
                let mfield = format!("{field}.members[{j}]");
                let nation = ck.nation(&m.nation, &format!("{mfield}.nation"), &nations);
                let from = ck.stated_date(&m.from, &format!("{mfield}.from"));
                let until = ck.optional_date(&m.until, &format!("{mfield}.until"));
                let role = match &m.role {
                    Some(r) => ck.keyword(r, &format!("{mfield}.role"), &Role::ALL),
                    None => Some(Role::Member),
                };
                let m_sources =
                    ck.sources(&m.source, m_offset, &format!("{mfield}.source"), &sources);
                let (Some(nation), Some(from), Some(role)) = (nation, from, role) else {
                    continue;
                };
                if m.until.is_some() && until.is_none() {
                    continue;
                }
                let start = from.earliest_certain_start();
                let end = until.map(|u| u.latest_certain_end());
                let Some(period) = Interval::new(start, end) else {
                    let at = m.until.as_ref().map_or(m_offset, |u| u.span().start);
                    ck.report(
                        at,
                        format!("{mfield}.until"),
                        format!(
                            "inverted interval: until {} is before from {}",
                            until.map(|u| u.to_string()).unwrap_or_default(),
                            from
                        ),
                    );
                    continue;
                };
                if let Some(prev) = memberships
                    .iter()
                    .find(|p| p.nation == nation && p.period.overlaps(&period))
                {
                    ck.report(
                        m.from.span().start,
                        format!("{mfield}.from"),
                        format!(
                            "overlapping interval for {nation}: {period} overlaps {}",
                            prev.period
                        ),
                    );
                    continue;
                }
                let attributes = convert_attributes(&mut ck, m, &mfield, &period, &sources);
                member_offsets.push(m.from.span().start);
                memberships.push(Membership {
                    nation,
                    role,
                    period,
                    stated_from: from,
                    stated_until: until,
                    sources: m_sources,
                    note: m.note.clone(),
                    attributes,
                });
            }
            let Some(kind) = kind else { continue };
            let key = id.to_ascii_uppercase();
            if org_index.contains_key(&key) {
                ck.report(
                    o.id.span().start,
                    format!("{field}.id"),
                    format!("duplicate organization id {id:?}"),
                );
                continue;
            }
            org_index.insert(key, organizations.len());
            let exclusions: RawExclusions = o
                .excluded_by
                .iter()
                .enumerate()
                .filter_map(|(k, e)| {
                    let e = e.get_ref();
                    let efield = format!("{field}.excluded_by[{k}]");
                    ck.non_empty(&e.organization, &format!("{efield}.organization"));
                    ck.non_empty(&e.attribute, &format!("{efield}.attribute"));
                    let org = e.organization.get_ref().trim();
                    let attr = e.attribute.get_ref().trim();
                    (!org.is_empty() && !attr.is_empty())
                        .then(|| (e.organization.span().start, org.to_owned(), attr.to_owned()))
                })
                .collect();
            org_extras.push((member_offsets, exclusions));
            org_spans.push((
                file_no,
                o.parent
                    .as_ref()
                    .map(|p| (p.span().start, p.get_ref().clone())),
            ));
            organizations.push(Organization {
                id: OrgId(id),
                name: o.name.get_ref().clone(),
                kind,
                parent: None,
                established,
                memberships,
                sources: org_sources,
                note: o.note.clone(),
                excluded_by: Vec::new(),
            });
        }
    }
    for (org_no, (file_no, parent)) in org_spans.iter().enumerate() {
        let Some((offset, parent)) = parent else {
            continue;
        };
        ck.file = org_files.get(*file_no);
        match org_index.get(&parent.to_ascii_uppercase()) {
            Some(&p) if p != org_no => {
                organizations[org_no].parent = Some(organizations[p].id.clone());
            }
            Some(_) => {
                let field = format!("organization[{}].parent", organizations[org_no].id);
                ck.report(*offset, field, "an organization cannot be its own parent");
            }
            None => {
                let field = format!("organization[{}].parent", organizations[org_no].id);
                ck.report(
                    *offset,
                    field,
                    format!("dangling reference: no organization {parent:?}"),
                );
            }
        }
    }

    check_exclusions(
        &mut ck,
        &mut organizations,
        &org_index,
        &org_spans,
        &org_extras,
        &org_files,
    );

    // Agreements.
    let mut agreements: Vec<Agreement> = Vec::new();
    let mut agreement_index: HashMap<String, usize> = HashMap::new();
    // Lower-cased alias → the clause that has it, as `agreement/clause`.
    let mut aliases: HashMap<String, String> = HashMap::new();
    for file in &agreement_files {
        let Some(raw) = ck.parse::<RawAgreementsFile>(file) else {
            continue;
        };
        for a in &raw.agreement {
            let offset = a.span().start;
            let a = a.get_ref();
            let id = a.id.get_ref().trim().to_owned();
            let field = format!("agreement[{id}]");
            ck.non_empty(&a.id, &format!("{field}.id"));
            ck.non_empty(&a.name, &format!("{field}.name"));
            let kind = ck.keyword(&a.kind, &format!("{field}.kind"), &AgreementKind::ALL);
            let signed = ck.optional_date(&a.signed, &format!("{field}.signed"));
            let in_force = ck.optional_date(&a.in_force, &format!("{field}.in_force"));
            let terminated = ck.optional_date(&a.terminated, &format!("{field}.terminated"));
            if let (Some(s), Some(f), Some(raw)) = (signed, in_force, &a.in_force) {
                // Inverted only when even the latest day the stated entry into force allows comes
                // before the earliest day the stated signature allows.
                if f.last_possible_day() < s.sort_key() {
                    ck.report(
                        raw.span().start,
                        format!("{field}.in_force"),
                        format!("inverted dates: in force {f} before signature {s}"),
                    );
                }
            }
            if let (Some(f), Some(t), Some(raw)) = (in_force, terminated, &a.terminated) {
                if t.sort_key() <= f.sort_key() {
                    ck.report(
                        raw.span().start,
                        format!("{field}.terminated"),
                        format!("inverted dates: terminated {t} not after entry into force {f}"),
                    );
                }
            }
            let mut suspended = Vec::new();
            for (j, s) in a.suspended.iter().enumerate() {
                let s_offset = s.span().start;
                let s = s.get_ref();
                let sfield = format!("{field}.suspended[{j}]");
                ck.sources(&s.source, s_offset, &format!("{sfield}.source"), &sources);
                let from = ck.stated_date(&s.from, &format!("{sfield}.from"));
                let until = ck.optional_date(&s.until, &format!("{sfield}.until"));
                if let Some(from) = from {
                    // A suspension counts from the earliest day it may have started: conservative
                    // for release decisions, which must not rely on a suspended agreement.
                    match Interval::new(from.sort_key(), until.map(|u| u.earliest_certain_start()))
                    {
                        Some(i) => suspended.push(i),
                        None => ck.report(
                            s_offset,
                            format!("{sfield}.until"),
                            "inverted interval: until before from",
                        ),
                    }
                }
            }
            let mut parties = Vec::new();
            for (j, p) in a.parties.iter().enumerate() {
                let text = p.get_ref().trim();
                let pfield = format!("{field}.parties[{j}]");
                if let Some(&o) = org_index.get(&text.to_ascii_uppercase()) {
                    parties.push(Party::Organization(organizations[o].id.clone()));
                } else if let Some(code) = ck.nation(p, &pfield, &nations) {
                    parties.push(Party::Nation(code));
                }
            }
            for (j, p) in parties.iter().enumerate() {
                if parties[..j].contains(p) {
                    ck.report(
                        a.parties[j].span().start,
                        format!("{field}.parties[{j}]"),
                        format!("duplicate party {p}"),
                    );
                }
            }
            let parties_are_members_of = match &a.parties_are_members_of {
                Some(raw) => match org_index.get(&raw.get_ref().to_ascii_uppercase()) {
                    Some(&o) => Some(organizations[o].id.clone()),
                    None => {
                        ck.report(
                            raw.span().start,
                            format!("{field}.parties_are_members_of"),
                            format!("dangling reference: no organization {:?}", raw.get_ref()),
                        );
                        None
                    }
                },
                None => None,
            };
            let mut accessions = Vec::new();
            let mut accession_records = Vec::new();
            for (j, acc) in a.accessions.iter().enumerate() {
                let acc_offset = acc.span().start;
                let acc = acc.get_ref();
                let afield = format!("{field}.accessions[{j}]");
                let qualifier = match &acc.qualifier {
                    Some(q) => ck.keyword(q, &format!("{afield}.qualifier"), &DateQualifier::ALL),
                    None => Some(DateQualifier::On),
                };
                let acc_sources = ck.sources(
                    &acc.source,
                    acc_offset,
                    &format!("{afield}.source"),
                    &sources,
                );
                let nation = ck.nation(&acc.nation, &format!("{afield}.nation"), &nations);
                let date = ck.stated_date(&acc.in_force, &format!("{afield}.in_force"));
                if let (Some(nation), Some(date)) = (nation, date) {
                    if accessions.iter().any(|(n, _)| *n == nation) {
                        ck.report(
                            acc.nation.span().start,
                            format!("{afield}.nation"),
                            format!("duplicate accession of {nation}"),
                        );
                    }
                    accessions.push((nation, date));
                    if let Some(qualifier) = qualifier {
                        accession_records.push(Accession {
                            nation,
                            in_force: date,
                            qualifier,
                            sources: acc_sources,
                        });
                    }
                }
            }
            let member_dates = match &a.member_dates {
                Some(raw) => ck
                    .keyword(raw, &format!("{field}.member_dates"), &MemberDates::ALL)
                    .unwrap_or(MemberDates::Confirmed),
                None => MemberDates::Confirmed,
            };
            if a.parties.is_empty() && a.parties_are_members_of.is_none() {
                ck.report(
                    offset,
                    format!("{field}.parties"),
                    "no parties: give parties or parties_are_members_of",
                );
            }
            let a_sources = ck.sources(&a.source, offset, &format!("{field}.source"), &sources);
            let mut clauses: Vec<Clause> = Vec::new();
            for (j, c) in a.clause.iter().enumerate() {
                let c_offset = c.span().start;
                let c = c.get_ref();
                let cid = c.id.get_ref().trim().to_owned();
                let cfield = format!("{field}.clause[{cid}]");
                ck.non_empty(&c.id, &format!("{cfield}.id"));
                ck.non_empty(&c.article, &format!("{cfield}.article"));
                ck.non_empty(&c.summary, &format!("{cfield}.summary"));
                if clauses.iter().any(|x| x.id == cid)
                    || a.clause[..j]
                        .iter()
                        .any(|x| x.get_ref().id.get_ref().trim() == cid)
                {
                    ck.report(
                        c.id.span().start,
                        format!("{cfield}.id"),
                        format!("duplicate clause id {cid:?}"),
                    );
                }
                let alias = match &c.alias {
                    Some(raw) => {
                        let text = raw.get_ref().trim();
                        let afield = format!("{cfield}.alias");
                        let here = format!("{id}/{cid}");
                        if text.is_empty() {
                            ck.report(raw.span().start, afield, "must not be empty");
                            None
                        } else if text.contains('/') || text.contains(char::is_whitespace) {
                            // A slash would read as `agreement/clause`.
                            ck.report(
                                raw.span().start,
                                afield,
                                format!("malformed alias {text:?}: no slash or space allowed"),
                            );
                            None
                        } else if let Some(other) = aliases.get(&text.to_ascii_lowercase()) {
                            ck.report(
                                raw.span().start,
                                afield,
                                format!("duplicate alias {text:?}: already names {other}"),
                            );
                            None
                        } else {
                            aliases.insert(text.to_ascii_lowercase(), here);
                            Some(text.to_owned())
                        }
                    }
                    None => None,
                };
                let ckind = ck.keyword(&c.kind, &format!("{cfield}.kind"), &ClauseKind::ALL);
                let c_sources =
                    ck.sources(&c.source, c_offset, &format!("{cfield}.source"), &sources);
                let protects: Vec<NationCode> = c
                    .protects
                    .iter()
                    .enumerate()
                    .filter_map(|(k, p)| ck.nation(p, &format!("{cfield}.protects[{k}]"), &nations))
                    .collect();
                let has_security_fields = c.max_classification.is_some()
                    || !c.domains.is_empty()
                    || !c.equivalences.is_empty()
                    || c.caveats_only.is_some();
                let caveats_only = c.caveats_only.as_ref().is_some_and(|b| *b.get_ref());
                if caveats_only && c.caveats.is_empty() {
                    let at = c.caveats_only.as_ref().map_or(c_offset, |b| b.span().start);
                    ck.report(
                        at,
                        format!("{cfield}.caveats_only"),
                        "caveats_only needs the caveats the clause is limited to",
                    );
                }
                let Some(ckind) = ckind else { continue };
                if !protects.is_empty() && !ckind.is_defence_obligation() {
                    ck.report(
                        c.protects[0].span().start,
                        format!("{cfield}.protects"),
                        "protects applies only to collective-defence and mutual-assistance clauses",
                    );
                }
                let security = if ckind == ClauseKind::SecurityOfInformation {
                    let mut equivalences = Vec::new();
                    for (k, row) in c.equivalences.iter().enumerate() {
                        if row.get_ref().len() < 2 {
                            ck.report(
                                row.span().start,
                                format!("{cfield}.equivalences[{k}]"),
                                "an equivalence needs levels of at least two policies",
                            );
                        }
                        equivalences.push(
                            row.get_ref()
                                .iter()
                                .map(|(policy, level)| PolicyLevel {
                                    policy: policy.clone(),
                                    level: level.clone(),
                                })
                                .collect(),
                        );
                    }
                    Some(SecurityProvision {
                        max_classification: c.max_classification.as_ref().map(|m| PolicyLevel {
                            policy: m.get_ref().policy.clone(),
                            level: m.get_ref().level.clone(),
                        }),
                        domains: c.domains.iter().map(|d| d.get_ref().clone()).collect(),
                        caveats: c.caveats.iter().map(|d| d.get_ref().clone()).collect(),
                        caveats_only,
                        equivalences,
                    })
                } else {
                    if has_security_fields {
                        ck.report(c_offset, cfield.clone(), "max_classification, domains, caveats, caveats_only and equivalences apply only to security-of-information clauses");
                    }
                    None
                };
                clauses.push(Clause {
                    id: cid,
                    alias,
                    article: c.article.get_ref().clone(),
                    kind: ckind,
                    summary: c.summary.get_ref().clone(),
                    protects,
                    security,
                    sources: c_sources,
                });
            }
            let Some(kind) = kind else { continue };
            let key = id.to_ascii_lowercase();
            if agreement_index.contains_key(&key) {
                ck.report(
                    a.id.span().start,
                    format!("{field}.id"),
                    format!("duplicate agreement id {id:?}"),
                );
                continue;
            }
            agreement_index.insert(key, agreements.len());
            agreements.push(Agreement {
                id: AgreementId(id),
                name: a.name.get_ref().clone(),
                kind,
                binding: a.binding.unwrap_or(matches!(
                    kind,
                    AgreementKind::Treaty | AgreementKind::Agreement | AgreementKind::Arrangement
                )),
                signed,
                in_force,
                terminated,
                suspended,
                parties,
                parties_are_members_of,
                accessions,
                accession_records,
                member_dates,
                clauses,
                sources: a_sources,
                note: a.note.clone(),
            });
        }
    }

    if !ck.diagnostics.is_empty() {
        return Err(Error::new(ErrorKind::Invalid(ck.diagnostics)));
    }
    Ok(Registry::from_parts(
        sources,
        nations,
        organizations,
        agreements,
    ))
}

/// An organisation's `excluded_by` entries as read: (offset of the organisation, organisation,
/// attribute).
type RawExclusions = Vec<(usize, String, String)>;

/// The attributes of one membership: ids are lower-case keywords, periods lie within the
/// membership's and do not overlap for the same id, and every one names its sources.
fn convert_attributes(
    ck: &mut Checker<'_>,
    m: &RawMember,
    mfield: &str,
    membership: &Interval,
    sources: &BTreeMap<SourceId, Source>,
) -> Vec<MembershipAttribute> {
    let mut out: Vec<MembershipAttribute> = Vec::new();
    for (k, a) in m.attributes.iter().enumerate() {
        let a_offset = a.span().start;
        let a = a.get_ref();
        let afield = format!("{mfield}.attributes[{k}]");
        let id = a.id.get_ref().trim().to_owned();
        let id_ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            ck.report(
                a.id.span().start,
                format!("{afield}.id"),
                format!("invalid attribute id {id:?}: use lower-case letters, digits and '-'"),
            );
        }
        let from = ck.stated_date(&a.from, &format!("{afield}.from"));
        let until = ck.optional_date(&a.until, &format!("{afield}.until"));
        let a_sources = ck.sources(&a.source, a_offset, &format!("{afield}.source"), sources);
        let Some(from) = from else { continue };
        if !id_ok || (a.until.is_some() && until.is_none()) {
            continue;
        }
        let Some(period) = Interval::new(
            from.earliest_certain_start(),
            until.map(|u| u.latest_certain_end()),
        ) else {
            let at = a.until.as_ref().map_or(a_offset, |u| u.span().start);
            ck.report(
                at,
                format!("{afield}.until"),
                format!(
                    "inverted interval: until {} is before from {from}",
                    until.map(|u| u.to_string()).unwrap_or_default()
                ),
            );
            continue;
        };
        if !period.within(membership) {
            ck.report(
                a.from.span().start,
                format!("{afield}.from"),
                format!("attribute {id} {period} lies outside the membership {membership}"),
            );
            continue;
        }
        if let Some(prev) = out
            .iter()
            .find(|p| p.id == id && p.period.overlaps(&period))
        {
            ck.report(
                a.from.span().start,
                format!("{afield}.from"),
                format!(
                    "overlapping attribute {id}: {period} overlaps {}",
                    prev.period
                ),
            );
            continue;
        }
        out.push(MembershipAttribute {
            id,
            period,
            stated_from: from,
            stated_until: until,
            sources: a_sources,
            note: a.note.clone(),
        });
    }
    out
}

/// Resolves each organisation's `excluded_by` and refuses a participation on a day on which the
/// nation's membership of the named organisation carries the named attribute.
fn check_exclusions<'a>(
    ck: &mut Checker<'a>,
    organizations: &mut [Organization],
    org_index: &HashMap<String, usize>,
    org_spans: &[(usize, Option<(usize, String)>)],
    org_extras: &[(Vec<usize>, RawExclusions)],
    org_files: &'a [SourceFile],
) {
    for (org_no, (member_offsets, exclusions)) in org_extras.iter().enumerate() {
        ck.file = org_files.get(org_spans[org_no].0);
        let field = format!("organization[{}]", organizations[org_no].id);
        let mut resolved: Vec<Exclusion> = Vec::new();
        for (k, (org_offset, org, attr)) in exclusions.iter().enumerate() {
            let Some(&target) = org_index.get(&org.to_ascii_uppercase()) else {
                ck.report(
                    *org_offset,
                    format!("{field}.excluded_by[{k}].organization"),
                    format!("dangling reference: no organization {org:?}"),
                );
                continue;
            };
            let target_org = &organizations[target];
            for (m, offset) in organizations[org_no].memberships.iter().zip(member_offsets) {
                let clash = target_org
                    .memberships
                    .iter()
                    .filter(|t| t.nation == m.nation)
                    .flat_map(|t| t.attributes.iter())
                    .find(|a| a.id == *attr && a.period.overlaps(&m.period));
                if let Some(a) = clash {
                    ck.report(
                        *offset,
                        format!("{field}.members.from"),
                        format!(
                            "{}'s participation ({}) overlaps the {attr} of its membership of {} ({})",
                            m.nation, m.period, target_org.id, a.period
                        ),
                    );
                }
            }
            resolved.push(Exclusion {
                organization: target_org.id.clone(),
                attribute: attr.clone(),
            });
        }
        organizations[org_no].excluded_by = resolved;
    }
}
