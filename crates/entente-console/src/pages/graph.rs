//! The graph around an object ([`entente_search::Graph`]) laid out for an inline SVG without a
//! layout engine, deterministically: the object at the centre, the objects one reference away
//! on an inner ring and those two away on an outer one. The rings are ellipses twice as wide as
//! high, since names are written across. Each inner object gets a sector of the rings as wide
//! as the outer objects it leads to (at least one share), and those outer objects are placed
//! in its sector around it (at most 30° apart), so that edges stay short and seldom cross. The
//! drawing is then cropped to what it holds, names included.
//!
//! The drawing is a group (`role="group"`) named by a sentence that says what it shows, not an
//! image (`role="img"`): an image's children are presentational, so its node links would be
//! focusable yet unannounced (axe's `nested-interactive`). Its links are left out of the Tab
//! order; the page lists every reference as text with the same links after the drawing, for
//! screen readers and the keyboard.

use std::collections::BTreeMap;
use std::f64::consts::TAU;

use entente_search::{Graph, GraphNode};

pub use super::registry::svg::Number;

/// Objects a drawing holds at most (the nearest first); more would not be readable.
pub const MAX_NODES: usize = 25;
/// Names longer than this are cut in the drawing (the whole name is in the node's title); the
/// centre's name may be longer.
const NAME_CHARS: usize = 26;
const CENTRE_NAME_CHARS: usize = 40;
const CROWDED_NAME_CHARS: usize = 20;
/// Half-widths and half-heights of the inner and outer rings, in SVG user units.
const INNER: (f64, f64) = (200.0, 100.0);
const INNER_ALONE: (f64, f64) = (230.0, 115.0);
const OUTER: (f64, f64) = (420.0, 210.0);
/// How many objects a ring of that size holds before it grows.
const INNER_ROOM: usize = 8;
const OUTER_ROOM: usize = 14;
const CENTRE_R: f64 = 13.0;
const NODE_R: f64 = 8.0;
/// The widest angle between two outer objects of one inner object.
const MAX_STEP: f64 = TAU / 12.0;
/// What a character of a name, of a type and of an edge's label takes across, at most.
const NAME_EM: f64 = 7.4;
const SMALL_EM: f64 = 6.0;
/// Room left around the drawing's content.
const PAD: f64 = 10.0;

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

/// The drawing of a graph, the centre object at (0, 0).
#[derive(Debug)]
pub struct GraphView {
    /// The view box: its top left corner and its size.
    pub left: Number,
    pub top: Number,
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

/// A name cut to `chars` characters.
fn cut(name: &str, chars: usize) -> String {
    if name.chars().count() <= chars {
        return name.to_owned();
    }
    let mut out: String = name.chars().take(chars - 1).collect();
    out.push('…');
    out
}

/// The box a text takes, written at `(x, y)` (its baseline) with `anchor`.
fn text_box(x: f64, y: f64, anchor: &str, chars: usize, em: f64, size: f64) -> Box2 {
    #[allow(clippy::cast_precision_loss)] // a few dozen characters
    let w = chars as f64 * em;
    let (left, right) = match anchor {
        "start" => (x, x + w),
        "end" => (x - w, x),
        _ => (x - w / 2.0, x + w / 2.0),
    };
    Box2 {
        left,
        top: y - size,
        right,
        bottom: y + size * 0.3,
    }
}

/// An axis-aligned box.
#[derive(Debug, Clone, Copy)]
struct Box2 {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Box2 {
    fn around(x: f64, y: f64, r: f64) -> Box2 {
        Box2 {
            left: x - r,
            top: y - r,
            right: x + r,
            bottom: y + r,
        }
    }

