//! The registry page's world map, drawn on the server as SVG: the vendored Natural Earth
//! countries are decoded and projected once (Natural Earth I projection, which keeps the shapes
//! of Europe recognisable), then each request only chooses every country's class and title.

use std::f64::consts::PI;
use std::fmt::Write as _;
use std::sync::LazyLock;

use super::svg::{escape, Number};
use super::topojson::{self, Feature, Point};

/// The vendored world-atlas 2.0.2 countries at 1:110m (see `assets/VENDORED.md`).
pub const COUNTRIES_JSON: &str =
    include_str!("../../../assets/vendor/world-atlas-2.0.2/countries-110m.json");

/// Width of the whole projected world, in SVG user units.
const WIDTH: f64 = 1000.0;

/// A country's shape, projected.
pub struct Country {
    /// ISO 3166-1 numeric code, when the atlas gives one (it does not for a few disputed areas).
    pub numeric: Option<String>,
    pub name: String,
    /// SVG path data.
    path: String,
}

/// The projected world, computed once.
pub struct World {
    countries: Vec<Country>,
    /// The outline of the projected globe, drawn as the sea.
    sphere: String,
}

/// The countries, decoded and projected on first use. Antarctica is left out: no registry
/// nation is there and it would take a fifth of the height.
pub static WORLD: LazyLock<World> = LazyLock::new(|| {
    let features = match topojson::decode(COUNTRIES_JSON, "countries") {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "the vendored world map does not decode");
            Vec::new()
        }
    };
    World::project(&features)
});

/// How much of the world a map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    World,
    Europe,
}

impl View {
    pub const ALL: [View; 2] = [View::World, View::Europe];

    pub fn parse(text: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            View::World => "world",
            View::Europe => "europe",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            View::World => "World",
            View::Europe => "Europe",
        }
    }

    /// West, east, south, north, in degrees.
    fn bounds(self) -> [f64; 4] {
        match self {
            View::World => [-180.0, 180.0, -57.0, 84.0],
            View::Europe => [-25.0, 46.0, 33.0, 71.5],
        }
    }

    /// The radius of a small state's marker, so that it looks the same size in every view.
    fn marker_radius(self) -> f64 {
        match self {
            View::World => 3.0,
            View::Europe => 1.0,
        }
    }

    /// The `viewBox` that frames the view's bounds.
    fn view_box(self) -> [f64; 4] {
        let [west, east, south, north] = self.bounds();
        let steps = 36;
        let mut edge = Vec::new();
        for i in 0..=steps {
            let t = f64::from(i) / f64::from(steps);
            let lon = west + (east - west) * t;
            let lat = south + (north - south) * t;
            edge.extend([[lon, south], [lon, north], [west, lat], [east, lat]]);
        }
        let projected: Vec<[f64; 2]> = edge.into_iter().map(project).collect();
        let min = |k: usize| projected.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min);
        let max = |k: usize| {
            projected
                .iter()
                .map(|p| p[k])
                .fold(f64::NEG_INFINITY, f64::max)
        };
        [min(0), min(1), max(0) - min(0), max(1) - min(1)]
    }
}

/// The Natural Earth I projection (Šavrič, Jenny, Patterson, Petrovič, Hurni, 2011), as
/// polynomials of the latitude; `λ`, `φ` in radians, `y` up.
fn natural_earth(lambda: f64, phi: f64) -> [f64; 2] {
    let phi2 = phi * phi;
    let phi4 = phi2 * phi2;
    [
        lambda
            * (0.8707 - 0.131979 * phi2
                + phi4 * (-0.013791 + phi4 * (0.003971 * phi2 - 0.001529 * phi4))),
        phi * (1.007226
            + phi2 * (0.015085 + phi4 * (-0.044475 + 0.028874 * phi2 - 0.005916 * phi4))),
    ]
}

