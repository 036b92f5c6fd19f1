//! A TopoJSON decoder for polygon layers: enough to draw the vendored Natural Earth countries
//! without a map library. Arcs are delta-encoded and quantized when the topology has a
//! `transform`; a negative arc index `~i` means arc `i` reversed.

use std::collections::HashMap;

use serde::Deserialize;

/// A longitude and latitude, in degrees.
pub type Point = [f64; 2];

/// Why a topology cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("not a TopoJSON topology: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the topology has no object {0:?}")]
    NoObject(String),
    #[error("arc {arc} has a position with fewer than two coordinates")]
    ShortPosition { arc: usize },
    #[error("{feature} refers to arc {index}, and the topology has {arcs} arcs")]
    NoArc {
        feature: String,
        index: i64,
        arcs: usize,
    },
}

/// One polygon or multipolygon of a layer, in degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// The geometry's `id` (for world-atlas, the ISO 3166-1 numeric code), if any.
    pub id: Option<String>,
    /// `properties.name`, or empty.
    pub name: String,
    /// Polygons, each an outer ring followed by its holes; rings are closed (last = first).
    pub polygons: Vec<Vec<Vec<Point>>>,
}

#[derive(Deserialize)]
struct Topology {
    #[serde(default)]
    transform: Option<Transform>,
    objects: HashMap<String, Object>,
    arcs: Vec<Vec<Vec<f64>>>,
}

#[derive(Deserialize)]
struct Transform {
    scale: [f64; 2],
    translate: [f64; 2],
}

#[derive(Deserialize)]
struct Object {
    #[serde(default)]
    geometries: Vec<Geometry>,
}

#[derive(Deserialize)]
struct Geometry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    properties: Option<Properties>,
    /// Rings of arc indices (Polygon) or polygons of them (MultiPolygon); other types are
    /// skipped.
    #[serde(default)]
    arcs: serde_json::Value,
}

#[derive(Deserialize)]
struct Properties {
    #[serde(default)]
    name: Option<String>,
}