    fn union(self, o: Box2) -> Box2 {
        Box2 {
            left: self.left.min(o.left),
            top: self.top.min(o.top),
            right: self.right.max(o.right),
            bottom: self.bottom.max(o.bottom),
        }
    }
}

/// Where an object is drawn: its place, radius and direction from the centre.
#[derive(Debug, Clone, Copy)]
struct Place {
    x: f64,
    y: f64,
    r: f64,
    /// The direction from the centre (cosine, sine); none for the centre.
    towards: Option<(f64, f64)>,
}

/// Lays out `graph` around the object `centre`; `None` when the object is not in it.
pub fn layout(graph: &Graph, centre: &str, links: &impl Links) -> Option<GraphView> {
    let centre_node = graph.nodes.iter().find(|n| n.id == centre)?;
    let order =
        |a: &&GraphNode, b: &&GraphNode| (&a.kind, &a.name, &a.id).cmp(&(&b.kind, &b.name, &b.id));
    let mut inner: Vec<&GraphNode> = graph.nodes.iter().filter(|n| n.distance == 1).collect();
    inner.sort_by(order);
    let mut outer: Vec<&GraphNode> = graph.nodes.iter().filter(|n| n.distance >= 2).collect();
    outer.sort_by(order);
    // Each outer object under the first inner object it is linked to (in the inner order).
    let parent_of = |id: &str| {
        inner.iter().position(|p| {
            graph.edges.iter().any(|e| {
                (e.source == id && e.target == p.id) || (e.target == id && e.source == p.id)
            })
        })
    };
    let mut children: BTreeMap<usize, Vec<&GraphNode>> = BTreeMap::new();
    for n in &outer {
        // (An outer object always has one: it was reached through it.)
        let parent = parent_of(&n.id).unwrap_or(inner.len());
        children.entry(parent).or_default().push(n);
    }
    // Rings grow with the objects on them, so that names keep apart (the drawing is scaled
    // down to the page's width when it is wider).
    #[allow(clippy::cast_precision_loss)] // a few dozen objects
    let grow = |ring: (f64, f64), count: usize, room: usize| {
        let k = (count as f64 / room as f64).max(1.0);
        (ring.0 * k, ring.1 * k)
    };
    let inner_ring = grow(
        if outer.is_empty() { INNER_ALONE } else { INNER },
        inner.len(),
        INNER_ROOM,
    );
    let outer_ring = {
        let (gx, gy) = grow(OUTER, outer.len(), OUTER_ROOM);
        let k = inner_ring.0 / INNER.0;
        (gx.max(OUTER.0 * k), gy.max(OUTER.1 * k))
    };
    let at = |(rx, ry): (f64, f64), angle: f64, r: f64| Place {
        x: rx * angle.cos(),
        y: ry * angle.sin(),
        r,
        towards: Some((angle.cos(), angle.sin())),
    };

    // Sectors: one share per inner object, or as many as the outer objects under it; the
    // first sector is centred on the right, where names have most room.
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
    #[allow(clippy::cast_precision_loss)] // a few dozen objects
    let share = TAU / (shares.iter().sum::<usize>().max(1) as f64);
    let mut places: BTreeMap<&str, Place> = BTreeMap::new();
    places.insert(
        centre_node.id.as_str(),
        Place {
            x: 0.0,
            y: 0.0,
            r: CENTRE_R,
            towards: None,
        },
    );
    #[allow(clippy::cast_precision_loss)]
    let mut start = -(shares.first().copied().unwrap_or(1) as f64) * share / 2.0;
    for (i, n) in shares.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let sector = share * (*n as f64);
        let middle = start + sector / 2.0;
        if let Some(p) = inner.get(i) {
            places.insert(p.id.as_str(), at(inner_ring, middle, NODE_R));
        }
        if let Some(kids) = children.get(&i) {
            // Around their parent, no wider apart than needed: the graph grows outwards.
            let step = share.min(MAX_STEP);
            #[allow(clippy::cast_precision_loss)]
            let first = middle - step * (kids.len() as f64 - 1.0) / 2.0;
            for (j, kid) in kids.iter().enumerate() {
                #[allow(clippy::cast_precision_loss)]
                let angle = first + step * j as f64;
                places.insert(kid.id.as_str(), at(outer_ring, angle, NODE_R));
            }
        }
        start += sector;
    }