/// A longitude and latitude in degrees as SVG coordinates: the world spans `0..WIDTH`, north up.
fn project([lon, lat]: Point) -> [f64; 2] {
    let x_max = natural_earth(PI, 0.0)[0];
    let y_max = natural_earth(0.0, PI / 2.0)[1];
    let [x, y] = natural_earth(lon.to_radians(), lat.to_radians());
    let k = WIDTH / (2.0 * x_max);
    [(x + x_max) * k, (y_max - y) * k]
}

/// Appends a closed ring as path data, to a tenth of a unit, without repeated points.
fn ring_path(ring: impl IntoIterator<Item = [f64; 2]>, out: &mut String) {
    let mut points: Vec<(i64, i64)> = Vec::new();
    for [x, y] in ring {
        // Tenths of a unit: well within i64 for any coordinate of the world.
        #[allow(clippy::cast_possible_truncation)]
        let p = ((x * 10.0).round() as i64, (y * 10.0).round() as i64);
        if points.last() != Some(&p) {
            points.push(p);
        }
    }
    if points.len() < 4 {
        return;
    }
    for (i, (x, y)) in points.iter().enumerate() {
        let command = match i {
            0 => "M",
            1 => "L",
            _ => " ",
        };
        let _ = write!(
            out,
            "{command}{} {}",
            Number::tenths(*x),
            Number::tenths(*y)
        );
    }
    out.push('Z');
}

/// A ring that crosses the antimeridian (Russia's Chukotka, Fiji), cut into the pieces that lie
/// on either side of it, so that no edge runs across the whole map; other rings as they are.
fn split_at_antimeridian(ring: &[Point]) -> Vec<Vec<Point>> {
    let Some(&first) = ring.first() else {
        return Vec::new();
    };
    // Longitudes made continuous: a step of more than 180° is a crossing.
    let mut unwrapped: Vec<Point> = vec![first];
    for &[lon, lat] in &ring[1..] {
        let previous = unwrapped[unwrapped.len() - 1][0];
        let mut lon = lon;
        while lon - previous > 180.0 {
            lon -= 360.0;
        }
        while lon - previous < -180.0 {
            lon += 360.0;
        }
        unwrapped.push([lon, lat]);
    }
    if unwrapped
        .iter()
        .all(|[lon, _]| (-180.0..=180.0).contains(lon))
    {
        return vec![ring.to_vec()];
    }
    [-360.0, 0.0, 360.0]
        .into_iter()
        .filter_map(|shift| {
            let shifted: Vec<Point> = unwrapped
                .iter()
                .map(|[lon, lat]| [lon + shift, *lat])
                .collect();
            let piece = clip(&clip(&shifted, -180.0, false), 180.0, true);
            (piece.len() >= 3).then(|| {
                let mut closed = piece.clone();
                closed.push(piece[0]);
                closed
            })
        })
        .collect()
}

/// A ring clipped to the side of the meridian `boundary` west of it (`west`) or east of it
/// (Sutherland–Hodgman against one half-plane); the result is open (last ≠ first).
fn clip(ring: &[Point], boundary: f64, west: bool) -> Vec<Point> {
    let inside = |[lon, _]: Point| {
        if west {
            lon <= boundary
        } else {
            lon >= boundary
        }
    };
    let crossing =
        |[a, b]: Point, [c, d]: Point| [boundary, b + (d - b) * (boundary - a) / (c - a)];
    // The ring as given may repeat its first point at the end.
    let open = match ring {
        [first, .., last] if first == last => &ring[..ring.len() - 1],
        _ => ring,
    };
    let mut out = Vec::with_capacity(open.len() + 2);
    for (i, &current) in open.iter().enumerate() {
        let previous = open[(i + open.len() - 1) % open.len()];
        match (inside(previous), inside(current)) {
            (true, true) => out.push(current),
            (true, false) => out.push(crossing(previous, current)),
            (false, true) => {
                out.push(crossing(previous, current));
                out.push(current);
            }
            (false, false) => {}
        }
    }
    out
}

