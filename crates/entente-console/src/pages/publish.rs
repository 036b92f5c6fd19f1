//! Publish: a report, an indicator or a note written in a form, labelled with a picker (policy
//! and level, Releasable To with nations and groups, caveats) and, on one chosen field, a
//! portion label. Before sending, a preview shows what each partner nation would receive (the
//! tear-lined copy, or nothing and why), decided by the release policy exactly as federation
//! will. Sending posts a TAXII envelope through the node's ingest path, so bad input gets the
//! same errors as a TAXII client.

use std::collections::BTreeSet;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use entente_labels::{stix, Label, PolicySet, ReleaseToken};
use entente_policy::{ReleasePolicy, ReleaseVerdict};
use entente_types::NationCode;
use serde_json::{json, Map, Value};

use super::{object_link, render, Frame};
use crate::banner::{label_class, label_text, Banner};
use crate::error::PageError;
use crate::session::SignedIn;
use crate::Console;

/// The collection the console publishes to.
pub const COLLECTION: &str = "intel";

/// The kinds of object the form writes, and the fields each has.
const KINDS: [(&str, &str); 3] = [
    ("report", "Report"),
    ("indicator", "Indicator"),
    ("note", "Note"),
];

/// Fields that may carry their own portion label, by kind.
fn portion_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "report" => &["description"],
        "indicator" => &["description", "pattern"],
        "note" => &["content"],
        _ => &[],
    }
}

/// The form as sent (repeated keys for checkboxes).
#[derive(Debug, Default, Clone)]
pub struct PublishForm {
    pub csrf: String,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub pattern: String,
    pub abstract_: String,
    pub content: String,
    /// `POLICY|LEVEL`.
    pub level: String,
    pub rel: BTreeSet<String>,
    pub caveats: BTreeSet<String>,
    pub portion_field: String,
    pub portion_level: String,
    pub portion_rel: BTreeSet<String>,
}

impl PublishForm {
    fn parse(body: &[u8]) -> PublishForm {
        let mut f = PublishForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "csrf" => f.csrf = v,
                "kind" => f.kind = v,
                "name" => f.name = v,
                "description" => f.description = v,
                "pattern" => f.pattern = v,
                "abstract" => f.abstract_ = v,
                "content" => f.content = v,
                "level" => f.level = v,
                "rel" => {
                    f.rel.insert(v);
                }
                "caveat" => {
                    f.caveats.insert(v);
                }
                "portion_field" => f.portion_field = v,
                "portion_level" => f.portion_level = v,
                "portion_rel" => {
                    f.portion_rel.insert(v);
                }
                _ => {}
            }
        }
        f
    }
}

/// Why the form cannot be published, field by field.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<(String, String)>);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }
}

