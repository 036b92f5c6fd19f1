//! Building a [`Scenario`] from its raw twin: each section converted and checked, references
//! between sections resolved to indices, every problem reported rather than the first.

use std::collections::HashMap;

use entente_fusion::geodesy::Geodetic;
use entente_types::NationCode;
use toml::Spanned;

use super::raw::*;
use super::validate::{check_callsign, Ctx};
use super::*;

pub(super) fn convert(cx: &mut Ctx, raw: RawScenario) -> Scenario {
    let version = *raw.version.get_ref();
    if version != 1 {
        cx.report(
            raw.version.span().start,
            "version",
            format!("version {version} is not supported (expected 1)"),
        );
    }
    let name = raw.name.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        cx.report(
            raw.name.span().start,
            "name",
            "must be non-empty ASCII letters, digits, `-` or `_`",
        );
    }
    let seed = *raw.seed.get_ref();
    if seed < 0 {
        cx.report(raw.seed.span().start, "seed", "must not be negative");
    }
    let duration = cx.duration(&raw.duration, "duration");
    if duration <= 0.0 {
        cx.report(raw.duration.span().start, "duration", "must be positive");
    }
    let step = cx.positive(&raw.step, "step", 10.0);
    let epoch = match chrono::DateTime::parse_from_rfc3339(raw.epoch.get_ref()) {
        Ok(t) => t.timestamp() as f64,
        Err(e) => {
            cx.report(
                raw.epoch.span().start,
                "epoch",
                format!("not an RFC 3339 time: {e}"),
            );
            0.0
        }
    };

    // Sources.
    let mut seen = HashMap::new();
    let mut sources = Vec::new();
    for s in &raw.source {
        let s = s.get_ref();
        cx.unique(&mut seen, &s.id, &format!("source[{}].id", s.id.get_ref()));
        sources.push(Source {
            id: s.id.get_ref().clone(),
            title: s.title.clone(),
            reference: s.reference.clone(),
        });
    }
    let source_ids: Vec<String> = sources.iter().map(|s| s.id.clone()).collect();
    let source_refs: Vec<&str> = source_ids.iter().map(String::as_str).collect();
    let cite = |cx: &mut Ctx, v: &Spanned<String>, field: String| {
        cx.lookup(v, &field, "source", &source_refs);
    };

    // Area.
    let a = raw.area.get_ref();
    let area = Area {
        name: a.name.clone(),
        origin: cx.point(&a.origin, "area.origin"),
        south: cx.range(&a.south, "area.south", -MAX_LAT, MAX_LAT),
        north: cx.range(&a.north, "area.north", -MAX_LAT, MAX_LAT),
        west: cx.range(&a.west, "area.west", -180.0, 180.0),
        east: cx.range(&a.east, "area.east", -180.0, 180.0),
    };
    if area.south >= area.north || area.west >= area.east {
        cx.report(
            raw.area.span().start,
            "area",
            "south must be below north and west below east",
        );
    }

    // Nations.
    let mut nations = Vec::new();
    let mut nation_seen = HashMap::new();
    for n in &raw.nation {
        let table = n.span().start;
        let n = n.get_ref();
        let field = format!("nation[{}]", n.code.get_ref());
        cx.unique(&mut nation_seen, &n.code, &format!("{field}.code"));
        if let Some(old) = &n.shares_with {
            cx.report(
                old.span().start,
                format!("{field}.shares_with"),
                "`shares_with` is replaced by labels: give the nation `label = \"MARKING\"` \
                 (e.g. \"NATO SECRET//REL TO NATO\", or \"NATO SECRET//REL TO EST, LTU, LVA\" for \
                 the nations it listed) and the release policy decides who receives its tracks",
            );
        }
        let label = match &n.label {
            Some(l) => cx.label(l, &format!("{field}.label")),
            None => {
                cx.report(
                    table,
                    format!("{field}.label"),
                    "missing: the label of the nation's national tracks, e.g. \
                     label = \"NATO SECRET//REL TO NATO\"",
                );
                LabelText {
                    text: String::new(),
                    line: 0,
                }
            }
        };
        let Some(code) = cx.nation(&n.code, &format!("{field}.code")) else {
            continue;
        };
        nations.push(Nation { code, label });
    }
    let codes: Vec<NationCode> = nations.iter().map(|n| n.code).collect();
    let code_names: Vec<String> = codes.iter().map(ToString::to_string).collect();
    let code_refs: Vec<&str> = code_names.iter().map(String::as_str).collect();
    let participant = |cx: &mut Ctx, v: &Spanned<String>, field: &str| -> Option<NationCode> {
        let code = cx.nation(v, field)?;
        if codes.contains(&code) {
            Some(code)
        } else {
            cx.lookup(v, field, "participating nation", &code_refs);
            None
        }
    };

    // Bases.
    let mut seen = HashMap::new();
    let mut bases = Vec::new();
    for b in &raw.base {
        let b = b.get_ref();
        let f = format!("base[{}]", b.id.get_ref());
        cx.unique(&mut seen, &b.id, &format!("{f}.id"));
        let nation = cx.nation(&b.nation, &format!("{f}.nation"));
        cite(cx, &b.source, format!("{f}.source"));
        bases.push(Base {
            id: b.id.get_ref().clone(),
            name: b.name.clone(),
            nation: nation.unwrap_or(REPORTED_INVALID),
            position: Geodetic {
                lat: cx.range(&b.lat, &format!("{f}.lat"), -MAX_LAT, MAX_LAT),
                lon: cx.range(&b.lon, &format!("{f}.lon"), -180.0, 180.0),
                h: cx.range(&b.elevation_m, &format!("{f}.elevation_m"), -500.0, 5000.0),
            },
        });
    }
    let base_names: Vec<String> = bases.iter().map(|b| b.id.clone()).collect();
    let base_refs: Vec<&str> = base_names.iter().map(String::as_str).collect();

    // Aircraft types.
    let mut seen = HashMap::new();
    let mut types = Vec::new();
    for t in &raw.aircraft_type {
        let t = t.get_ref();
        let f = format!("aircraft_type[{}]", t.id.get_ref());
        cx.unique(&mut seen, &t.id, &format!("{f}.id"));
        cite(cx, &t.source, format!("{f}.source"));
        let ty = AircraftType {
            id: t.id.get_ref().clone(),
            name: t.name.clone(),
            cruise_speed: cx.positive(
                &t.cruise_speed_mps,
                &format!("{f}.cruise_speed_mps"),
                1000.0,
            ),
            max_speed: cx.positive(&t.max_speed_mps, &format!("{f}.max_speed_mps"), 1000.0),
            min_speed: cx.positive(&t.min_speed_mps, &format!("{f}.min_speed_mps"), 1000.0),
            climb_rate: cx.positive(&t.climb_rate_mps, &format!("{f}.climb_rate_mps"), 400.0),
            descent_rate: cx.positive(&t.descent_rate_mps, &format!("{f}.descent_rate_mps"), 400.0),
            acceleration: cx.positive(
                &t.acceleration_mps2,
                &format!("{f}.acceleration_mps2"),
                100.0,
            ),
            max_bank: cx.range(&t.max_bank_deg, &format!("{f}.max_bank_deg"), 5.0, 85.0),
            max_turn_rate: cx.positive(
                &t.max_turn_rate_dps,
                &format!("{f}.max_turn_rate_dps"),
                60.0,
            ),
            ceiling: cx.positive(&t.ceiling_m, &format!("{f}.ceiling_m"), 30_000.0),
            dis: DisType {
                category: cx.int(&t.dis_category, &format!("{f}.dis_category"), 0, 255) as u8,
                subcategory: t
                    .dis_subcategory
                    .as_ref()
                    .map(|v| cx.int(v, &format!("{f}.dis_subcategory"), 0, 255) as u8)
                    .unwrap_or(0),
                specific: t
                    .dis_specific
                    .as_ref()
                    .map(|v| cx.int(v, &format!("{f}.dis_specific"), 0, 255) as u8)
                    .unwrap_or(0),
            },
        };
        if !(ty.min_speed < ty.cruise_speed && ty.cruise_speed <= ty.max_speed) {
            cx.report(
                t.cruise_speed_mps.span().start,
                format!("{f}.cruise_speed_mps"),
                "speeds must satisfy min_speed_mps < cruise_speed_mps <= max_speed_mps",
            );
        }
        types.push(ty);
    }
    let type_names: Vec<String> = types.iter().map(|t| t.id.clone()).collect();
    let type_refs: Vec<&str> = type_names.iter().map(String::as_str).collect();

    // Radars.
    let mut seen = HashMap::new();
    let mut radars = Vec::new();
    for r in &raw.radar {
        let r = r.get_ref();
        let f = format!("radar[{}]", r.id.get_ref());
        cx.unique(&mut seen, &r.id, &format!("{f}.id"));
        let nation = participant(cx, &r.nation, &format!("{f}.nation"));
        cite(cx, &r.source, format!("{f}.source"));
        radars.push(Radar {
            id: r.id.get_ref().clone(),
            nation: nation.unwrap_or(REPORTED_INVALID),
            position: Geodetic {
                lat: cx.range(&r.lat, &format!("{f}.lat"), -MAX_LAT, MAX_LAT),
                lon: cx.range(&r.lon, &format!("{f}.lon"), -180.0, 180.0),
                h: cx.range(&r.antenna_m, &format!("{f}.antenna_m"), 0.0, 5000.0),
            },
            range: cx.positive(&r.range_km, &format!("{f}.range_km"), 1000.0) * 1000.0,
            sigma: cx.positive(&r.sigma_m, &format!("{f}.sigma_m"), 10_000.0),
            period: cx.positive(&r.period_s, &format!("{f}.period_s"), 600.0),
            pd: cx.range(&r.pd, &format!("{f}.pd"), 0.0, 1.0),
            label: r.label.as_ref().map(|l| cx.label(l, &format!("{f}.label"))),
        });
    }

    // Flights.
    let mut seen = HashMap::new();
    let mut flights = Vec::new();
    for fl in &raw.flight {
        let r = fl.get_ref();
        let f = format!("flight[{}]", r.id.get_ref());
        cx.unique(&mut seen, &r.id, &format!("{f}.id"));
        let nation = participant(cx, &r.nation, &format!("{f}.nation"));
        cite(cx, &r.source, format!("{f}.source"));
        check_callsign(cx, &r.callsign, &format!("{f}.callsign"), 10);
        let flight = Flight {
            id: r.id.get_ref().clone(),
            callsign: r.callsign.get_ref().clone(),
            nation: nation.unwrap_or(REPORTED_INVALID),
            base: cx.lookup(&r.base, &format!("{f}.base"), "base", &base_refs),
            kind: cx.lookup(
                &r.aircraft,
                &format!("{f}.aircraft"),
                "aircraft type",
                &type_refs,
            ),
            count: cx.int(&r.count, &format!("{f}.count"), 1, 2) as u8,
            readiness: cx.duration(&r.readiness, &format!("{f}.readiness")),
            dash_speed: cx.positive(&r.dash_speed_mps, &format!("{f}.dash_speed_mps"), 1000.0),
        };
        if let Some(ty) = types.get(flight.kind) {
            if flight.dash_speed > ty.max_speed || flight.dash_speed < ty.min_speed {
                cx.report(
                    r.dash_speed_mps.span().start,
                    format!("{f}.dash_speed_mps"),
                    format!(
                        "{} is outside the speeds of {} ({} ..= {} m/s)",
                        flight.dash_speed, ty.id, ty.min_speed, ty.max_speed
                    ),
                );
            }
        }
        flights.push(flight);
    }
    let flight_names: Vec<String> = flights.iter().map(|f| f.id.clone()).collect();
    let flight_refs: Vec<&str> = flight_names.iter().map(String::as_str).collect();

    // Traffic.
    let mut traffic = Vec::new();
    for tr in &raw.traffic {
        let r = tr.get_ref();
        let f = format!("traffic[{}]", r.id.get_ref());
        cx.unique(&mut seen, &r.id, &format!("{f}.id"));
        check_callsign(cx, &r.callsign, &format!("{f}.callsign"), 11);
        let nation = r
            .nation
            .as_ref()
            .and_then(|n| cx.nation(n, &format!("{f}.nation")));
        let route: Vec<Waypoint> = r
            .route
            .get_ref()
            .iter()
            .enumerate()
            .map(|(i, p)| Waypoint {
                position: cx.point(p, &format!("{f}.route[{i}]")),
            })
            .collect();
        if route.len() < 2 {
            cx.report(
                r.route.span().start,
                format!("{f}.route"),
                "a route needs at least two waypoints",
            );
        }
        let force = Force::parse(r.force.get_ref()).unwrap_or_else(|| {
            cx.report(
                r.force.span().start,
                format!("{f}.force"),
                format!(
                    "unknown force `{}` (friendly, opposing, neutral or other)",
                    r.force.get_ref()
                ),
            );
            Force::Other
        });
        let t = Traffic {
            id: r.id.get_ref().clone(),
            callsign: r.callsign.get_ref().clone(),
            nation,
            kind: cx.lookup(
                &r.aircraft,
                &format!("{f}.aircraft"),
                "aircraft type",
                &type_refs,
            ),
            start: cx.duration(&r.start, &format!("{f}.start")),
            route,
            speed: cx.positive(&r.speed_mps, &format!("{f}.speed_mps"), 1000.0),
            force,
        };
        if let Some(ty) = types.get(t.kind) {
            if t.speed > ty.max_speed || t.speed < ty.min_speed {
                cx.report(
                    r.speed_mps.span().start,
                    format!("{f}.speed_mps"),
                    format!(
                        "{} is outside the speeds of {} ({} ..= {} m/s)",
                        t.speed, ty.id, ty.min_speed, ty.max_speed
                    ),
                );
            }
            for (i, w) in t.route.iter().enumerate() {
                if w.position.h > ty.ceiling {
                    cx.report(
                        r.route.span().start,
                        format!("{f}.route[{i}].alt_m"),
                        format!("{} m is above the ceiling of {}", w.position.h, ty.id),
                    );
                }
            }
        }
        traffic.push(t);
    }
    let traffic_names: Vec<String> = traffic.iter().map(|t| t.id.clone()).collect();
    let traffic_refs: Vec<&str> = traffic_names.iter().map(String::as_str).collect();

    // Events.
    let mut events = Vec::new();
    for (i, e) in raw.event.iter().enumerate() {
        let r = e.get_ref();
        let f = format!("event[{i}]");
        let t = cx.duration(&r.at, &format!("{f}.at"));
        if t > duration {
            cx.report(
                r.at.span().start,
                format!("{f}.at"),
                "the event is after the end of the exercise",
            );
        }
        let need =
            |cx: &mut Ctx, v: &Option<Spanned<String>>, name: &str| -> Option<Spanned<String>> {
                if v.is_none() {
                    cx.report(
                        e.span().start,
                        format!("{f}.{name}"),
                        format!("a `{}` event needs `{name}`", r.kind.get_ref()),
                    );
                }
                v.clone()
            };
        let kind = match r.kind.get_ref().as_str() {
            "non-responsive" => need(cx, &r.traffic, "traffic").map(|v| EventKind::NonResponsive {
                traffic: cx.lookup(&v, &format!("{f}.traffic"), "traffic", &traffic_refs),
            }),
            "scramble" => {
                let flight = need(cx, &r.flight, "flight");
                let target = need(cx, &r.target, "target");
                flight.zip(target).map(|(fl, tg)| EventKind::Scramble {
                    flight: cx.lookup(&fl, &format!("{f}.flight"), "flight", &flight_refs),
                    target: cx.lookup(&tg, &format!("{f}.target"), "traffic", &traffic_refs),
                })
            }
            "handover" => {
                let from = need(cx, &r.from, "from");
                let to = need(cx, &r.to, "to");
                from.zip(to).map(|(a, b)| EventKind::Handover {
                    from: cx.lookup(&a, &format!("{f}.from"), "flight", &flight_refs),
                    to: cx.lookup(&b, &format!("{f}.to"), "flight", &flight_refs),
                })
            }
            other => {
                cx.report(
                    r.kind.span().start,
                    format!("{f}.kind"),
                    format!("unknown event kind `{other}` (non-responsive, scramble or handover)"),
                );
                None
            }
        };
        if let Some(kind) = kind {
            events.push(Event { t, kind });
        }
    }
    events.sort_by(|a, b| a.t.total_cmp(&b.t));

    // Standards.
    let mut standards = Vec::new();
    for s in &raw.standard {
        let r = s.get_ref();
        let f = format!("standard[{}]", r.name.get_ref());
        cite(cx, &r.source, format!("{f}.source"));
        let milestone = |cx: &mut Ctx, v: &Spanned<String>, name: &str| {
            Milestone::parse(v.get_ref()).unwrap_or_else(|| {
                let names: Vec<&str> = Milestone::ALL.iter().map(|m| m.as_str()).collect();
                cx.lookup(v, &format!("{f}.{name}"), "milestone", &names);
                Milestone::Landed
            })
        };
        standards.push(Standard {
            name: r.name.get_ref().clone(),
            from: milestone(cx, &r.from, "from"),
            to: milestone(cx, &r.to, "to"),
            within: cx.duration(&r.within, &format!("{f}.within")),
            source: r.source.get_ref().clone(),
        });
    }

    let c = raw.controller.get_ref();
    let controller = ControllerParams {
        intercept_range: cx.positive(
            &c.intercept_range_m,
            "controller.intercept_range_m",
            50_000.0,
        ),
        vid_range: cx.positive(&c.vid_range_m, "controller.vid_range_m", 10_000.0),
        vid_time: cx.positive(&c.vid_time_s, "controller.vid_time_s", 3600.0),
        escort_offset: cx.positive(&c.escort_offset_m, "controller.escort_offset_m", 10_000.0),
        own_sensor_range: cx.positive(
            &c.own_sensor_range_km,
            "controller.own_sensor_range_km",
            500.0,
        ) * 1000.0,
    };
    if controller.vid_range > controller.intercept_range {
        cx.report(
            c.vid_range_m.span().start,
            "controller.vid_range_m",
            "must not exceed controller.intercept_range_m",
        );
    }
    let p = raw.picture.get_ref();
    let picture = PictureParams {
        period: cx.positive(&p.period_s, "picture.period_s", 600.0),
        q: cx.positive(&p.process_noise, "picture.process_noise", 1.0e6),
        gospa_c: cx.positive(&p.gospa_c_m, "picture.gospa_c_m", 1.0e6),
        gospa_p: cx.range(&p.gospa_p, "picture.gospa_p", 1.0, 10.0),
    };
    let d = raw.dis.get_ref();
    let dis = DisParams {
        exercise: cx.int(&d.exercise, "dis.exercise", 1, 255) as u8,
        site: cx.int(&d.site, "dis.site", 1, 65_534) as u16,
        application: cx.int(&d.application, "dis.application", 1, 65_534) as u16,
        heartbeat: cx.positive(&d.heartbeat_s, "dis.heartbeat_s", 60.0),
        threshold: cx.range(&d.threshold_m, "dis.threshold_m", 0.0, 10_000.0),
    };
    if flights.len() * 2 + traffic.len() > 65_534 {
        cx.report(
            0,
            "traffic",
            "more entities than DIS entity numbers (65534)",
        );
    }

    Scenario {
        file: cx.file.clone(),
        name,
        title: raw.title,
        seed: seed.max(0) as u64,
        duration,
        step,
        epoch,
        sources,
        area,
        nations,
        bases,
        types,
        radars,
        flights,
        traffic,
        events,
        standards,
        controller,
        picture,
        dis,
    }
}
