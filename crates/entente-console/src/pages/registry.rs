//! The registry page: for a nation and a day, who is bound to defend it and under which clause
//! (a world map drawn on the server, and the same as a table), the agreements graph of that day,
//! the nation's timeline with its sources; and a release decision tool (a label, an originator,
//! a recipient, a day → permit or deny, and why).
//!
//! Everything here is public reference data (the registry) or a decision about a label the user
//! typed: no stored object is shown, so the banner stays unlabelled. Every state is a plain GET
//! (`?nation=FRA&day=2024-09-01&view=europe`); htmx only replaces the page's body in place.

pub(crate) mod codes;
mod graph;
pub(crate) mod map;
pub(super) mod svg;
pub(crate) mod topojson;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use entente_registry::{Party, Registry};
use entente_types::{Date, NationCode};
use serde::Deserialize;

use self::map::{Country, Marker, Shade, View};
use super::{encode, render, Frame};
use crate::banner::{label_class, label_text};
use crate::session::SignedIn;
use crate::{Console, BASE};

/// How many clause combinations get a colour of their own on the map; any further ones share one.
const PALETTE: usize = 8;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    nation: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    view: String,
}

/// A nation as a select's option.
pub struct NationOption {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

fn nation_options(registry: &Registry, selected: &str) -> Vec<NationOption> {
    let mut options: Vec<NationOption> = registry
        .nations()
        .map(|n| NationOption {
            code: n.code.to_string(),
            name: n.name.clone(),
            selected: n.code.as_str() == selected,
        })
        .collect();
    options.sort_by(|a, b| a.name.cmp(&b.name));
    options
}

/// A field's error as a sentence: `field: message.`, without doubling the message's own stop.
/// The world map with every country shaded by `shade` (given its ISO 3166-1 alpha-3 code, when
/// the atlas' numeric code has one, and its atlas name) and the registry's small states as
/// markers; `label` is its accessible name.
pub(super) fn nations_map(
    registry: &Registry,
    view: View,
    label: &str,
    shade: impl Fn(Option<NationCode>, &str) -> Shade,
) -> String {
    let alpha3_of = |c: &Country| {
        c.numeric
            .as_deref()
            .and_then(codes::alpha3)
            .and_then(|a| a.parse::<NationCode>().ok())
    };
    let markers: Vec<Marker> = codes::NATIONS
        .iter()
        .filter_map(|(alpha3, _, at)| {
            let at = (*at)?;
            let code: NationCode = alpha3.parse().ok()?;
            registry.nation(code)?;
            Some(Marker {
                at,
                shade: shade(Some(code), alpha3),
            })
        })
        .collect();
    map::svg(
        &map::WORLD,
        view,
        label,
        |c| shade(alpha3_of(c), &c.name),
        &markers,
    )
}

fn field_error(field: &str, message: impl std::fmt::Display) -> String {
    let message = message.to_string();
    let stop = if message.ends_with(['.', '?', '!']) {
        ""
    } else {
        "."
    };
    format!("{field}: {message}{stop}")
}

/// Text with its first letter in capitals and a full stop, as a sentence on its own.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

/// A day from a form field: empty means `default`.
fn parse_day(text: &str, default: Date) -> Result<Date, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(default);
    }
    entente_types::parse_date(text).map_err(|e| field_error("Day", e))
}

/// The nation the node serves, or the first the registry knows.
fn default_nation(console: &Console) -> String {
    let own = console.node.config().nation;
    if console.registry.nation(own).is_some() {
        return own.to_string();
    }
    console
        .registry
        .nations()
        .next()
        .map(|n| n.code.to_string())
        .unwrap_or_default()
}

/// The link to the registry page in another state.
fn registry_link(nation: &str, day: Date, view: View) -> String {
    format!(
        "{BASE}/registry?nation={}&day={day}&view={}",
        encode(nation),
        view.as_str()
    )
}

/// One clause that binds a defender, as shown.
pub struct BasisView {
    pub agreement: String,
    pub article: String,
    pub kind: &'static str,
}

/// A nation bound to defend the chosen one.
pub struct BoundRow {
    pub code: String,
    pub name: String,
    /// Its colour on the map (a `bound-N` class).
    pub class: String,
    pub basis: Vec<BasisView>,
}

/// A colour of the map's legend.
pub struct LegendEntry {
    pub class: String,
    pub text: String,
    pub count: usize,
}

/// A link to another view of the map.
pub struct ViewLink {
    pub title: &'static str,
    pub link: String,
    pub current: bool,
}