    let crowded = inner.len() > INNER_ROOM || outer.len() > OUTER_ROOM;
    let link = |id: &str| links.link(id).unwrap_or_default();
    let mut bounds = Box2::around(0.0, 0.0, CENTRE_R);
    let mut nodes = Vec::new();
    for n in &graph.nodes {
        let Some(&Place { x, y, r, towards }) = places.get(n.id.as_str()) else {
            continue;
        };
        let is_centre = n.id == centre_node.id;
        // Names go above the centre (clear of the inner objects' names beside it), under the
        // inner objects that lead further (clear of their edges outwards), and outwards from
        // the others: to the side, or above and below near the top and the bottom.
        let leads_on = inner
            .iter()
            .position(|p| p.id == n.id)
            .is_some_and(|i| children.contains_key(&i));
        let (text_x, text_y, anchor) = match towards {
            None => (x, y - r - 20.0, "middle"),
            Some(_) if n.distance == 1 && leads_on => (x, y + r + 13.0, "middle"),
            Some((dx, dy)) => {
                if dx.abs() < 0.15 {
                    if dy > 0.0 {
                        (x, y + r + 13.0, "middle")
                    } else {
                        (x, y - r - 18.0, "middle")
                    }
                } else if dx > 0.0 {
                    (x + r + 5.0, y + 3.0, "start")
                } else {
                    (x - r - 5.0, y + 3.0, "end")
                }
            }
        };
        let short = cut(
            &n.name,
            if is_centre {
                CENTRE_NAME_CHARS
            } else if crowded {
                CROWDED_NAME_CHARS
            } else {
                NAME_CHARS
            },
        );
        let size = if is_centre { 12.0 } else { 11.0 };
        bounds = bounds
            .union(Box2::around(x, y, r + 2.0))
            .union(text_box(
                text_x,
                text_y,
                anchor,
                short.chars().count(),
                NAME_EM * size / 11.0,
                size,
            ))
            .union(text_box(
                text_x,
                text_y + 12.0,
                anchor,
                n.kind.chars().count(),
                SMALL_EM,
                9.5,
            ));
        nodes.push(NodeView {
            x: Number(x),
            y: Number(y),
            r: Number(r),
            link: link(&n.id),
            short,
            name: n.name.clone(),
            kind: n.kind.clone(),
            originator: n.originator.clone(),
            class: kind_class(&n.kind),
            centre: is_centre,
            text_x: Number(text_x),
            text_y: Number(text_y),
            anchor,
        });
    }
    let name_of = |id: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.id == id)
            .map_or_else(|| id.to_owned(), |n| n.name.clone())
    };
    let mut edges = Vec::new();
    // (An object that names itself links nothing.)
    for e in graph.edges.iter().filter(|e| e.source != e.target) {
        let (Some(from), Some(to)) = (places.get(e.source.as_str()), places.get(e.target.as_str()))
        else {
            continue;
        };
        let length = (to.x - from.x).hypot(to.y - from.y).max(1.0);
        let (ux, uy) = ((to.x - from.x) / length, (to.y - from.y) / length);
        // From circle to circle, the arrow's point on the target's edge.
        let (sx, sy) = (from.x + ux * from.r, from.y + uy * from.r);
        let (tx, ty) = (to.x - ux * (to.r + 2.0), to.y - uy * (to.r + 2.0));
        let (label_x, label_y) = (sx + (tx - sx) * 0.5, sy + (ty - sy) * 0.5 - 3.0);
        bounds = bounds.union(text_box(
            label_x,
            label_y,
            "middle",
            e.label.chars().count(),
            SMALL_EM,
            10.0,
        ));
        edges.push(EdgeView {
            x1: Number(sx),
            y1: Number(sy),
            x2: Number(tx),
            y2: Number(ty),
            label_x: Number(label_x),
            label_y: Number(label_y),
            label: e.label.clone(),
            source: name_of(&e.source),
            source_link: link(&e.source),
            target: name_of(&e.target),
            target_link: link(&e.target),
            via_link: e.via.as_deref().map(link).filter(|l| !l.is_empty()),
        });
    }
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
        left: Number(bounds.left - PAD),
        top: Number(bounds.top - PAD),
        width: Number(bounds.right - bounds.left + 2.0 * PAD),
        height: Number(bounds.bottom - bounds.top + 2.0 * PAD),
        nodes,
        edges,
        truncated: graph.truncated,
        description,
    })
}

#[cfg(test)]
mod tests;
