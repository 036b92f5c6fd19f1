//! National and system tracks as STIX 2.1 objects, so that they travel through TAXII and
//! federation like any other shared object.
//!
//! All three are new STIX Domain Objects defined by one extension-definition
//! ([`extension_definition`]): `x-entente-plot`, `x-entente-national-track` and
//! `x-entente-system-track`. Their
//! confidentiality labels are `object_marking_refs` ([`Markings`]). Identifiers are UUIDv5 over
//! the track's identity and time, so the same report always gets the same id (idempotent
//! replication).

use serde_json::{json, Value};
use uuid::Uuid;

use crate::kalman::{Gaussian, StateCovariance, StateVector};
use crate::model::{Identity, Markings, NationalTrack, Plot, Reply, SystemTrack, TrackRef};
use crate::Error;

/// STIX type of a plot (one detection of one national sensor).
pub const PLOT_TYPE: &str = "x-entente-plot";
/// STIX type of a national track.
pub const NATIONAL_TRACK_TYPE: &str = "x-entente-national-track";
/// STIX type of a system track.
pub const SYSTEM_TRACK_TYPE: &str = "x-entente-system-track";

const NAMESPACE: Uuid = Uuid::from_u128(0x6a1c_2e0f_5b0e_4c4e_9f57_2f6d_9a0b_e4a1);

fn stix_id(kind: &str, name: &str) -> String {
    format!("{kind}--{}", Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

/// Identifier of the extension-definition object.
pub fn extension_id() -> String {
    stix_id("extension-definition", "entente/air-picture/1.0.0")
}

/// Identifier of the identity that defines the extension.
pub fn producer_id() -> String {
    stix_id("identity", "entente")
}

/// STIX timestamp (UTC, millisecond precision) of `seconds` since the Unix epoch.
pub fn timestamp(seconds: f64) -> Result<String, Error> {
    let whole = seconds.floor();
    let millis = ((seconds - whole) * 1000.0).round() as u32;
    chrono::DateTime::from_timestamp(whole as i64, millis.min(999) * 1_000_000)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .ok_or_else(|| Error::InvalidInput {
            what: "time".into(),
            message: format!("{seconds} s is outside the STIX timestamp range"),
        })
}

/// The extension-definition object that defines both track types.
pub fn extension_definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": extension_id(),
        "created_by_ref": producer_id(),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-12-07T00:00:00.000Z",
        "name": "Entente air picture tracks",
        "description": "National tracks reported by allied sensors and system tracks of the fused air picture.",
        "schema": "x-entente-plot: nation, sensor, time, position [x, y] in metres in the exercise's \
                   local east-north frame. x-entente-national-track: nation (ISO 3166-1 alpha-3), sensor, local_track_id, \
                   time, state [x, vx, y, vy] in metres and m/s in the exercise's local east-north frame, \
                   covariance (16 numbers, row-major), identity (pending, unknown, assumed-friend, friend, \
                   neutral, suspect, hostile), optional frame_origin {lat, lon} in degrees (the origin \
                   of the east-north frame), optional altitude_m and callsign (from the aircraft's \
                   replies). x-entente-system-track: system_track_number, time, state, \
                   covariance, quality (0-15), identity, contributions [{nation, local_track_id}]. \
                   Labels are object_marking_refs.",
        "version": "1.1.0",
        "extension_types": ["new-sdo"]
    })
}

fn estimate_json(g: &Gaussian) -> (Value, Value) {
    let state: Vec<f64> = g.x.iter().copied().collect();
    // nalgebra stores column-major; STIX carries row-major.
    let cov: Vec<f64> = (0..4)
        .flat_map(|r| (0..4).map(move |c| (r, c)))
        .map(|(r, c)| g.p[(r, c)])
        .collect();
    (json!(state), json!(cov))
}

fn common(kind: &str, id: String, time: &str, label: &Markings) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), json!(kind));
    m.insert("spec_version".into(), json!("2.1"));
    m.insert("id".into(), json!(id));
    m.insert("created".into(), json!(time));
    m.insert("modified".into(), json!(time));
    if !label.0.is_empty() {
        m.insert("object_marking_refs".into(), json!(label.0));
    }
    m.insert(
        "extensions".into(),
        json!({ extension_id(): { "extension_type": "new-sdo" } }),
    );
    m
}

/// A plot as a STIX object; `epoch` is the Unix time of `t = 0`.
pub fn plot(plot: &Plot<Markings>, epoch: f64) -> Result<Value, Error> {
    let time = timestamp(epoch + plot.t)?;
    let id = stix_id(
        PLOT_TYPE,
        &format!(
            "{}/{}/{}/{}/{}",
            plot.nation, plot.sensor, time, plot.z[0], plot.z[1]
        ),
    );
    let mut m = common(PLOT_TYPE, id, &time, &plot.label);
    m.insert("nation".into(), json!(plot.nation));
    m.insert("sensor".into(), json!(plot.sensor));
    m.insert("time".into(), json!(time));
    m.insert("position".into(), json!([plot.z[0], plot.z[1]]));
    Ok(Value::Object(m))
}

/// A national track as a STIX object that also names the origin of the east-north frame its
/// state is in (`frame_origin`, degrees), so that a node fusing it can place it on a map.
pub fn national_track_in_frame(
    track: &NationalTrack<Markings>,
    epoch: f64,
    origin_lat: f64,
    origin_lon: f64,
) -> Result<Value, Error> {
    let mut value = national_track(track, epoch)?;
    if let Some(m) = value.as_object_mut() {
        m.insert(
            "frame_origin".into(),
            json!({ "lat": origin_lat, "lon": origin_lon }),
        );
    }
    Ok(value)
}

