//! Point-mass aircraft kinematics on the WGS-84 ellipsoid.
//!
//! An aircraft is a point with a geodetic position, a heading, a horizontal speed and a vertical
//! speed. Each step moves speed, heading and altitude towards a [`Command`] within the type's
//! limits ([`Limits`]): acceleration, a turn rate of `g tan(bank) / v` capped by the type's turn
//! rate, and climb and descent rates; then advances the position with the local meridian and
//! prime-vertical radii, so long legs stay on the ellipsoid instead of drifting off a flat frame.
//! No wind, no fuel, no flight envelope beyond these limits: enough for interception geometry and
//! timelines, which is what an air policing exercise needs.

use std::f64::consts::PI;

use entente_fusion::geodesy::{to_ecef, Ecef, Geodetic};

use crate::scenario::AircraftType;

/// Standard gravity, m/s² (ISO 80000-3).
pub const G: f64 = 9.806_65;
const A: f64 = 6_378_137.0;
const E2: f64 = 6.694_379_990_14e-3;

/// Kinematic state of one aircraft.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct State {
    /// Position; `h` is the height above the ellipsoid, metres.
    pub position: Geodetic,
    /// Heading, radians clockwise from true north, in `[0, 2π)`.
    pub heading: f64,
    /// Horizontal speed, m/s.
    pub speed: f64,
    /// Vertical speed, m/s (positive up).
    pub vertical_speed: f64,
    /// Bank angle of the last step, radians (positive right wing down).
    pub bank: f64,
}

/// What the pilot or autopilot is asked to fly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Command {
    /// Heading, radians clockwise from true north.
    pub heading: f64,
    /// Horizontal speed, m/s.
    pub speed: f64,
    /// Altitude, metres.
    pub altitude: f64,
}

/// Performance limits in SI units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// m/s.
    pub min_speed: f64,
    /// m/s.
    pub max_speed: f64,
    /// m/s.
    pub climb_rate: f64,
    /// m/s.
    pub descent_rate: f64,
    /// m/s².
    pub acceleration: f64,
    /// radians.
    pub max_bank: f64,
    /// rad/s.
    pub max_turn_rate: f64,
    /// metres.
    pub ceiling: f64,
}

impl From<&AircraftType> for Limits {
    fn from(t: &AircraftType) -> Limits {
        Limits {
            min_speed: t.min_speed,
            max_speed: t.max_speed,
            climb_rate: t.climb_rate,
            descent_rate: t.descent_rate,
            acceleration: t.acceleration,
            max_bank: t.max_bank.to_radians(),
            max_turn_rate: t.max_turn_rate.to_radians(),
            ceiling: t.ceiling,
        }
    }
}

/// `a` − `b` wrapped into `(-π, π]`.
pub fn angle_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(2.0 * PI);
    if d > PI {
        d - 2.0 * PI
    } else {
        d
    }
}

/// Meridian and prime-vertical radii of curvature at latitude `lat` (radians).
fn radii(lat: f64) -> (f64, f64) {
    let s = lat.sin();
    let w = (1.0 - E2 * s * s).sqrt();
    (A * (1.0 - E2) / (w * w * w), A / w)
}

impl State {
    /// North, east and down velocity components, m/s.
    pub fn velocity_ned(&self) -> [f64; 3] {
        [
            self.speed * self.heading.cos(),
            self.speed * self.heading.sin(),
            -self.vertical_speed,
        ]
    }

    /// Flight-path angle, radians (positive nose up).
    pub fn pitch(&self) -> f64 {
        self.vertical_speed.atan2(self.speed)
    }

    /// Earth-centred position.
    pub fn ecef(&self) -> Ecef {
        to_ecef(self.position)
    }

    /// Advances the state by `dt` seconds towards `cmd` within `lim`.
    pub fn step(&mut self, cmd: &Command, lim: &Limits, dt: f64) {
        // Speed.
        let target = cmd.speed.clamp(lim.min_speed, lim.max_speed);
        let dv = (target - self.speed).clamp(-lim.acceleration * dt, lim.acceleration * dt);
        self.speed = (self.speed + dv).max(1.0);

        // Heading: the bank-limited rate of a coordinated turn, capped by the type's rate.
        let rate_limit = (G * lim.max_bank.tan() / self.speed).min(lim.max_turn_rate);
        let wanted = angle_diff(cmd.heading, self.heading);
        let turn = wanted.clamp(-rate_limit * dt, rate_limit * dt);
        let rate = turn / dt;
        self.bank = (self.speed * rate / G).atan();
        self.heading = (self.heading + turn).rem_euclid(2.0 * PI);

        // Altitude.
        let alt = cmd.altitude.min(lim.ceiling);
        let dh = (alt - self.position.h).clamp(-lim.descent_rate * dt, lim.climb_rate * dt);
        self.vertical_speed = dh / dt;

        // Position on the ellipsoid.
        let lat = self.position.lat.to_radians();
        let (m, n) = radii(lat);
        let [vn, ve, _] = self.velocity_ned();
        let h = self.position.h + dh / 2.0;
        self.position.lat += (vn * dt / (m + h)).to_degrees();
        self.position.lon += (ve * dt / ((n + h) * lat.cos())).to_degrees();
        if self.position.lon > 180.0 {
            self.position.lon -= 360.0;
        } else if self.position.lon < -180.0 {
            self.position.lon += 360.0;
        }
        self.position.h += dh;
    }
}

/// North and east offsets (metres) of `to` from `from`, on the local tangent plane at `from`
/// (equirectangular: good to a fraction of a percent over a few hundred kilometres, which is all
/// steering needs).
pub fn offset_ne(from: Geodetic, to: Geodetic) -> (f64, f64) {
    let lat = from.lat.to_radians();
    let (m, n) = radii(lat);
    let mut dlon = to.lon - from.lon;
    if dlon > 180.0 {
        dlon -= 360.0;
    } else if dlon < -180.0 {
        dlon += 360.0;
    }
    (
        (to.lat - from.lat).to_radians() * (m + from.h),
        dlon.to_radians() * (n + from.h) * lat.cos(),
    )
}

/// The point `north`, `east` metres from `from`, at height `h` (inverse of [`offset_ne`]).
pub fn displace(from: Geodetic, north: f64, east: f64, h: f64) -> Geodetic {
    let lat = from.lat.to_radians();
    let (m, n) = radii(lat);
    Geodetic {
        lat: from.lat + (north / (m + from.h)).to_degrees(),
        lon: from.lon + (east / ((n + from.h) * lat.cos())).to_degrees(),
        h,
    }
}

/// Straight-line distance between two points, metres.
pub fn distance(a: Geodetic, b: Geodetic) -> f64 {
    let (p, q) = (to_ecef(a), to_ecef(b));
    ((p.x - q.x).powi(2) + (p.y - q.y).powi(2) + (p.z - q.z).powi(2)).sqrt()
}

/// Bearing (radians clockwise from north) from `from` to `to`.
pub fn bearing(from: Geodetic, to: Geodetic) -> f64 {
    let (n, e) = offset_ne(from, to);
    e.atan2(n).rem_euclid(2.0 * PI)
}

#[cfg(test)]
mod tests;
