//! The agreements graph of one day ([`Registry::graph`](entente_registry::Registry::graph))
//! drawn as SVG without a layout engine: organisations and agreements in a column on the left,
//! each agreement next to the organisation whose members are its parties and each organisation
//! next to its parent; nations in a column on the right, ordered by the mean position of what they
//! belong to, so that nations of the same alliances sit together and the edges stay short.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use entente_registry::{Graph, GraphEdgeKind, GraphNode, GraphNodeKind};

use super::svg::{escape, Number};

/// Height of a nation's row, in SVG user units.
const ROW: f64 = 17.0;
const TOP: f64 = 28.0;
const WIDTH: f64 = 1000.0;
/// Where the left column's markers and the right column's markers stand.
const LEFT_X: f64 = 390.0;
const RIGHT_X: f64 = 690.0;
/// Labels longer than this are cut (the whole name is in the node's title and in the table).
const LABEL_CHARS: usize = 52;

/// An organisation or agreement as the graph's table lists it.
pub struct GroupRow {
    pub name: String,
    pub kind: &'static str,
    /// Full members (organisations) or parties (agreements) that day, by name.
    pub members: Vec<String>,
    /// The organisation it is part of, or whose members are its parties.
    pub notes: Vec<String>,
}

/// The drawing and its accessible equivalent.
pub struct Drawing {
    pub svg: String,
    pub rows: Vec<GroupRow>,
    pub nations: usize,
}

struct Placed<'a> {
    node: &'a GraphNode,
    y: f64,
}

/// A node's label as drawn: its name when it fits, else the short name the name ends with in
/// parentheses ("… (Treaty of Aachen)"), else its id (which the registry keeps readable, e.g.
/// `japan-france-security-of-information`), else the name cut.
fn short(node: &GraphNode) -> String {
    let fits = |s: &str| s.chars().count() <= LABEL_CHARS;
    let label = node.label.trim();
    if fits(label) {
        return label.to_owned();
    }
    if let Some(inner) = label
        .strip_suffix(')')
        .and_then(|s| s.rfind('(').map(|i| &s[i + 1..]))
    {
        if fits(inner) && !inner.is_empty() {
            return inner.to_owned();
        }
    }
    if fits(&node.id) {
        return node.id.clone();
    }
    let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// The left column's order: organisations from the largest root down their parts, each followed
/// by the agreements it holds; then agreements between nations only, by name.
fn left_order(graph: &Graph) -> Vec<&GraphNode> {
    let by_id: HashMap<&str, &GraphNode> = graph.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut members: HashMap<&str, usize> = HashMap::new();
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut has_parent: BTreeSet<&str> = BTreeSet::new();
    let mut held_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut holder: BTreeSet<&str> = BTreeSet::new();
    for e in &graph.edges {
        match e.kind {
            GraphEdgeKind::MemberOf => *members.entry(e.to.as_str()).or_default() += 1,
            GraphEdgeKind::PartOf => {
                children
                    .entry(e.to.as_str())
                    .or_default()
                    .push(e.from.as_str());
                has_parent.insert(e.from.as_str());
            }
            GraphEdgeKind::MembersArePartiesTo | GraphEdgeKind::PartyTo => {
                let from_org = by_id
                    .get(e.from.as_str())
                    .is_some_and(|n| n.kind == GraphNodeKind::Organization);
                if from_org && holder.insert(e.to.as_str()) {
                    held_by
                        .entry(e.from.as_str())
                        .or_default()
                        .push(e.to.as_str());
                }
            }
        }
    }
    // Within an organisation, its agreements by name.
    for agreements in held_by.values_mut() {
        agreements.sort_by_key(|id| by_id.get(id).map(|n| n.label.as_str()));
    }
    let size = |id: &str| members.get(id).copied().unwrap_or(0);
    let mut roots: Vec<&str> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == GraphNodeKind::Organization && !has_parent.contains(n.id.as_str()))
        .map(|n| n.id.as_str())
        .collect();
    roots.sort_by_key(|id| (std::cmp::Reverse(size(id)), *id));
    let mut order: Vec<&GraphNode> = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = roots.into_iter().rev().collect();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(n) = by_id.get(id) {
            order.push(n);
        }
        for agreement in held_by.get(id).into_iter().flatten() {
            if seen.insert(agreement) {
                if let Some(n) = by_id.get(agreement) {
                    order.push(n);
                }
            }
        }
        let mut parts = children.get(id).cloned().unwrap_or_default();
        parts.sort_by_key(|id| (std::cmp::Reverse(size(id)), *id));
        stack.extend(parts.into_iter().rev());
    }
    let mut rest: Vec<&GraphNode> = graph
        .nodes
        .iter()
        .filter(|n| n.kind != GraphNodeKind::Nation && !seen.contains(n.id.as_str()))
        .collect();
    rest.sort_by(|a, b| (a.kind, &a.label).cmp(&(b.kind, &b.label)));
    order.extend(rest);
    order
}