/// A dated event of the nation's timeline.
pub struct EventRow {
    pub date: String,
    pub description: String,
    /// The kind of event as a class, e.g. `entered-into-force`.
    pub kind_class: String,
    /// Titles and references of its sources (references as text, never as links).
    pub sources: Vec<(String, String)>,
    /// After the day chosen: shown as the future.
    pub after: bool,
    /// The first event after the day chosen: the day is marked before it.
    pub first_after: bool,
}

#[derive(Template)]
#[template(path = "registry_body.html")]
struct Body {
    nation: String,
    nation_name: String,
    day: String,
    map_svg: String,
    view_links: Vec<ViewLink>,
    legend: Vec<LegendEntry>,
    bound: Vec<BoundRow>,
    member_only: usize,
    graph_svg: String,
    graph_rows: Vec<graph::GroupRow>,
    graph_nations: usize,
    events: Vec<EventRow>,
    decision_form: DecisionForm,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct Page {
    frame: Frame,
    nations: Vec<NationOption>,
    day: String,
    view: &'static str,
    errors: Vec<String>,
    body: Option<Body>,
}

/// `GET /console/registry`.
pub async fn page(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let today = entente_node::clock::today();
    let registry = &console.registry;
    let nation_text = match params.nation.trim() {
        "" => default_nation(&console),
        text => text.to_owned(),
    };
    let view = View::parse(params.view.trim()).unwrap_or(View::World);
    let mut errors = Vec::new();
    let nation = registry
        .nation_code(&nation_text)
        .map_err(|e| errors.push(field_error("Nation", e)))
        .ok();
    let day = parse_day(&params.day, today)
        .map_err(|e| errors.push(e))
        .ok();
    let frame = Frame::new(&console, &signed_in, "Registry", "registry");
    let (Some(nation), Some(day)) = (nation, day) else {
        return render(
            StatusCode::BAD_REQUEST,
            &Page {
                frame,
                nations: nation_options(
                    registry,
                    nation
                        .map_or_else(|| default_nation(&console), |n| n.to_string())
                        .as_str(),
                ),
                day: params.day.trim().to_owned(),
                view: view.as_str(),
                errors,
                body: None,
            },
        );
    };
    let body = body(&console, nation, day, view);
    if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        return render(StatusCode::OK, &body);
    }
    render(
        StatusCode::OK,
        &Page {
            frame,
            nations: nation_options(registry, nation.as_str()),
            day: day.to_string(),
            view: view.as_str(),
            errors: Vec::new(),
            body: Some(body),
        },
    )
}