/// Builds a label from a `POLICY|LEVEL` choice, Releasable To tokens and caveats.
fn label_of(
    policy: &ReleasePolicy,
    level: &str,
    rel: &BTreeSet<String>,
    caveats: &BTreeSet<String>,
) -> Result<Label, String> {
    let policies = policy.policies();
    let (p, l) = level
        .split_once('|')
        .ok_or_else(|| "choose a classification".to_owned())?;
    let mut label = Label::new(policies, p, l).map_err(|e| e.to_string())?;
    if !rel.is_empty() {
        let tokens = rel
            .iter()
            .map(|t| ReleaseToken::parse(t).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        label = label
            .with_releasable_to(tokens)
            .map_err(|e| e.to_string())?;
    }
    for c in caveats {
        label = label.with_caveat(policies, c).map_err(|e| e.to_string())?;
    }
    policy
        .check_release_tokens(&label)
        .map_err(|e| e.to_string())?;
    Ok(label)
}

/// The envelope the form stands for: the label marking definitions, then the object. `now` is
/// the object's `created` and `modified`.
pub fn envelope(
    policy: &ReleasePolicy,
    form: &PublishForm,
    now: &str,
) -> Result<(Vec<Value>, Value, Vec<Label>), Problems> {
    let policies = policy.policies();
    let mut problems = Problems::default();
    let kind = form.kind.as_str();
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        problems.add("kind", "choose a report, an indicator or a note");
    }
    let required = |problems: &mut Problems, field: &str, value: &str| {
        if value.trim().is_empty() {
            problems.add(field, "is required");
        }
    };
    let mut object = Map::new();
    object.insert("type".into(), json!(kind));
    object.insert("spec_version".into(), json!("2.1"));
    object.insert(
        "id".into(),
        json!(format!("{kind}--{}", uuid::Uuid::new_v4())),
    );
    object.insert("created".into(), json!(now));
    object.insert("modified".into(), json!(now));
    let mut put = |name: &str, value: &str| {
        if !value.trim().is_empty() {
            object.insert(name.into(), json!(value.trim()));
        }
    };
    match kind {
        "report" => {
            required(&mut problems, "name", &form.name);
            put("name", &form.name);
            put("description", &form.description);
            put("published", now);
        }
        "indicator" => {
            required(&mut problems, "name", &form.name);
            required(&mut problems, "pattern", &form.pattern);
            put("name", &form.name);
            put("description", &form.description);
            put("pattern", &form.pattern);
            put("pattern_type", "stix");
            put("valid_from", now);
        }
        "note" => {
            required(&mut problems, "content", &form.content);
            put("abstract", &form.abstract_);
            put("content", &form.content);
        }
        _ => {}
    }
    if kind == "report" {
        // A report refers to at least one object; with none chosen it refers to itself.
        let id = object.get("id").cloned().unwrap_or(Value::Null);
        object.insert("object_refs".into(), json!([id]));
    }
    if kind == "note" {
        let id = object.get("id").cloned().unwrap_or(Value::Null);
        object.insert("object_refs".into(), json!([id]));
    }
    let label = match label_of(policy, &form.level, &form.rel, &form.caveats) {
        Ok(l) => Some(l),
        Err(e) => {
            problems.add("label", e);
            None
        }
    };
    let mut markings = Vec::new();
    let mut labels = Vec::new();
    if let Some(label) = &label {
        match stix::to_marking_definition(policies, label) {
            Ok(m) => {
                object.insert("object_marking_refs".into(), json!([m["id"].clone()]));
                markings.push(m);
                labels.push(label.clone());
            }
            Err(e) => problems.add("label", e.to_string()),
        }
    }
    let field = form.portion_field.trim();
    if !field.is_empty() && field != "none" {
        if !portion_fields(kind).contains(&field) {
            problems.add(
                "portion_field",
                format!("a {kind} has no field {field:?} to label"),
            );
        } else if !object.contains_key(field) {
            problems.add(
                "portion_field",
                format!("{field} is empty: write it or label no portion"),
            );
        } else {
            match label_of(
                policy,
                &form.portion_level,
                &form.portion_rel,
                &BTreeSet::new(),
            ) {
                Ok(portion) => match stix::to_marking_definition(policies, &portion) {
                    Ok(m) => {
                        object.insert(
                            "granular_markings".into(),
                            json!([{ "marking_ref": m["id"].clone(), "selectors": [field] }]),
                        );
                        if !markings.iter().any(|x| x["id"] == m["id"]) {
                            markings.push(m);
                        }
                        labels.push(portion);
                    }
                    Err(e) => problems.add("portion_label", e.to_string()),
                },
                Err(e) => problems.add("portion_label", e),
            }
        }
    }
    if !problems.0.is_empty() {
        return Err(problems);
    }
    let mut objects = vec![stix::label_extension_definition()];
    objects.extend(markings.iter().cloned());
    let object = Value::Object(object);
    objects.push(object.clone());
    Ok((objects, object, labels))
}

/// What one partner would receive.
pub struct Delivery {
    pub nation: String,
    pub receives: bool,
    pub tear_lined: bool,
    pub reason: String,
    /// The properties of the copy, and their text.
    pub copy: Vec<(String, String)>,
    pub label: String,
    pub label_class: &'static str,
}

impl Delivery {
    /// A nation that receives nothing, and why.
    fn nothing(nation: NationCode, reason: String) -> Delivery {
        Delivery {
            nation: nation.as_str().to_owned(),
            receives: false,
            tear_lined: false,
            reason,
            copy: Vec::new(),
            label: String::new(),
            label_class: "level-none",
        }
    }
}