/// The graph as SVG; `chosen` (a nation's code) is drawn with its edges and neighbours
/// emphasised.
pub fn draw(graph: &Graph, chosen: &str) -> Drawing {
    let left = left_order(graph);
    let left_index: HashMap<&str, usize> = left
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    // Each nation's edges to the left column.
    let mut links: BTreeMap<&str, Vec<(&str, GraphEdgeKind)>> = BTreeMap::new();
    for e in &graph.edges {
        if left_index.contains_key(e.to.as_str()) && !left_index.contains_key(e.from.as_str()) {
            links
                .entry(e.from.as_str())
                .or_default()
                .push((e.to.as_str(), e.kind));
        }
    }
    let mut nations: Vec<(&GraphNode, f64)> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == GraphNodeKind::Nation)
        .map(|n| {
            let positions: Vec<usize> = links
                .get(n.id.as_str())
                .into_iter()
                .flatten()
                .filter_map(|(to, _)| left_index.get(to).copied())
                .collect();
            #[allow(clippy::cast_precision_loss)]
            let mean = if positions.is_empty() {
                f64::MAX
            } else {
                positions.iter().sum::<usize>() as f64 / positions.len() as f64
            };
            (n, mean)
        })
        .collect();
    nations.sort_by(|(a, ma), (b, mb)| ma.total_cmp(mb).then_with(|| a.label.cmp(&b.label)));

    let rows = nations.len().max(left.len()).max(1);
    #[allow(clippy::cast_precision_loss)]
    let height = TOP + ROW * rows as f64 + 12.0;
    #[allow(clippy::cast_precision_loss)]
    let nation_y = |i: usize| TOP + ROW * (i as f64 + 0.5);
    #[allow(clippy::cast_precision_loss)]
    let left_y =
        |i: usize| TOP + (height - TOP - 12.0) * (i as f64 + 0.5) / left.len().max(1) as f64;
    let left_placed: HashMap<&str, Placed<'_>> = left
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                n.id.as_str(),
                Placed {
                    node: n,
                    y: left_y(i),
                },
            )
        })
        .collect();
    let names: HashMap<&str, &str> = graph
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.label.as_str()))
        .collect();
    let chosen_links: BTreeSet<&str> = links
        .get(chosen)
        .into_iter()
        .flatten()
        .map(|(to, _)| *to)
        .collect();

    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">",
        Number(WIDTH),
        Number(height),
        escape(&format!(
            "Agreements graph on {}: {} organisations and agreements, {} nations; the table below lists the same",
            graph.day,
            left.len(),
            nations.len()
        ))
    );
    let _ = write!(
        out,
        "<text class=\"heading\" x=\"{}\" y=\"14\" text-anchor=\"end\">Organisations and agreements</text><text class=\"heading\" x=\"{}\" y=\"14\">Nations</text>",
        Number(LEFT_X + 6.0),
        Number(RIGHT_X - 6.0)
    );
    // Edges inside the left column (part of, members are parties to, an organisation as a
    // party): arcs into the gap, so that they do not cross the labels.
    out.push_str("<g class=\"inner\">");
    for e in &graph.edges {
        let (Some(a), Some(b)) = (
            left_placed.get(e.from.as_str()),
            left_placed.get(e.to.as_str()),
        ) else {
            continue;
        };
        let bulge = 24.0 + (a.y - b.y).abs() * 0.18;
        let _ = write!(
            out,
            "<path class=\"edge {}\" d=\"M{} {}C{} {} {} {} {} {}\"><title>{}</title></path>",
            e.kind.as_str(),
            Number(LEFT_X + 6.0),
            Number(a.y),
            Number(LEFT_X + bulge),
            Number(a.y),
            Number(LEFT_X + bulge),
            Number(b.y),
            Number(LEFT_X + 6.0),
            Number(b.y),
            escape(&format!(
                "{} {} {}",
                a.node.label,
                e.kind.as_str().replace('-', " "),
                b.node.label
            ))
        );
    }
    out.push_str("</g>");
    // Each nation with its edges, in one group, so that hovering a nation shows its edges.
    for (i, (n, _)) in nations.iter().enumerate() {
        let y = nation_y(i);
        let is_chosen = n.id == chosen;
        let ties: Vec<&(&str, GraphEdgeKind)> =
            links.get(n.id.as_str()).into_iter().flatten().collect();
        let _ = write!(
            out,
            "<g class=\"nation{}\">",
            if is_chosen { " chosen" } else { "" }
        );
        for (to, kind) in &ties {
            let Some(target) = left_placed.get(to) else {
                continue;
            };
            let mid = (LEFT_X + RIGHT_X) / 2.0;
            let _ = write!(
                out,
                "<path class=\"edge {}\" d=\"M{} {}C{} {} {} {} {} {}\"/>",
                kind.as_str(),
                Number(RIGHT_X - 5.0),
                Number(y),
                Number(mid),
                Number(y),
                Number(mid),
                Number(target.y),
                Number(LEFT_X + 6.0),
                Number(target.y)
            );
        }
        let named = |kind: GraphEdgeKind| -> Vec<&str> {
            ties.iter()
                .filter(|(_, k)| *k == kind)
                .map(|(to, _)| names.get(to).copied().unwrap_or(to))
                .collect()
        };
        let mut memberships = Vec::new();
        for (kind, words) in [
            (GraphEdgeKind::MemberOf, "member of"),
            (GraphEdgeKind::PartyTo, "party to"),
        ] {
            let of = named(kind);
            if !of.is_empty() {
                memberships.push(format!("{words} {}", of.join(", ")));
            }
        }
        let _ = write!(
            out,
            "<circle class=\"marker\" cx=\"{}\" cy=\"{}\" r=\"4.5\"/><text x=\"{}\" y=\"{}\">{} <tspan class=\"code\">{}</tspan></text><title>{}</title></g>",
            Number(RIGHT_X),
            Number(y),
            Number(RIGHT_X + 9.0),
            Number(y + 4.0),
            escape(&n.label),
            escape(&n.id),
            escape(&format!("{} ({}): {}", n.label, n.id, memberships.join("; ")))
        );
    }
    // The left column's nodes, over the edges.
    for n in &left {
        let Some(p) = left_placed.get(n.id.as_str()) else {
            continue;
        };
        let kind = n.kind.as_str();
        let emphasis = if chosen_links.contains(n.id.as_str()) {
            " chosen"
        } else {
            ""
        };
        let shape = match n.kind {
            GraphNodeKind::Agreement => format!(
                "<path class=\"marker\" d=\"M{} {}l5.5 5.5-5.5 5.5-5.5-5.5Z\"/>",
                Number(LEFT_X),
                Number(p.y - 5.5)
            ),
            _ => format!(
                "<rect class=\"marker\" x=\"{}\" y=\"{}\" width=\"10\" height=\"10\"/>",
                Number(LEFT_X - 5.0),
                Number(p.y - 5.0)
            ),
        };
        let _ = write!(
            out,
            "<g class=\"{kind}{emphasis}\">{shape}<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><title>{} ({})</title></g>",
            Number(LEFT_X - 11.0),
            Number(p.y + 4.0),
            escape(&short(n)),
            escape(&n.label),
            escape(&n.id)
        );
    }
    out.push_str("</svg>");

    Drawing {
        svg: out,
        rows: table(graph, &left, &names),
        nations: nations.len(),
    }
}

