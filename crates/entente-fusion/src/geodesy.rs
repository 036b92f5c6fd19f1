//! WGS-84 geodetic ↔ ECEF ↔ local ENU conversions (over the `map_3d` crate), so that national
//! reports in latitude / longitude meet in one flat local frame for tracking and fusion.

use map_3d::Ellipsoid;

/// Latitude and longitude in degrees, height above the WGS-84 ellipsoid in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geodetic {
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
    /// Ellipsoidal height, metres.
    pub h: f64,
}

/// Earth-centred, Earth-fixed coordinates, metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ecef {
    /// X (towards 0° N, 0° E).
    pub x: f64,
    /// Y (towards 0° N, 90° E).
    pub y: f64,
    /// Z (towards the North Pole).
    pub z: f64,
}

/// East, north, up from a local origin, metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Enu {
    /// East.
    pub e: f64,
    /// North.
    pub n: f64,
    /// Up.
    pub u: f64,
}

/// Geodetic → ECEF.
pub fn to_ecef(g: Geodetic) -> Ecef {
    let (x, y, z) = map_3d::geodetic2ecef(
        g.lat.to_radians(),
        g.lon.to_radians(),
        g.h,
        Ellipsoid::WGS84,
    );
    Ecef { x, y, z }
}

/// ECEF → geodetic.
pub fn to_geodetic(p: Ecef) -> Geodetic {
    let (lat, lon, h) = map_3d::ecef2geodetic(p.x, p.y, p.z, Ellipsoid::WGS84);
    Geodetic {
        lat: lat.to_degrees(),
        lon: lon.to_degrees(),
        h,
    }
}

/// A local east-north-up frame anchored at a geodetic origin (e.g. the fusion centre).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    origin: Geodetic,
}

impl LocalFrame {
    /// The frame at `origin`.
    pub fn new(origin: Geodetic) -> LocalFrame {
        LocalFrame { origin }
    }

    /// The origin.
    pub fn origin(&self) -> Geodetic {
        self.origin
    }

    /// ECEF → ENU.
    pub fn enu_of_ecef(&self, p: Ecef) -> Enu {
        let o = self.origin;
        let (e, n, u) = map_3d::ecef2enu(
            p.x,
            p.y,
            p.z,
            o.lat.to_radians(),
            o.lon.to_radians(),
            o.h,
            Ellipsoid::WGS84,
        );
        Enu { e, n, u }
    }

    /// ENU → ECEF.
    pub fn ecef_of_enu(&self, p: Enu) -> Ecef {
        let o = self.origin;
        let (x, y, z) = map_3d::enu2ecef(
            p.e,
            p.n,
            p.u,
            o.lat.to_radians(),
            o.lon.to_radians(),
            o.h,
            Ellipsoid::WGS84,
        );
        Ecef { x, y, z }
    }

    /// Geodetic → ENU.
    pub fn enu(&self, g: Geodetic) -> Enu {
        self.enu_of_ecef(to_ecef(g))
    }

    /// ENU → geodetic.
    pub fn geodetic(&self, p: Enu) -> Geodetic {
        to_geodetic(self.ecef_of_enu(p))
    }
}

#[cfg(test)]
mod tests;