/// The polygons of the geometry collection `object` of a TopoJSON topology; geometries of
/// other types (points, lines) are skipped.
pub fn decode(json: &str, object: &str) -> Result<Vec<Feature>, TopologyError> {
    let topology: Topology = serde_json::from_str(json)?;
    let arcs = absolute_arcs(&topology)?;
    let layer = topology
        .objects
        .get(object)
        .ok_or_else(|| TopologyError::NoObject(object.to_owned()))?;
    let mut features = Vec::with_capacity(layer.geometries.len());
    for g in &layer.geometries {
        let id = match &g.id {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let name = g
            .properties
            .as_ref()
            .and_then(|p| p.name.clone())
            .unwrap_or_default();
        let label = id.clone().unwrap_or_else(|| name.clone());
        let Some(polygons) = g.polygons()? else {
            continue;
        };
        let polygons = polygons
            .iter()
            .map(|rings| {
                rings
                    .iter()
                    .map(|ring| stitch(&arcs, ring, &label))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        features.push(Feature { id, name, polygons });
    }
    Ok(features)
}

/// The lines of a polygon layer, each drawn once: coastlines (arcs one polygon uses) and
/// borders (arcs two polygons share).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lines {
    pub coast: Vec<Vec<Point>>,
    pub borders: Vec<Vec<Point>>,
}

/// The arcs of the geometry collection `object`, split by how many of its polygons use them
/// (a map of outlines needs no polygon stitching, and shared borders are not drawn twice). Arcs
/// no geometry of `object` uses are left out.
pub fn lines(json: &str, object: &str) -> Result<Lines, TopologyError> {
    let topology: Topology = serde_json::from_str(json)?;
    let arcs = absolute_arcs(&topology)?;
    let layer = topology
        .objects
        .get(object)
        .ok_or_else(|| TopologyError::NoObject(object.to_owned()))?;
    let mut uses = vec![0u32; arcs.len()];
    for g in &layer.geometries {
        let Some(polygons) = g.polygons()? else {
            continue;
        };
        for index in polygons.into_iter().flatten().flatten() {
            let used = arc_number(index)
                .0
                .and_then(|k| uses.get_mut(k))
                .ok_or_else(|| TopologyError::NoArc {
                    feature: g.label(),
                    index,
                    arcs: arcs.len(),
                })?;
            *used += 1;
        }
    }
    let mut out = Lines::default();
    for (arc, used) in arcs.into_iter().zip(uses) {
        match used {
            0 => {}
            1 => out.coast.push(arc),
            _ => out.borders.push(arc),
        }
    }
    Ok(out)
}

/// The arc an index names, and whether it is followed backwards (a negative index is the
/// ones' complement of the arc's number).
fn arc_number(index: i64) -> (Option<usize>, bool) {
    let (k, reversed) = if index < 0 {
        (!index, true)
    } else {
        (index, false)
    };
    (usize::try_from(k).ok(), reversed)
}

impl Geometry {
    /// The arc indices of a polygon geometry, polygon by polygon and ring by ring; `None` for a
    /// geometry of another kind.
    fn polygons(&self) -> Result<Option<Vec<Vec<Vec<i64>>>>, TopologyError> {
        Ok(match self.kind.as_str() {
            "Polygon" => Some(vec![serde_json::from_value(self.arcs.clone())?]),
            "MultiPolygon" => Some(serde_json::from_value(self.arcs.clone())?),
            _ => None,
        })
    }

    /// How errors name the geometry: its id, else its name.
    fn label(&self) -> String {
        match &self.id {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => self
                .properties
                .as_ref()
                .and_then(|p| p.name.clone())
                .unwrap_or_default(),
        }
    }
}

/// Every arc as absolute positions in degrees: undoes the delta encoding and the quantization
/// when the topology is quantized.
fn absolute_arcs(topology: &Topology) -> Result<Vec<Vec<Point>>, TopologyError> {
    topology
        .arcs
        .iter()
        .enumerate()
        .map(|(i, arc)| {
            let (mut x, mut y) = (0.0, 0.0);
            arc.iter()
                .map(|position| {
                    let (&a, &b) = match position.as_slice() {
                        [a, b, ..] => (a, b),
                        _ => return Err(TopologyError::ShortPosition { arc: i }),
                    };
                    Ok(match &topology.transform {
                        Some(t) => {
                            x += a;
                            y += b;
                            [
                                x * t.scale[0] + t.translate[0],
                                y * t.scale[1] + t.translate[1],
                            ]
                        }
                        None => [a, b],
                    })
                })
                .collect()
        })
        .collect()
}

/// A ring from its arcs: each arc after the first starts where the previous ended, so its first
/// position is dropped.
fn stitch(
    arcs: &[Vec<Point>],
    indices: &[i64],
    feature: &str,
) -> Result<Vec<Point>, TopologyError> {
    let mut ring: Vec<Point> = Vec::new();
    for &index in indices {
        let (k, reversed) = arc_number(index);
        let arc = k
            .and_then(|k| arcs.get(k))
            .ok_or_else(|| TopologyError::NoArc {
                feature: feature.to_owned(),
                index,
                arcs: arcs.len(),
            })?;
        let skip = usize::from(!ring.is_empty());
        if reversed {
            ring.extend(arc.iter().rev().skip(skip));
        } else {
            ring.extend(arc.iter().skip(skip));
        }
    }
    Ok(ring)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Two unit squares side by side sharing the arc x = 1 (arc 0, drawn upward); quantized with
    /// a scale of 0.5 and a translate of (10, 20), so positions are deltas in half-degrees.
    const TWO_SQUARES: &str = r#"{
      "type": "Topology",
      "transform": {"scale": [0.5, 0.5], "translate": [10, 20]},
      "objects": {"land": {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "id": "001", "properties": {"name": "West"}, "arcs": [[0, 1]]},
        {"type": "MultiPolygon", "id": 2, "properties": {"name": "East"}, "arcs": [[[2, -1]]]},
        {"type": "Point", "coordinates": [0, 0]},
        {"type": "Polygon", "arcs": [[3]]}
      ]}},
      "arcs": [
        [[2, 0], [0, 2]],
        [[2, 2], [-2, 0], [0, -2], [2, 0]],
        [[2, 0], [2, 0], [0, 2], [-2, 0]],
        [[8, 8], [1, 0], [0, 1], [-1, -1]]
      ]
    }"#;

    #[test]
    fn decodes_deltas_scale_translate_and_reversed_arcs() {
        let features = decode(TWO_SQUARES, "land").unwrap();
        assert_eq!(features.len(), 3, "the point is skipped");
        let west = &features[0];
        assert_eq!(west.id.as_deref(), Some("001"));
        assert_eq!(west.name, "West");
        assert_eq!(
            west.polygons,
            vec![vec![vec![
                [11.0, 20.0],
                [11.0, 21.0],
                [10.0, 21.0],
                [10.0, 20.0],
                [11.0, 20.0]
            ]]]
        );
        let east = &features[1];
        assert_eq!(
            east.id.as_deref(),
            Some("2"),
            "a numeric id is kept as text"
        );
        // Arc 2 then arc 0 reversed: (11,20) → (12,20) → (12,21) → (11,21) → (11,20).
        assert_eq!(
            east.polygons,
            vec![vec![vec![
                [11.0, 20.0],
                [12.0, 20.0],
                [12.0, 21.0],
                [11.0, 21.0],
                [11.0, 20.0]
            ]]]
        );
        assert_eq!(features[2].id, None);
        assert_eq!(features[2].name, "");
        assert_eq!(features[2].polygons[0][0][0], [14.0, 24.0]);
    }

    #[test]
    fn bad_topologies_are_errors() {
        assert!(matches!(
            decode(TWO_SQUARES, "sea"),
            Err(TopologyError::NoObject(_))
        ));
        let dangling = TWO_SQUARES.replace("[[0, 1]]", "[[0, 9]]");
        let e = decode(&dangling, "land").unwrap_err();
        assert_eq!(
            e.to_string(),
            "001 refers to arc 9, and the topology has 4 arcs"
        );
        assert!(matches!(
            decode("{\"type\": \"Topology\"}", "land"),
            Err(TopologyError::Json(_))
        ));
    }

    #[test]
    fn lines_split_coasts_from_shared_borders() {
        let lines = lines(TWO_SQUARES, "land").unwrap();
        // Arc 0 is the shared side; arcs 1, 2 and 3 are used once.
        assert_eq!(lines.borders, vec![vec![[11.0, 20.0], [11.0, 21.0]]]);
        assert_eq!(lines.coast.len(), 3);
        assert_eq!(lines.coast[2][0], [14.0, 24.0]);
        let dangling = TWO_SQUARES.replace("[[[2, -1]]]", "[[[2, -10]]]");
        assert_eq!(
            super::lines(&dangling, "land").unwrap_err().to_string(),
            "2 refers to arc -10, and the topology has 4 arcs"
        );
    }

    #[test]
    fn the_vendored_countries_decode() {
        let features = decode(super::super::map::COUNTRIES_JSON, "countries").unwrap();
        assert_eq!(features.len(), 177);
        let france = features
            .iter()
            .find(|f| f.id.as_deref() == Some("250"))
            .unwrap();
        assert_eq!(france.name, "France");
        // Metropolitan France lies within 5°W–10°E, 41°N–52°N; French Guiana is its other part.
        assert!(france.polygons.iter().any(|p| p[0]
            .iter()
            .all(|[lon, lat]| (-5.5..10.0).contains(lon) && (41.0..51.5).contains(lat))));
        for f in &features {
            for ring in f.polygons.iter().flatten() {
                assert!(
                    ring.len() >= 4,
                    "{}: a ring of {} points",
                    f.name,
                    ring.len()
                );
                assert_eq!(ring.first(), ring.last(), "{}: an open ring", f.name);
            }
        }
    }
}