/// The accessible equivalent of the drawing: each organisation and agreement, with its members
/// or parties that day.
fn table(graph: &Graph, left: &[&GraphNode], names: &HashMap<&str, &str>) -> Vec<GroupRow> {
    let name = |id: &str| names.get(id).copied().unwrap_or(id).to_owned();
    left.iter()
        .map(|n| {
            let mut members = Vec::new();
            let mut notes = Vec::new();
            for e in &graph.edges {
                match e.kind {
                    GraphEdgeKind::MemberOf | GraphEdgeKind::PartyTo if e.to == n.id => {
                        members.push(name(&e.from));
                    }
                    GraphEdgeKind::PartOf if e.from == n.id => {
                        notes.push(format!("part of {}", name(&e.to)));
                    }
                    GraphEdgeKind::MembersArePartiesTo if e.to == n.id => {
                        notes.push(format!("the members of {} are parties", name(&e.from)));
                    }
                    _ => {}
                }
            }
            members.sort();
            GroupRow {
                name: n.label.clone(),
                kind: n.kind.as_str(),
                members,
                notes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use entente_registry::Registry;
    use entente_types::parse_date;

    use super::*;

    fn registry() -> Registry {
        Registry::load(&entente_node::shipped_data().join("registry")).unwrap()
    }

    #[test]
    fn the_graph_of_a_known_day_places_every_node_once() {
        let r = registry();
        let graph = r.graph(parse_date("2024-09-01").unwrap());
        let drawing = draw(&graph, "FRA");
        let left = left_order(&graph);
        let nations = graph
            .nodes
            .iter()
            .filter(|n| n.kind == GraphNodeKind::Nation)
            .count();
        assert_eq!(
            left.len() + nations,
            graph.nodes.len(),
            "every node placed once"
        );
        assert_eq!(drawing.nations, nations);
        // NATO's agreements follow it; the EU precedes PESCO, which precedes its projects.
        let at = |id: &str| left.iter().position(|n| n.id == id).unwrap();
        let nato = at("NATO");
        let held_by_nato = graph
            .edges
            .iter()
            .filter(|e| {
                e.from == "NATO"
                    && matches!(
                        e.kind,
                        GraphEdgeKind::MembersArePartiesTo | GraphEdgeKind::PartyTo
                    )
            })
            .count();
        assert!(held_by_nato >= 3, "NATO holds {held_by_nato} agreements");
        assert!((nato + 1..=nato + held_by_nato).contains(&at("north-atlantic-treaty")));
        assert!(at("EU") < at("PESCO") && at("PESCO") < at("PESCO-MM"));
        // Sweden is in NATO (since 2024-03-07): the NATO row lists it, among 32.
        let nato = drawing
            .rows
            .iter()
            .find(|row| row.name == "North Atlantic Treaty Organization")
            .unwrap();
        assert_eq!(nato.members.len(), 32);
        assert!(nato.members.iter().any(|m| m == "Sweden"));
        let treaty = drawing
            .rows
            .iter()
            .find(|row| row.name == "North Atlantic Treaty")
            .unwrap();
        assert_eq!(
            treaty.notes,
            ["the members of North Atlantic Treaty Organization are parties"]
        );
        // France is emphasised, and so is the Treaty of Aachen it is a party to.
        assert!(drawing.svg.contains("<g class=\"nation chosen\">"));
        assert!(drawing.svg.contains("<g class=\"agreement chosen\">"));
        assert!(!drawing.svg.contains("style="));
    }

    #[test]
    fn before_its_accession_sweden_is_not_linked_to_nato() {
        let r = registry();
        let drawing = draw(&r.graph(parse_date("2024-03-06").unwrap()), "SWE");
        let nato = drawing
            .rows
            .iter()
            .find(|row| row.name == "North Atlantic Treaty Organization")
            .unwrap();
        assert_eq!(nato.members.len(), 31);
        assert!(!nato.members.iter().any(|m| m == "Sweden"));
    }

    #[test]
    fn labels_are_escaped_and_long_ones_cut() {
        let graph = Graph {
            day: parse_date("2024-06-01").unwrap(),
            nodes: vec![
                GraphNode {
                    id: "X<".into(),
                    label: "A <b>\"bold\"</b> nation".into(),
                    kind: GraphNodeKind::Nation,
                },
                GraphNode {
                    id: "O".repeat(60),
                    label: "O".repeat(80),
                    kind: GraphNodeKind::Organization,
                },
            ],
            edges: vec![entente_registry::GraphEdge {
                from: "X<".into(),
                to: "O".repeat(60),
                kind: GraphEdgeKind::MemberOf,
            }],
        };
        let drawing = draw(&graph, "X<");
        assert!(drawing.svg.contains(
            "A &lt;b&gt;&quot;bold&quot;&lt;/b&gt; nation <tspan class=\"code\">X&lt;</tspan>"
        ));
        assert!(!drawing.svg.contains("<b>"));
        assert!(drawing
            .svg
            .contains(&format!(">{}…</text>", "O".repeat(LABEL_CHARS - 1))));
        assert_eq!(drawing.rows[0].members, ["A <b>\"bold\"</b> nation"]);
    }

    #[test]
    fn long_names_are_drawn_by_their_short_name_or_id() {
        let node = |id: &str, label: &str| GraphNode {
            id: id.into(),
            label: label.into(),
            kind: GraphNodeKind::Agreement,
        };
        assert_eq!(
            short(&node("nat", "North Atlantic Treaty")),
            "North Atlantic Treaty"
        );
        assert_eq!(
            short(&node("aachen", "Treaty on Franco-German Cooperation and Integration between the two (Treaty of Aachen)")),
            "Treaty of Aachen"
        );
        assert_eq!(
            short(&node("japan-france-security-of-information", "Agreement between the Government of the French Republic and the Government of Japan on the Security of Information")),
            "japan-france-security-of-information"
        );
    }
}
