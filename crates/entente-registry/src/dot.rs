//! The registry graph in Graphviz's DOT language: nations as ellipses, organisations as boxes,
//! agreements as notes, each edge labelled with its kind.

use crate::{Graph, GraphNodeKind};

impl GraphNodeKind {
    /// `nation`, `organization` or `agreement`.
    pub fn as_str(self) -> &'static str {
        match self {
            GraphNodeKind::Nation => "nation",
            GraphNodeKind::Organization => "organization",
            GraphNodeKind::Agreement => "agreement",
        }
    }

    fn shape(self) -> &'static str {
        match self {
            GraphNodeKind::Nation => "ellipse",
            GraphNodeKind::Organization => "box",
            GraphNodeKind::Agreement => "note",
        }
    }
}

/// A DOT string literal.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Graph {
    /// The graph as an undirected DOT graph named `entente`, labelled with its day.
    pub fn to_dot(&self) -> String {
        let mut out = format!(
            "graph entente {{\n  label={};\n",
            quote(&format!("Entente registry on {}", self.day))
        );
        for n in &self.nodes {
            out.push_str(&format!(
                "  {} [label={}, shape={}];\n",
                quote(&n.id),
                quote(&n.label),
                n.kind.shape()
            ));
        }
        for e in &self.edges {
            out.push_str(&format!(
                "  {} -- {} [label={}];\n",
                quote(&e.from),
                quote(&e.to),
                quote(e.kind.as_str())
            ));
        }
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use entente_types::parse_date;

    use crate::{Graph, GraphEdge, GraphEdgeKind, GraphNode, GraphNodeKind};

    #[test]
    fn nodes_edges_and_quotes() {
        let graph = Graph {
            day: parse_date("2024-06-01").unwrap(),
            nodes: vec![
                GraphNode {
                    id: "FRA".into(),
                    label: "France".into(),
                    kind: GraphNodeKind::Nation,
                },
                GraphNode {
                    id: "NATO".into(),
                    label: "North \"Atlantic\"".into(),
                    kind: GraphNodeKind::Organization,
                },
            ],
            edges: vec![GraphEdge {
                from: "FRA".into(),
                to: "NATO".into(),
                kind: GraphEdgeKind::MemberOf,
            }],
        };
        let dot = graph.to_dot();
        assert!(dot.starts_with("graph entente {\n  label=\"Entente registry on 2024-06-01\";\n"));
        assert!(
            dot.contains("  \"FRA\" [label=\"France\", shape=ellipse];\n"),
            "{dot}"
        );
        assert!(
            dot.contains("[label=\"North \\\"Atlantic\\\"\", shape=box]"),
            "{dot}"
        );
        assert!(dot.contains("  \"FRA\" -- \"NATO\" [label="), "{dot}");
        assert!(dot.ends_with('}'));
    }
}
