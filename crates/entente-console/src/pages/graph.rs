//! The graph around an object ([`entente_search::Graph`]) laid out for an inline SVG without a
//! layout engine, deterministically: the object at the centre, the objects one reference away
//! on an inner circle and those two away on an outer one. Each inner object gets a sector of
//! the circle as wide as the outer objects it leads to (at least one share), and those outer
//! objects are spread over its sector, so that edges stay short and seldom cross.
//!
//! The drawing is a picture for the eye (`role="img"`); the page lists the same links as text
//! beside it, for screen readers and the keyboard.

use std::collections::BTreeMap;
use std::f64::consts::TAU;
use std::fmt;

use entente_search::Graph;

/// Objects a drawing holds at most (the nearest first); more would not be readable.
pub const MAX_NODES: usize = 25;
/// Names longer than this are cut in the drawing (the whole name is in the node's title).
const NAME_CHARS: usize = 26;
/// Radius of the inner and outer circles, and the margin around them, in SVG user units.
const INNER: f64 = 150.0;
const INNER_ALONE: f64 = 170.0;
const OUTER: f64 = 300.0;
const MARGIN_X: f64 = 190.0;
const MARGIN_Y: f64 = 48.0;
const CENTRE_R: f64 = 13.0;
const NODE_R: f64 = 8.0;

/// A coordinate to one decimal, without a trailing `.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded = (self.0 * 10.0).round() / 10.0;
        if rounded == 0.0 {
            f.write_str("0")
        } else if rounded.fract() == 0.0 {
            write!(f, "{rounded:.0}")
        } else {
            write!(f, "{rounded:.1}")
        }
    }
}

