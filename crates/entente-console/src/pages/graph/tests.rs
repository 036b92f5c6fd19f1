use entente_search::{Edge, Graph, GraphNode};

use super::*;

fn node(id: &str, kind: &str, distance: usize) -> GraphNode {
    GraphNode {
        id: id.to_owned(),
        kind: kind.to_owned(),
        name: format!("name of {id}"),
        originator: "FRA".to_owned(),
        distance,
    }
}

fn edge(source: &str, target: &str, label: &str) -> Edge {
    Edge {
        source: source.to_owned(),
        target: target.to_owned(),
        label: label.to_owned(),
        via: None,
    }
}

fn links(id: &str) -> Option<String> {
    Some(format!("/console/objects/intel/{id}"))
}

/// A centre with two inner objects, the first leading to three outer ones.
fn sample() -> Graph {
    Graph {
        nodes: vec![
            node("c", "indicator", 0),
            node("a", "malware", 1),
            node("b", "report", 1),
            node("a1", "vulnerability", 2),
            node("a2", "vulnerability", 2),
            node("a3", "tool", 2),
        ],
        edges: vec![
            edge("c", "a", "indicates"),
            edge("b", "c", "object"),
            edge("a", "a1", "targets"),
            edge("a", "a2", "targets"),
            edge("a3", "a", "uses"),
        ],
        truncated: false,
    }
}

fn place<'a>(view: &'a GraphView, name: &str) -> &'a NodeView {
    view.nodes.iter().find(|n| n.name == name).unwrap()
}

fn radius(view: &GraphView, n: &NodeView) -> f64 {
    let (cx, cy) = (view.width.0 / 2.0, view.height.0 / 2.0);
    (n.x.0 - cx).hypot(n.y.0 - cy)
}

#[test]
fn the_centre_is_in_the_middle_and_each_distance_on_its_circle() {
    let view = layout(&sample(), "c", &links).unwrap();
    assert_eq!(view.nodes.len(), 6);
    assert_eq!(view.edges.len(), 5);
    let centre = place(&view, "name of c");
    assert!(centre.centre);
    assert!(radius(&view, centre) < 0.01);
    for id in ["a", "b"] {
        assert!((radius(&view, place(&view, &format!("name of {id}"))) - INNER).abs() < 0.01);
    }
    for id in ["a1", "a2", "a3"] {
        assert!((radius(&view, place(&view, &format!("name of {id}"))) - OUTER).abs() < 0.01);
    }
    // Every node and label inside the drawing.
    for n in &view.nodes {
        assert!(n.x.0 > 0.0 && n.x.0 < view.width.0 && n.y.0 > 0.0 && n.y.0 < view.height.0);
        assert!(n.text_y.0 > 0.0 && n.text_y.0 < view.height.0, "{n:?}");
    }
}

#[test]
fn outer_objects_sit_in_the_sector_of_the_inner_object_they_hang_from() {
    let view = layout(&sample(), "c", &links).unwrap();
    let (cx, cy) = (view.width.0 / 2.0, view.height.0 / 2.0);
    let angle = |name: &str| {
        let n = place(&view, name);
        (n.y.0 - cy).atan2(n.x.0 - cx)
    };
    // a has three of the four shares: its children spread around it, b alone opposite.
    let a = angle("name of a");
    for kid in ["name of a1", "name of a2", "name of a3"] {
        let d = (angle(kid) - a).rem_euclid(TAU);
        let d = d.min(TAU - d);
        assert!(d < TAU * 3.0 / 8.0 + 0.01, "{kid} is {d} from its parent");
    }
    let d = (angle("name of b") - a).rem_euclid(TAU);
    assert!((d.min(TAU - d) - PI_HALF_TURN).abs() < 0.8, "{d}");
}

const PI_HALF_TURN: f64 = std::f64::consts::PI;

#[test]
fn the_layout_is_the_same_whatever_the_order_of_the_graph() {
    let mut g = sample();
    let a = layout(&g, "c", &links).unwrap();
    g.nodes.reverse();
    g.edges.reverse();
    let b = layout(&g, "c", &links).unwrap();
    for n in &a.nodes {
        let m = place(&b, &n.name);
        assert_eq!((n.x, n.y), (m.x, m.y), "{}", n.name);
    }
}

#[test]
fn edges_run_from_circle_to_circle_and_say_their_relationship() {
    let view = layout(&sample(), "c", &links).unwrap();
    let e = view.edges.iter().find(|e| e.label == "indicates").unwrap();
    assert_eq!(e.source, "name of c");
    assert_eq!(e.target_link, "/console/objects/intel/a");
    let c = place(&view, "name of c");
    let start = (e.x1.0 - c.x.0).hypot(e.y1.0 - c.y.0);
    assert!((start - CENTRE_R).abs() < 0.01);
    assert!(view
        .description
        .contains("5 objects around it (2 one reference away, 3 two away)"));
    assert!(view.description.contains("joined by 5 references"));
}

#[test]
fn a_lone_object_and_long_names() {
    let mut g = Graph {
        nodes: vec![node("c", "indicator", 0)],
        edges: Vec::new(),
        truncated: false,
    };
    let view = layout(&g, "c", &links).unwrap();
    assert_eq!(view.nodes.len(), 1);
    assert!(layout(&g, "absent", &links).is_none());
    g.nodes[0].name = "x".repeat(60);
    let view = layout(&g, "c", &links).unwrap();
    assert_eq!(view.nodes[0].short.chars().count(), NAME_CHARS);
    assert!(view.nodes[0].short.ends_with('…'));
    assert_eq!(Number(12.0).to_string(), "12");
    assert_eq!(Number(-0.04).to_string(), "0");
    assert_eq!(Number(3.25).to_string(), "3.3");
}