impl World {
    fn project(features: &[Feature]) -> World {
        let countries = features
            .iter()
            .filter(|f| f.id.as_deref() != Some("010"))
            .map(|f| {
                let mut path = String::new();
                for ring in f.polygons.iter().flatten() {
                    for piece in split_at_antimeridian(ring) {
                        ring_path(piece.into_iter().map(project), &mut path);
                    }
                }
                Country {
                    numeric: f.id.clone(),
                    name: f.name.clone(),
                    path,
                }
            })
            .collect();
        // The globe's edge: down the antimeridian's west side, up its east side.
        let mut edge: Vec<Point> = Vec::new();
        for i in 0..=90 {
            edge.push([-180.0, 90.0 - 2.0 * f64::from(i)]);
        }
        for i in 0..=90 {
            edge.push([180.0, -90.0 + 2.0 * f64::from(i)]);
        }
        edge.push([-180.0, 90.0]);
        let mut sphere = String::new();
        ring_path(edge.into_iter().map(project), &mut sphere);
        World { countries, sphere }
    }
}

/// How one country or marker is drawn: its class (which colours it) and its title (read on
/// hover).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shade {
    pub class: String,
    pub title: String,
    /// Drawn above shades of lower rank, so that its outline is not covered by neighbours'.
    pub rank: u8,
}

/// A state too small for a shape at this scale, drawn as a dot.
pub struct Marker {
    pub at: Point,
    pub shade: Shade,
}