/// What a drawing needs of each object beyond the graph: the link to its page.
pub trait Links {
    fn link(&self, id: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Links for F {
    fn link(&self, id: &str) -> Option<String> {
        self(id)
    }
}

/// An object as drawn.
#[derive(Debug)]
pub struct NodeView {
    pub x: Number,
    pub y: Number,
    pub r: Number,
    pub link: String,
    pub name: String,
    /// The name as drawn (cut when long).
    pub short: String,
    pub kind: String,
    pub originator: String,
    /// The colour class of its type.
    pub class: &'static str,
    pub centre: bool,
    /// Where its name is written, and how it is anchored there.
    pub text_x: Number,
    pub text_y: Number,
    pub anchor: &'static str,
}

impl NodeView {
    /// Where the line giving its type is written, under its name.
    pub fn kind_y(&self) -> Number {
        Number(self.text_y.0 + 12.0)
    }
}

/// A reference as drawn, and as the list beside the drawing says it.
#[derive(Debug)]
pub struct EdgeView {
    pub x1: Number,
    pub y1: Number,
    pub x2: Number,
    pub y2: Number,
    /// Where the relationship's type is written.
    pub label_x: Number,
    pub label_y: Number,
    pub label: String,
    pub source: String,
    pub source_link: String,
    pub target: String,
    pub target_link: String,
    /// The relationship object that makes the reference, if one does.
    pub via_link: Option<String>,
}

/// The drawing of a graph.
#[derive(Debug)]
pub struct GraphView {
    pub width: Number,
    pub height: Number,
    pub nodes: Vec<NodeView>,
    pub edges: Vec<EdgeView>,
    /// More objects were in reach than are drawn.
    pub truncated: bool,
    /// What the drawing shows, in words (its accessible name).
    pub description: String,
}

/// The colour class of an object's type.
fn kind_class(kind: &str) -> &'static str {
    match kind {
        "indicator" => "kind-indicator",
        "malware" | "tool" => "kind-malware",
        "vulnerability" => "kind-vulnerability",
        "report" | "note" | "opinion" | "grouping" => "kind-report",
        "threat-actor" | "intrusion-set" | "campaign" => "kind-actor",
        "infrastructure" | "location" | "identity" => "kind-infrastructure",
        "incident" | "sighting" | "observed-data" => "kind-incident",
        _ => "kind-other",
    }
}

/// A name cut to [`NAME_CHARS`] characters.
fn cut(name: &str) -> String {
    if name.chars().count() <= NAME_CHARS {
        return name.to_owned();
    }
    let mut out: String = name.chars().take(NAME_CHARS - 1).collect();
    out.push('…');
    out
}

/// Lays out `graph` around the object `centre`; `None` when the object is not in it.
pub fn layout(graph: &Graph, centre: &str, links: &impl Links) -> Option<GraphView> {
    let centre_node = graph.nodes.iter().find(|n| n.id == centre)?;
    let order = |a: &&entente_search::GraphNode, b: &&entente_search::GraphNode| {
        (&a.kind, &a.name, &a.id).cmp(&(&b.kind, &b.name, &b.id))
    };
    let mut inner: Vec<&entente_search::GraphNode> =
        graph.nodes.iter().filter(|n| n.distance == 1).collect();
    inner.sort_by(order);
    let mut outer: Vec<&entente_search::GraphNode> =
        graph.nodes.iter().filter(|n| n.distance >= 2).collect();
    outer.sort_by(order);
    // Each outer object under the first inner object it is linked to (in the inner order).
    let parent_of = |id: &str| {
        inner.iter().position(|p| {
            graph.edges.iter().any(|e| {
                (e.source == id && e.target == p.id) || (e.target == id && e.source == p.id)
            })
        })
    };
    let mut children: BTreeMap<usize, Vec<&entente_search::GraphNode>> = BTreeMap::new();
    for n in &outer {
        // (An outer object always has one: it was reached through it.)
        let parent = parent_of(&n.id).unwrap_or(inner.len());
        children.entry(parent).or_default().push(n);
    }
    let has_outer = !outer.is_empty();
    let inner_r = if has_outer { INNER } else { INNER_ALONE };
    let reach = if has_outer { OUTER } else { inner_r };
    let width = 2.0 * (reach + MARGIN_X);
    let height = 2.0 * (reach + MARGIN_Y);
    let (cx, cy) = (width / 2.0, height / 2.0);
    let at = |r: f64, angle: f64| (cx + r * angle.cos(), cy + r * angle.sin());

    // Sectors: one share per inner object, or as many as the outer objects under it.
    let shares: Vec<usize> = (0..=inner.len())
        .map(|i| {
            let k = children.get(&i).map_or(0, Vec::len);
            if i < inner.len() {
                k.max(1)
            } else {
                k
            }
        })
        .collect();
    let total: usize = shares.iter().sum::<usize>().max(1);
    let mut positions: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
    positions.insert(centre_node.id.as_str(), (cx, cy, CENTRE_R));
    let mut start = 0.0f64;
    for (i, share) in shares.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)] // a few dozen objects
        let sector = TAU * (*share as f64) / (total as f64);
        if let Some(p) = inner.get(i) {
            let (x, y) = at(inner_r, start + sector / 2.0);
            positions.insert(p.id.as_str(), (x, y, NODE_R));
        }
        if let Some(kids) = children.get(&i) {
            #[allow(clippy::cast_precision_loss)]
            let step = sector / (kids.len() as f64);
            for (j, kid) in kids.iter().enumerate() {
                #[allow(clippy::cast_precision_loss)]
                let (x, y) = at(OUTER, start + step * (j as f64 + 0.5));
                positions.insert(kid.id.as_str(), (x, y, NODE_R));
            }
        }
        start += sector;
    }

    let link = |id: &str| links.link(id).unwrap_or_default();
    let nodes = graph
        .nodes
        .iter()
        .filter_map(|n| {
            let &(x, y, r) = positions.get(n.id.as_str())?;
            let is_centre = n.id == centre_node.id;
            // Names go under the centre and the inner objects, and outwards from the outer
            // ones (to the side, or above and below near the top and the bottom).
            let (text_x, text_y, anchor) = if is_centre || n.distance == 1 {
                (x, y + r + 13.0, "middle")
            } else {
                let (dx, dy) = ((x - cx) / OUTER, (y - cy) / OUTER);
                if dx.abs() < 0.35 {
                    let below = dy > 0.0;
                    (x, if below { y + r + 13.0 } else { y - r - 18.0 }, "middle")
                } else if dx > 0.0 {
                    (x + r + 5.0, y + 3.0, "start")
                } else {
                    (x - r - 5.0, y + 3.0, "end")
                }
            };
            Some(NodeView {
                x: Number(x),
                y: Number(y),
                r: Number(r),
                link: link(&n.id),
                short: cut(&n.name),
                name: n.name.clone(),
                kind: n.kind.clone(),
                originator: n.originator.clone(),
                class: kind_class(&n.kind),
                centre: is_centre,
                text_x: Number(text_x),
                text_y: Number(text_y),
                anchor,
            })
        })
        .collect::<Vec<_>>();
    let name_of = |id: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.id == id)
            .map_or_else(|| id.to_owned(), |n| n.name.clone())
    };
    let edges = graph
        .edges
        .iter()
        // (An object that names itself links nothing.)
        .filter(|e| e.source != e.target)
        .filter_map(|e| {
            let &(x1, y1, r1) = positions.get(e.source.as_str())?;
            let &(x2, y2, r2) = positions.get(e.target.as_str())?;
            let length = (x2 - x1).hypot(y2 - y1).max(1.0);
            let (ux, uy) = ((x2 - x1) / length, (y2 - y1) / length);
            // From circle to circle, the arrow's point on the target's edge.
            let (sx, sy) = (x1 + ux * r1, y1 + uy * r1);
            let (tx, ty) = (x2 - ux * (r2 + 2.0), y2 - uy * (r2 + 2.0));
            Some(EdgeView {
                x1: Number(sx),
                y1: Number(sy),
                x2: Number(tx),
                y2: Number(ty),
                label_x: Number(sx + (tx - sx) * 0.55),
                label_y: Number(sy + (ty - sy) * 0.55 - 3.0),
                label: e.label.clone(),
                source: name_of(&e.source),
                source_link: link(&e.source),
                target: name_of(&e.target),
                target_link: link(&e.target),
                via_link: e.via.as_deref().map(link).filter(|l| !l.is_empty()),
            })
        })
        .collect::<Vec<_>>();
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let description = format!(
        "{} and {} around it ({} one reference away, {} two away), joined by {}{}; the list \
         that follows gives each link",
        centre_node.name,
        plural(inner.len() + outer.len(), "object", "objects"),
        inner.len(),
        outer.len(),
        plural(edges.len(), "reference", "references"),
        if graph.truncated {
            "; more objects are in reach than are drawn"
        } else {
            ""
        },
    );
    Some(GraphView {
        width: Number(width),
        height: Number(height),
        nodes,
        edges,
        truncated: graph.truncated,
        description,
    })
}

#[cfg(test)]
mod tests;