/// The release of `object` (its labels `markings`) from this node's nation to each of
/// `nations`, on `day`.
pub fn deliveries(
    policy: &ReleasePolicy,
    object: &Value,
    markings: &[Value],
    originator: NationCode,
    nations: &[NationCode],
    day: entente_types::Date,
) -> Vec<Delivery> {
    let policies = policy.policies();
    let lookup = |id: &str| {
        markings
            .iter()
            .find(|m| m["id"] == id)
            .and_then(|m| stix::from_marking_definition(policies, m).ok())
    };
    nations
        .iter()
        .map(|&nation| {
            let release = policy.release_stored(object, &lookup, originator, nation, day);
            match release {
                Ok(r) if r.verdict != ReleaseVerdict::Deny && r.object.is_some() => {
                    let copy = r.object.clone().unwrap_or(Value::Null);
                    let (label, label_class_) = match &r.banner {
                        Some(b) => (label_text(policies, b), label_class(policies, b)),
                        None => (String::new(), "level-none"),
                    };
                    Delivery {
                        nation: nation.as_str().to_owned(),
                        receives: true,
                        tear_lined: r.verdict == ReleaseVerdict::Partial,
                        reason: r.explain(),
                        copy: copy
                            .as_object()
                            .map(|m| {
                                m.iter()
                                    .filter(|(k, _)| {
                                        !matches!(
                                            k.as_str(),
                                            "type"
                                                | "spec_version"
                                                | "id"
                                                | "created"
                                                | "modified"
                                                | "object_marking_refs"
                                                | "granular_markings"
                                        )
                                    })
                                    .map(|(k, v)| {
                                        (
                                            k.clone(),
                                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        label,
                        label_class: label_class_,
                    }
                }
                Ok(r) => Delivery::nothing(nation, r.explain()),
                Err(e) => Delivery::nothing(nation, e.to_string()),
            }
        })
        .collect()
}

/// A choice of the level select: `POLICY|LEVEL` and its marking.
pub struct LevelChoice {
    pub value: String,
    pub text: String,
    pub selected: bool,
}

pub struct PolicyGroup {
    pub name: String,
    pub levels: Vec<LevelChoice>,
}

pub struct Check {
    pub value: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "publish.html")]
struct PublishPage {
    frame: Frame,
    kinds: Vec<(String, String, bool)>,
    form: PublishForm,
    levels: Vec<PolicyGroup>,
    portion_levels: Vec<PolicyGroup>,
    groups: Vec<Check>,
    nations: Vec<Check>,
    portion_groups: Vec<Check>,
    portion_nations: Vec<Check>,
    caveats: Vec<Check>,
    portion_field_choices: Vec<(String, bool)>,
    problems: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "publish_preview.html")]
struct Preview {
    deliveries: Vec<Delivery>,
    problems: Vec<(String, String)>,
    banner: Banner,
}

fn level_groups(policies: &PolicySet, selected: &str) -> Vec<PolicyGroup> {
    policies
        .iter()
        .map(|p| PolicyGroup {
            name: p.name.clone(),
            levels: p
                .levels
                .iter()
                .map(|l| {
                    let value = format!("{}|{}", p.id, l.name);
                    LevelChoice {
                        selected: value == selected,
                        text: l.marking.clone(),
                        value,
                    }
                })
                .collect(),
        })
        .collect()
}

fn checks<'a>(values: impl IntoIterator<Item = &'a str>, chosen: &BTreeSet<String>) -> Vec<Check> {
    values
        .into_iter()
        .map(|v| Check {
            checked: chosen.contains(v),
            value: v.to_owned(),
        })
        .collect()
}

fn form_page(
    console: &Console,
    signed_in: &SignedIn,
    form: PublishForm,
    problems: Vec<(String, String)>,
) -> PublishPage {
    let policy = console.node.release_policy();
    let policies = policy.policies();
    let level = if form.level.is_empty() {
        "NATO|SECRET".to_owned()
    } else {
        form.level.clone()
    };
    let nations: Vec<String> = policy
        .nations()
        .iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    let groups = policy.group_tokens();
    let caveats: Vec<&str> = policies
        .iter()
        .flat_map(|p| p.caveats.iter().map(String::as_str))
        .collect();
    let kind = if form.kind.is_empty() {
        "report"
    } else {
        form.kind.as_str()
    };
    let portion_field_choices = ["description", "pattern", "content"]
        .into_iter()
        .map(|f| (f.to_owned(), form.portion_field == f))
        .collect();
    PublishPage {
        frame: Frame::new(console, signed_in, "Publish", "publish"),
        kinds: KINDS
            .iter()
            .map(|(k, t)| ((*k).to_owned(), (*t).to_owned(), *k == kind))
            .collect(),
        levels: level_groups(policies, &level),
        portion_levels: level_groups(policies, &form.portion_level),
        groups: checks(groups.iter().copied(), &form.rel),
        nations: checks(nations.iter().map(String::as_str), &form.rel),
        portion_groups: checks(groups.iter().copied(), &form.portion_rel),
        portion_nations: checks(nations.iter().map(String::as_str), &form.portion_rel),
        caveats: checks(caveats, &form.caveats),
        portion_field_choices,
        problems,
        form: PublishForm {
            kind: kind.to_owned(),
            level,
            ..form
        },
    }
}

/// `GET /console/publish`.
pub async fn page(State(console): State<Arc<Console>>, signed_in: SignedIn) -> Response {
    render(
        StatusCode::OK,
        &form_page(&console, &signed_in, PublishForm::default(), Vec::new()),
    )
}

/// The nations a preview shows: the federation's partners, else every nation of the registry
/// but this one.
fn partner_nations(console: &Console) -> Vec<NationCode> {
    let me = console.node.config().nation;
    match &console.federation {
        Some(fed) => fed.config().partners.iter().map(|p| p.nation).collect(),
        None => console
            .node
            .release_policy()
            .nations()
            .iter()
            .copied()
            .filter(|n| *n != me)
            .collect(),
    }
}

/// `POST /console/publish/preview` (htmx): what each partner would receive.
pub async fn preview(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = PublishForm::parse(&body);
    signed_in.check_csrf(&form.csrf)?;
    let policy = console.node.release_policy();
    let now = entente_node::clock::now_text();
    let page = match envelope(policy, &form, &now) {
        Ok((objects, object, labels)) => {
            let markings: Vec<Value> = objects
                .iter()
                .filter(|o| o["type"] == "marking-definition")
                .cloned()
                .collect();
            Preview {
                deliveries: deliveries(
                    policy,
                    &object,
                    &markings,
                    console.node.config().nation,
                    &partner_nations(&console),
                    entente_node::clock::today(),
                ),
                problems: Vec::new(),
                banner: Banner::of(policy, labels.iter()),
            }
        }
        Err(p) => Preview {
            deliveries: Vec::new(),
            problems: p.0,
            banner: Banner::unlabelled(),
        },
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /console/publish`: posts the envelope through the node's ingest path.
pub async fn send(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = PublishForm::parse(&body);
    signed_in.check_csrf(&form.csrf)?;
    let policy = console.node.release_policy();
    let now = entente_node::clock::now_text();
    let (objects, object, _) = match envelope(policy, &form, &now) {
        Ok(x) => x,
        Err(p) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(&console, &signed_in, form, p.0),
            ))
        }
    };
    let text = json!({ "objects": objects }).to_string();
    let user = &signed_in.session.user;
    let status = match console
        .node
        .post_envelope(user, COLLECTION, text.as_bytes())
        .await
    {
        Ok(s) => s,
        Err(e) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(
                    &console,
                    &signed_in,
                    form,
                    vec![("envelope".into(), e.to_string())],
                ),
            ))
        }
    };
    let id = object["id"].as_str().unwrap_or_default().to_owned();
    let stored = status.successes.iter().any(|s| s.id == id);
    if !stored || !status.failures.is_empty() {
        // What the ingest checks said of each object of the envelope; an object held back
        // waits for a label that was refused.
        let mut problems: Vec<(String, String)> = status
            .failures
            .iter()
            .map(|f| {
                let what = if f.id == id {
                    "object".to_owned()
                } else {
                    f.id.clone()
                };
                (what, f.message.clone().unwrap_or_else(|| "refused".into()))
            })
            .collect();
        if !stored && !status.failures.iter().any(|f| f.id == id) {
            problems.push((
                "object".into(),
                "held back: its label was not accepted, so it was not published".into(),
            ));
        }
        return Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(&console, &signed_in, form, problems),
        ));
    }
    tracing::info!(user = %user.name, object_id = %id, "published from the console");
    Ok(Redirect::to(&object_link(COLLECTION, &id)).into_response())
}