/// The map as an inline SVG: every country with the shade `shade_of` gives it, then the
/// markers; `label` is its accessible name.
pub fn svg(
    world: &World,
    view: View,
    label: &str,
    shade_of: impl Fn(&Country) -> Shade,
    markers: &[Marker],
) -> String {
    let [x, y, w, h] = view.view_box();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map {}\" viewBox=\"{} {} {} {}\" role=\"img\" aria-label=\"{}\">",
        view.as_str(),
        Number(x),
        Number(y),
        Number(w),
        Number(h),
        escape(label)
    );
    let _ = write!(out, "<path class=\"sphere\" d=\"{}\"/>", world.sphere);
    let mut shaded: Vec<(Shade, &Country)> =
        world.countries.iter().map(|c| (shade_of(c), c)).collect();
    shaded.sort_by_key(|(s, _)| s.rank);
    out.push_str("<g class=\"countries\">");
    for (shade, country) in &shaded {
        let _ = write!(
            out,
            "<path class=\"{}\" d=\"{}\"><title>{}</title></path>",
            escape(&shade.class),
            country.path,
            escape(&shade.title)
        );
    }
    out.push_str("</g><g class=\"markers\">");
    for m in markers {
        let [cx, cy] = project(m.at);
        let _ = write!(
            out,
            "<circle class=\"{}\" cx=\"{}\" cy=\"{}\" r=\"{}\"><title>{}</title></circle>",
            escape(&m.shade.class),
            Number(cx),
            Number(cy),
            Number(view.marker_radius()),
            escape(&m.shade.title)
        );
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::codes;
    use super::*;

    #[test]
    fn the_projection_keeps_the_centre_and_orders_the_edges() {
        let [x, y] = project([0.0, 0.0]);
        assert!((x - WIDTH / 2.0).abs() < 1e-9);
        let [west, _] = project([-180.0, 0.0]);
        let [east, _] = project([180.0, 0.0]);
        assert!(west.abs() < 1e-9 && (east - WIDTH).abs() < 1e-9);
        let [_, north] = project([0.0, 60.0]);
        assert!(north < y, "north is up");
        // Paris is west of Berlin and south of Oslo.
        let paris = project([2.35, 48.86]);
        let berlin = project([13.4, 52.52]);
        let oslo = project([10.75, 59.91]);
        assert!(paris[0] < berlin[0] && paris[1] > oslo[1]);
    }

    #[test]
    fn a_ring_across_the_antimeridian_is_cut_in_two() {
        let square = [
            [170.0, 0.0],
            [-170.0, 0.0],
            [-170.0, 10.0],
            [170.0, 10.0],
            [170.0, 0.0],
        ];
        let mut pieces = split_at_antimeridian(&square);
        pieces.sort_by(|a, b| a[0][0].total_cmp(&b[0][0]));
        assert_eq!(pieces.len(), 2);
        for piece in &pieces {
            assert_eq!(piece.first(), piece.last());
            assert!(piece.iter().all(|[lon, _]| (-180.0..=180.0).contains(lon)));
        }
        let west_edge: Vec<f64> = pieces.iter().flatten().map(|p| p[0]).collect();
        assert!(west_edge.contains(&180.0) && west_edge.contains(&-180.0));
        assert!(pieces[0].iter().all(|[lon, _]| *lon <= -170.0));
        assert!(pieces[1].iter().all(|[lon, _]| *lon >= 170.0));
        // A ring that does not cross is kept whole.
        let france = [[0.0, 45.0], [5.0, 45.0], [5.0, 50.0], [0.0, 45.0]];
        assert_eq!(split_at_antimeridian(&france), vec![france.to_vec()]);
    }

    #[test]
    fn no_edge_runs_across_the_map() {
        // Uncut, Russia and Fiji would draw edges from one side of the world to the other.
        for c in &WORLD.countries {
            for ring in c.path.split('M').filter(|r| !r.is_empty()) {
                let numbers: Vec<f64> = ring
                    .trim_end_matches('Z')
                    .split(['L', ' '])
                    .map(|n| n.parse().unwrap())
                    .collect();
                let xs: Vec<f64> = numbers.chunks(2).map(|p| p[0]).collect();
                assert!(
                    xs.windows(2).all(|w| (w[0] - w[1]).abs() < WIDTH / 4.0),
                    "{} has an edge across the map",
                    c.name
                );
            }
        }
    }

    #[test]
    fn every_country_has_a_path_and_every_listed_nation_is_on_the_map() {
        let world = &*WORLD;
        assert_eq!(world.countries.len(), 176, "177 less Antarctica");
        assert!(world.countries.iter().all(|c| c.path.starts_with('M')));
        let on_map: std::collections::BTreeSet<&str> = world
            .countries
            .iter()
            .filter_map(|c| c.numeric.as_deref())
            .collect();
        // Every nation has a shape, or (too small at 1:110m) a marker.
        let mut markers = Vec::new();
        for (alpha3, numeric, marker) in codes::NATIONS {
            match marker {
                None => assert!(
                    on_map.contains(numeric),
                    "{alpha3} ({numeric}) has no shape"
                ),
                Some(_) => {
                    assert!(
                        !on_map.contains(numeric),
                        "{alpha3} has a shape and a marker"
                    );
                    markers.push(*alpha3);
                }
            }
        }
        assert_eq!(markers, ["BHR", "MLT"]);
    }

    #[test]
    fn the_svg_escapes_titles_and_classes_and_has_an_accessible_name() {
        let svg = svg(
            &WORLD,
            View::Europe,
            "Map <of> \"things\"",
            |c| Shade {
                class: if c.numeric.as_deref() == Some("250") {
                    "defended".into()
                } else {
                    "other".into()
                },
                title: format!("{} & <co>", c.name),
                rank: u8::from(c.numeric.as_deref() == Some("250")),
            },
            &[Marker {
                at: [14.51, 35.90],
                shade: Shade {
                    class: "bound-1".into(),
                    title: "Malta".into(),
                    rank: 0,
                },
            }],
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map europe\""));
        assert!(svg.contains("role=\"img\" aria-label=\"Map &lt;of&gt; &quot;things&quot;\""));
        assert!(
            svg.contains("<title>France &amp; &lt;co&gt;</title></path></g>"),
            "France is drawn last"
        );
        assert!(svg.contains("<circle class=\"bound-1\""));
        assert!(!svg.contains("style="));
        assert!(svg.ends_with("</g></svg>"));
    }
}