/// The origin of a national track's east-north frame (`lat`, `lon` in degrees), when the object
/// names a valid one.
pub fn frame_origin(value: &Value) -> Option<(f64, f64)> {
    let o = value.get("frame_origin")?;
    let lat = o.get("lat")?.as_f64()?;
    let lon = o.get("lon")?.as_f64()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// A national track as a STIX object; `epoch` is the Unix time of `t = 0`.
pub fn national_track(track: &NationalTrack<Markings>, epoch: f64) -> Result<Value, Error> {
    let time = timestamp(epoch + track.t)?;
    let id = stix_id(
        NATIONAL_TRACK_TYPE,
        &format!("{}/{}/{}", track.source.nation, track.source.local_id, time),
    );
    let mut m = common(NATIONAL_TRACK_TYPE, id, &time, &track.label);
    let (state, cov) = estimate_json(&track.estimate);
    m.insert("nation".into(), json!(track.source.nation));
    m.insert("sensor".into(), json!(track.sensor));
    m.insert("local_track_id".into(), json!(track.source.local_id));
    m.insert("time".into(), json!(time));
    m.insert("state".into(), state);
    m.insert("covariance".into(), cov);
    m.insert("identity".into(), json!(track.identity.as_str()));
    write_reply(&mut m, &track.reply);
    Ok(Value::Object(m))
}

fn write_reply(m: &mut serde_json::Map<String, Value>, reply: &Reply) {
    if let Some(a) = reply.altitude_m {
        m.insert("altitude_m".into(), json!(a));
    }
    if let Some(c) = &reply.callsign {
        m.insert("callsign".into(), json!(c));
    }
}

/// A system track as a STIX object; `picture` names the picture (e.g. the recipient nation) so that
/// system track numbers of different pictures get different ids.
pub fn system_track(
    track: &SystemTrack<Markings>,
    picture: &str,
    epoch: f64,
) -> Result<Value, Error> {
    let time = timestamp(epoch + track.t)?;
    let id = stix_id(
        SYSTEM_TRACK_TYPE,
        &format!("{picture}/{}/{}", track.id, time),
    );
    let mut m = common(SYSTEM_TRACK_TYPE, id, &time, &track.label);
    let (state, cov) = estimate_json(&track.estimate);
    m.insert("system_track_number".into(), json!(track.id));
    m.insert("time".into(), json!(time));
    m.insert("state".into(), state);
    m.insert("covariance".into(), cov);
    m.insert("quality".into(), json!(track.quality));
    m.insert("identity".into(), json!(track.identity.as_str()));
    let contributions: Vec<Value> = track
        .contributions
        .iter()
        .map(|c| json!({ "nation": c.nation, "local_track_id": c.local_id }))
        .collect();
    m.insert("contributions".into(), json!(contributions));
    write_reply(&mut m, &track.reply);
    Ok(Value::Object(m))
}

/// Reads a national track back from its STIX form; `epoch` as in [`national_track`].
pub fn parse_national_track(value: &Value, epoch: f64) -> Result<NationalTrack<Markings>, Error> {
    let bad = |message: String| Error::InvalidInput {
        what: NATIONAL_TRACK_TYPE.into(),
        message,
    };
    let field = |name: &str| {
        value
            .get(name)
            .ok_or_else(|| bad(format!("missing property {name}")))
    };
    let text = |name: &str| {
        field(name)?
            .as_str()
            .ok_or_else(|| bad(format!("{name} must be a string")))
    };
    if text("type")? != NATIONAL_TRACK_TYPE {
        return Err(bad("wrong type".into()));
    }
    let numbers = |name: &str, n: usize| -> Result<Vec<f64>, Error> {
        let v: Vec<f64> = field(name)?
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        if v.len() == n {
            Ok(v)
        } else {
            Err(bad(format!("{name} must hold {n} numbers")))
        }
    };
    let state = numbers("state", 4)?;
    let cov = numbers("covariance", 16)?;
    let nation = text("nation")?
        .parse()
        .map_err(|e| bad(format!("nation: {e}")))?;
    let time = text("time")?;
    let t = chrono::DateTime::parse_from_rfc3339(time)
        .map_err(|e| bad(format!("time: {e}")))?
        .timestamp_millis() as f64
        / 1000.0
        - epoch;
    let identity =
        Identity::parse(text("identity")?).ok_or_else(|| bad("unknown identity".into()))?;
    let label = match value.get("object_marking_refs") {
        None => Markings::default(),
        Some(v) => Markings(
            v.as_array()
                .ok_or_else(|| bad("object_marking_refs must be a list".into()))?
                .iter()
                .map(|r| {
                    r.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad("marking refs must be strings".into()))
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(NationalTrack {
        source: TrackRef {
            nation,
            local_id: text("local_track_id")?.to_owned(),
        },
        sensor: text("sensor")?.to_owned(),
        t,
        estimate: Gaussian::new(
            StateVector::from_column_slice(&state),
            StateCovariance::from_row_slice(&cov),
        ),
        identity,
        reply: Reply {
            altitude_m: value.get("altitude_m").and_then(Value::as_f64),
            callsign: value
                .get("callsign")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        label,
    })
}

#[cfg(test)]
mod tests;