/// The page's content for a valid nation and day.
fn body(console: &Console, nation: NationCode, day: Date, view: View) -> Body {
    let registry = &console.registry;
    let nation_name = registry
        .nation(nation)
        .map_or_else(|| nation.to_string(), |n| n.name.clone());
    let name_of = |code: NationCode| {
        registry
            .nation(code)
            .map_or_else(|| code.to_string(), |n| n.name.clone())
    };

    // Who is bound, grouped by the clauses that bind them: one colour per combination.
    let defenders = registry.obligations_toward(nation, day);
    let mut combinations: BTreeMap<Vec<(String, String)>, usize> = BTreeMap::new();
    let key_of = |d: &entente_registry::Defender| -> Vec<(String, String)> {
        d.basis
            .iter()
            .map(|b| (b.agreement.0.clone(), b.article.clone()))
            .collect()
    };
    for d in &defenders {
        *combinations.entry(key_of(d)).or_default() += 1;
    }
    let mut ranked: Vec<(Vec<(String, String)>, usize)> = combinations.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let class_of = |i: usize| {
        if i < PALETTE {
            format!("bound-{}", i + 1)
        } else {
            "bound".to_owned()
        }
    };
    let agreement_name = |id: &str| {
        registry
            .agreement_by_id(&entente_registry::AgreementId(id.to_owned()))
            .map_or_else(|| id.to_owned(), |a| a.name.clone())
    };
    let legend_text = |key: &[(String, String)]| {
        key.iter()
            .map(|(a, article)| format!("{}, {article}", agreement_name(a)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let mut legend: Vec<LegendEntry> = Vec::new();
    for (i, (key, count)) in ranked.iter().enumerate() {
        let class = class_of(i);
        match legend.iter_mut().find(|l| l.class == class) {
            Some(shared) => {
                shared.count += count;
                shared.text = "Other combinations of clauses".to_owned();
            }
            None => legend.push(LegendEntry {
                class,
                text: legend_text(key),
                count: *count,
            }),
        }
    }
    let bound: Vec<BoundRow> = defenders
        .iter()
        .map(|d| {
            let key = key_of(d);
            let i = ranked
                .iter()
                .position(|(k, _)| *k == key)
                .unwrap_or(PALETTE);
            BoundRow {
                code: d.nation.to_string(),
                name: name_of(d.nation),
                class: class_of(i),
                basis: d
                    .basis
                    .iter()
                    .map(|b| BasisView {
                        agreement: agreement_name(&b.agreement.0),
                        article: b.article.clone(),
                        kind: b.kind.as_str(),
                    })
                    .collect(),
            }
        })
        .collect();

    // Nations tied to the chosen one that day without an obligation to defend it.
    let mut tied: BTreeSet<NationCode> = BTreeSet::new();
    for o in registry.organizations() {
        if o.has_member(nation, day) {
            tied.extend(registry.members(o, day));
        }
    }
    for a in registry.agreements_in_force(Some(&Party::Nation(nation)), day) {
        tied.extend(registry.parties_on(a, day));
    }
    tied.remove(&nation);
    for b in &bound {
        if let Ok(code) = b.code.parse() {
            tied.remove(&code);
        }
    }

    let shade = |code: Option<NationCode>, atlas_name: &str| -> Shade {
        let Some(code) = code.filter(|c| registry.nation(*c).is_some()) else {
            return Shade {
                class: "other".into(),
                title: atlas_name.to_owned(),
                rank: 0,
            };
        };
        let name = name_of(code);
        if code == nation {
            return Shade {
                class: "defended".into(),
                title: format!("{name} ({code}): the nation defended"),
                rank: 4,
            };
        }
        if let Some(b) = bound.iter().find(|b| b.code == code.as_str()) {
            let clauses: Vec<String> = b
                .basis
                .iter()
                .map(|x| format!("{}, {}", x.agreement, x.article))
                .collect();
            return Shade {
                class: b.class.clone(),
                title: format!(
                    "{name} ({code}) is bound to defend {nation_name} under {}",
                    clauses.join("; ")
                ),
                rank: 3,
            };
        }
        if tied.contains(&code) {
            return Shade {
                class: "member-only".into(),
                title: format!(
                    "{name} ({code}): shares an organisation or an agreement with {nation_name}, without an obligation to defend it"
                ),
                rank: 2,
            };
        }
        Shade {
            class: "known".into(),
            title: format!("{name} ({code}): no tie to {nation_name} in the registry on {day}"),
            rank: 1,
        }
    };
    let map_svg = nations_map(
        registry,
        view,
        &format!(
            "Map of the nations bound to defend {nation_name} on {day}: {} {}; the table beside the map lists them",
            bound.len(),
            if bound.len() == 1 { "nation" } else { "nations" }
        ),
        shade,
    );
    let view_links = View::ALL
        .into_iter()
        .map(|v| ViewLink {
            title: v.title(),
            link: registry_link(nation.as_str(), day, v),
            current: v == view,
        })
        .collect();

    let drawing = graph::draw(&registry.graph(day), nation.as_str());

    let events = timeline(registry, nation, day);

    Body {
        nation: nation.to_string(),
        nation_name,
        day: day.to_string(),
        map_svg,
        view_links,
        legend,
        member_only: tied.len(),
        bound,
        graph_svg: drawing.svg,
        graph_rows: drawing.rows,
        graph_nations: drawing.nations,
        events,
        decision_form: DecisionForm::new(
            registry,
            "",
            console.node.config().nation.as_str(),
            "",
            &day.to_string(),
            Vec::new(),
        ),
    }
}

/// The nation's dated events, with their sources, the day chosen marked among them.
fn timeline(registry: &Registry, nation: NationCode, day: Date) -> Vec<EventRow> {
    let mut marked = false;
    registry
        .timeline_of(nation)
        .into_iter()
        .map(|e| {
            let after = e.date.sort_key() > day;
            let first_after = after && !marked;
            marked |= after;
            EventRow {
                date: e.date.to_string(),
                description: e.description,
                kind_class: e.kind.as_str().replace(' ', "-"),
                sources: e
                    .sources
                    .iter()
                    .map(|id| match registry.source(id) {
                        Some(s) => (s.title.clone(), s.reference.clone()),
                        None => (id.0.clone(), String::new()),
                    })
                    .collect(),
                after,
                first_after,
            }
        })
        .collect()
}

/// The release decision form, filled with what was asked.
#[derive(Template)]
#[template(path = "registry_decision_form.html")]
pub struct DecisionForm {
    base: &'static str,
    label: String,
    from: Vec<NationOption>,
    to: Vec<NationOption>,
    day: String,
    /// Field name and message, in the form's order.
    errors: Vec<(&'static str, String)>,
}

impl DecisionForm {
    fn new(
        registry: &Registry,
        label: &str,
        from: &str,
        to: &str,
        day: &str,
        errors: Vec<(&'static str, String)>,
    ) -> DecisionForm {
        DecisionForm {
            base: BASE,
            label: label.to_owned(),
            from: nation_options(registry, from),
            to: nation_options(registry, to),
            day: day.to_owned(),
            errors,
        }
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionParams {
    label: Option<String>,
    from: Option<String>,
    to: Option<String>,
    day: Option<String>,
}

/// A decision as shown.
pub struct DecisionView {
    pub permit: bool,
    pub explanation: String,
    pub label: String,
    pub label_class: &'static str,
    pub from: String,
    pub to: String,
    pub day: String,
    pub agreement: Option<String>,
    pub clause: Option<String>,
}

#[derive(Template)]
#[template(path = "registry_decision.html")]
struct DecisionPage {
    frame: Frame,
    form: DecisionForm,
    decision: Option<DecisionView>,
}

/// `GET /console/registry/decision`: the form alone, or the decision on what it was given.
pub async fn decision(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Query(params): Query<DecisionParams>,
) -> Response {
    let registry = &console.registry;
    let frame = Frame::new(&console, &signed_in, "Release decision", "registry");
    let own = console.node.config().nation.to_string();
    let today = entente_node::clock::today();
    // Without a label there is nothing to decide: the form, filled with what was given (a link
    // from a nation's row gives only `from`).
    let asked = params
        .label
        .as_deref()
        .is_some_and(|l| !l.trim().is_empty());
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
    let (label_text_in, from_in, to_in, day_in) = (
        text(&params.label),
        params.from.as_deref().map_or(own, |s| s.trim().to_owned()),
        text(&params.to),
        text(&params.day),
    );
    if !asked {
        return render(
            StatusCode::OK,
            &DecisionPage {
                frame,
                form: DecisionForm::new(registry, "", &from_in, &to_in, &day_in, Vec::new()),
                decision: None,
            },
        );
    }
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let policy = console.node.release_policy();
    let label = if label_text_in.is_empty() {
        errors.push((
            "label",
            "Label: enter a marking, e.g. NATO SECRET//REL TO FRA, GBR.".to_owned(),
        ));
        None
    } else {
        entente_labels::parse_marking(policy.policies(), &label_text_in)
            .map_err(|e| errors.push(("label", field_error("Label", e))))
            .ok()
    };
    let mut nation = |field: &'static str, title: &str, text: &str| {
        if text.is_empty() {
            errors.push((field, format!("{title}: choose a nation.")));
            return None;
        }
        registry
            .nation_code(text)
            .map_err(|e| errors.push((field, field_error(title, e))))
            .ok()
    };
    let from = nation("from", "From", &from_in);
    let to = nation("to", "To", &to_in);
    let day = parse_day(&day_in, today)
        .map_err(|e| errors.push(("day", e)))
        .ok();
    let form =
        |errors| DecisionForm::new(registry, &label_text_in, &from_in, &to_in, &day_in, errors);
    let (Some(label), Some(from), Some(to), Some(day)) = (label, from, to, day) else {
        return render(
            StatusCode::BAD_REQUEST,
            &DecisionPage {
                frame,
                form: form(errors),
                decision: None,
            },
        );
    };
    let decision = policy.decide(&label, from, to, day);
    let name_of = |code: NationCode| {
        registry
            .nation(code)
            .map_or_else(|| code.to_string(), |n| format!("{} ({code})", n.name))
    };
    let view = DecisionView {
        permit: decision.is_permit(),
        explanation: sentence(&decision.to_string()),
        label: label_text(policy.policies(), &label),
        label_class: label_class(policy.policies(), &label),
        from: name_of(from),
        to: name_of(to),
        day: day.to_string(),
        agreement: decision.agreement().map(|id| {
            registry
                .agreement_by_id(&entente_registry::AgreementId(id.to_owned()))
                .map_or_else(|| id.to_owned(), |a| a.name.clone())
        }),
        clause: decision.clause().map(str::to_owned),
    };
    render(
        StatusCode::OK,
        &DecisionPage {
            frame,
            form: DecisionForm::new(
                registry,
                &label_text_in,
                &from_in,
                &to_in,
                &day.to_string(),
                Vec::new(),
            ),
            decision: Some(view),
        },
    )
}
