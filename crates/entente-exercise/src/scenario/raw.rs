//! The raw twins of a scenario file: TOML deserialised as written, every value that can be wrong
//! carrying its span so that validation can name the line at fault.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) version: Spanned<i64>,
    pub(super) name: Spanned<String>,
    pub(super) title: String,
    #[allow(dead_code)]
    pub(super) description: Option<String>,
    pub(super) seed: Spanned<i64>,
    pub(super) duration: Spanned<String>,
    pub(super) step: Spanned<f64>,
    pub(super) epoch: Spanned<String>,
    #[serde(default)]
    pub(super) source: Vec<Spanned<RawSource>>,
    pub(super) area: Spanned<RawArea>,
    #[serde(default)]
    pub(super) nation: Vec<Spanned<RawNation>>,
    #[serde(default)]
    pub(super) base: Vec<Spanned<RawBase>>,
    #[serde(default)]
    pub(super) aircraft_type: Vec<Spanned<RawType>>,
    #[serde(default)]
    pub(super) radar: Vec<Spanned<RawRadar>>,
    #[serde(default)]
    pub(super) flight: Vec<Spanned<RawFlight>>,
    #[serde(default)]
    pub(super) traffic: Vec<Spanned<RawTraffic>>,
    #[serde(default)]
    pub(super) event: Vec<Spanned<RawEvent>>,
    #[serde(default)]
    pub(super) standard: Vec<Spanned<RawStandard>>,
    pub(super) controller: Spanned<RawController>,
    pub(super) picture: Spanned<RawPicture>,
    pub(super) dis: Spanned<RawDis>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    pub(super) reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArea {
    pub(super) name: String,
    pub(super) origin: Spanned<RawPoint>,
    pub(super) south: Spanned<f64>,
    pub(super) north: Spanned<f64>,
    pub(super) west: Spanned<f64>,
    pub(super) east: Spanned<f64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPoint {
    pub(super) lat: f64,
    pub(super) lon: f64,
    #[serde(default)]
    pub(super) alt_m: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNation {
    pub(super) code: Spanned<String>,
    pub(super) label: Option<Spanned<String>>,
    /// Replaced by labels; read only to say so at its line.
    pub(super) shares_with: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBase {
    pub(super) id: Spanned<String>,
    pub(super) name: String,
    pub(super) nation: Spanned<String>,
    pub(super) lat: Spanned<f64>,
    pub(super) lon: Spanned<f64>,
    pub(super) elevation_m: Spanned<f64>,
    pub(super) source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawType {
    pub(super) id: Spanned<String>,
    pub(super) name: String,
    pub(super) cruise_speed_mps: Spanned<f64>,
    pub(super) max_speed_mps: Spanned<f64>,
    pub(super) min_speed_mps: Spanned<f64>,
    pub(super) climb_rate_mps: Spanned<f64>,
    pub(super) descent_rate_mps: Spanned<f64>,
    pub(super) acceleration_mps2: Spanned<f64>,
    pub(super) max_bank_deg: Spanned<f64>,
    pub(super) max_turn_rate_dps: Spanned<f64>,
    pub(super) ceiling_m: Spanned<f64>,
    pub(super) dis_category: Spanned<i64>,
    #[serde(default)]
    pub(super) dis_subcategory: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) dis_specific: Option<Spanned<i64>>,
    pub(super) source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRadar {
    pub(super) id: Spanned<String>,
    pub(super) nation: Spanned<String>,
    pub(super) lat: Spanned<f64>,
    pub(super) lon: Spanned<f64>,
    pub(super) antenna_m: Spanned<f64>,
    pub(super) range_km: Spanned<f64>,
    pub(super) sigma_m: Spanned<f64>,
    pub(super) period_s: Spanned<f64>,
    pub(super) pd: Spanned<f64>,
    pub(super) source: Spanned<String>,
    pub(super) label: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlight {
    pub(super) id: Spanned<String>,
    pub(super) callsign: Spanned<String>,
    pub(super) nation: Spanned<String>,
    pub(super) base: Spanned<String>,
    pub(super) aircraft: Spanned<String>,
    pub(super) count: Spanned<i64>,
    pub(super) readiness: Spanned<String>,
    pub(super) dash_speed_mps: Spanned<f64>,
    pub(super) source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTraffic {
    pub(super) id: Spanned<String>,
    pub(super) callsign: Spanned<String>,
    pub(super) nation: Option<Spanned<String>>,
    pub(super) aircraft: Spanned<String>,
    pub(super) start: Spanned<String>,
    pub(super) speed_mps: Spanned<f64>,
    pub(super) force: Spanned<String>,
    pub(super) route: Spanned<Vec<Spanned<RawPoint>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvent {
    pub(super) at: Spanned<String>,
    pub(super) kind: Spanned<String>,
    pub(super) traffic: Option<Spanned<String>>,
    pub(super) flight: Option<Spanned<String>>,
    pub(super) target: Option<Spanned<String>>,
    pub(super) from: Option<Spanned<String>>,
    pub(super) to: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStandard {
    pub(super) name: Spanned<String>,
    pub(super) from: Spanned<String>,
    pub(super) to: Spanned<String>,
    pub(super) within: Spanned<String>,
    pub(super) source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawController {
    pub(super) intercept_range_m: Spanned<f64>,
    pub(super) vid_range_m: Spanned<f64>,
    pub(super) vid_time_s: Spanned<f64>,
    pub(super) escort_offset_m: Spanned<f64>,
    pub(super) own_sensor_range_km: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPicture {
    pub(super) period_s: Spanned<f64>,
    pub(super) process_noise: Spanned<f64>,
    pub(super) gospa_c_m: Spanned<f64>,
    pub(super) gospa_p: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDis {
    pub(super) exercise: Spanned<i64>,
    pub(super) site: Spanned<i64>,
    pub(super) application: Spanned<i64>,
    pub(super) heartbeat_s: Spanned<f64>,
    pub(super) threshold_m: Spanned<f64>,
}
