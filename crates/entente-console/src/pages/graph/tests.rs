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

/// Where a node is on the rings: 0 at the centre, 1 on the ring of `ring`'s size.
fn on_ring(n: &NodeView, (rx, ry): (f64, f64)) -> f64 {
    (n.x.0 / rx).hypot(n.y.0 / ry)
}

/// A node's angle on the rings.
fn angle(n: &NodeView, (rx, ry): (f64, f64)) -> f64 {
    (n.y.0 / ry).atan2(n.x.0 / rx)
}

fn inside(view: &GraphView, x: f64, y: f64) -> bool {
    x > view.left.0
        && x < view.left.0 + view.width.0
        && y > view.top.0
        && y < view.top.0 + view.height.0
}

#[test]
fn the_centre_is_in_the_middle_and_each_distance_on_its_ring() {
    let view = layout(&sample(), "c", &links).unwrap();
    assert_eq!(view.nodes.len(), 6);
    assert_eq!(view.edges.len(), 5);
    let centre = place(&view, "name of c");
    assert!(centre.centre);
    assert_eq!((centre.x.0, centre.y.0), (0.0, 0.0));
    for id in ["a", "b"] {
        let n = place(&view, &format!("name of {id}"));
        assert!((on_ring(n, INNER) - 1.0).abs() < 0.01, "{n:?}");
    }
    for id in ["a1", "a2", "a3"] {
        let n = place(&view, &format!("name of {id}"));
        assert!((on_ring(n, OUTER) - 1.0).abs() < 0.01, "{n:?}");
    }
    // Every node, name and type inside the drawing, as cropped.
    for n in &view.nodes {
        assert!(inside(&view, n.x.0, n.y.0), "{n:?}");
        assert!(inside(&view, n.text_x.0, n.text_y.0), "{n:?}");
        assert!(inside(&view, n.text_x.0, n.kind_y().0), "{n:?}");
    }
    // The first inner object is on the right, level with the centre.
    let a = place(&view, "name of a");
    assert!(a.x.0 > 0.0 && a.y.0.abs() < 0.01, "{a:?}");
}

#[test]
fn outer_objects_sit_in_the_sector_of_the_inner_object_they_hang_from() {
    let view = layout(&sample(), "c", &links).unwrap();
    // a has three of the four shares: its children spread around it, b alone opposite.
    let a = angle(place(&view, "name of a"), INNER);
    for kid in ["name of a1", "name of a2", "name of a3"] {
        let d = (angle(place(&view, kid), OUTER) - a).rem_euclid(TAU);
        let d = d.min(TAU - d);
        assert!(d < TAU * 3.0 / 8.0 + 0.01, "{kid} is {d} from its parent");
    }
    let d = (angle(place(&view, "name of b"), INNER) - a).rem_euclid(TAU);
    assert!((d.min(TAU - d) - TAU / 2.0).abs() < 0.01, "{d}");
}

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
    let start = e.x1.0.hypot(e.y1.0);
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
    assert_eq!(view.nodes[0].short.chars().count(), CENTRE_NAME_CHARS);
    assert!(view.nodes[0].short.ends_with('…'));
    assert_eq!(cut(&"y".repeat(60), NAME_CHARS).chars().count(), NAME_CHARS);
    assert_eq!(Number(12.0).to_string(), "12");
    assert_eq!(Number(-0.04).to_string(), "0");
    assert_eq!(Number(3.25).to_string(), "3.3");
}

#[test]
fn a_crowded_graph_spreads_its_rings_and_stays_in_its_box() {
    let mut g = Graph {
        nodes: vec![node("c", "report", 0)],
        edges: Vec::new(),
        truncated: true,
    };
    for i in 0..16 {
        let id = format!("n{i:02}");
        g.nodes.push(node(&id, "indicator", 1));
        g.edges.push(edge("c", &id, "object"));
    }
    for i in 0..8 {
        let id = format!("m{i:02}");
        g.nodes.push(node(&id, "malware", 2));
        g.edges
            .push(edge(&format!("n{:02}", i % 3), &id, "indicates"));
    }
    let view = layout(&g, "c", &links).unwrap();
    assert_eq!(view.nodes.len(), 25);
    // Twice the inner ring's room: twice its size.
    let n = place(&view, "name of n00");
    assert!((on_ring(n, INNER) - 2.0).abs() < 0.01, "{n:?}");
    for n in &view.nodes {
        assert!(inside(&view, n.x.0, n.y.0), "{n:?}");
        assert!(inside(&view, n.text_x.0, n.kind_y().0), "{n:?}");
    }
    // No two objects in one place.
    for (i, a) in view.nodes.iter().enumerate() {
        for b in &view.nodes[i + 1..] {
            assert!((a.x.0 - b.x.0).hypot(a.y.0 - b.y.0) > 20.0, "{a:?} {b:?}");
        }
    }
    assert!(view
        .description
        .contains("more objects are in reach than are drawn"));
}
