use super::*;

const A: f64 = 6_378_137.0;
const B: f64 = 6_356_752.314_245;

fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn cardinal_points() {
    let p = to_ecef(Geodetic {
        lat: 0.0,
        lon: 0.0,
        h: 0.0,
    });
    assert!(near(p.x, A, 1e-6) && near(p.y, 0.0, 1e-6) && near(p.z, 0.0, 1e-6));
    let p = to_ecef(Geodetic {
        lat: 0.0,
        lon: 90.0,
        h: 0.0,
    });
    assert!(near(p.x, 0.0, 1e-6) && near(p.y, A, 1e-6));
    let p = to_ecef(Geodetic {
        lat: 90.0,
        lon: 0.0,
        h: 0.0,
    });
    assert!(near(p.z, B, 1e-4), "{p:?}");
}

#[test]
fn hand_computed_point() {
    // N = a / √(1 − e² sin²φ); x = y = (N + h) cos φ cos 45°; z = (N (1 − e²) + h) sin φ.
    let e2 = 1.0 - (B / A).powi(2);
    let phi = 45f64.to_radians();
    let n = A / (1.0 - e2 * phi.sin().powi(2)).sqrt();
    let p = to_ecef(Geodetic {
        lat: 45.0,
        lon: 45.0,
        h: 1000.0,
    });
    let xy = (n + 1000.0) * phi.cos() * 45f64.to_radians().cos();
    assert!(near(p.x, xy, 1e-6) && near(p.y, xy, 1e-6));
    assert!(near(p.z, (n * (1.0 - e2) + 1000.0) * phi.sin(), 1e-6));
    // Published by an independent implementation (pymap3d 3.2): 3194919.145 m, 4488055.516 m.
    assert!(near(p.x, 3_194_919.145_060_574, 1e-5) && near(p.z, 4_488_055.515_647_107, 1e-5));
}

#[test]
fn round_trips_and_local_frame_near_siauliai() {
    let origin = Geodetic {
        lat: 55.89,
        lon: 23.39,
        h: 100.0,
    };
    let p = to_ecef(origin);
    assert!(near(p.x, 3_290_440.637_646_243, 1e-5));
    assert!(near(p.y, 1_423_219.032_029_566, 1e-5));
    assert!(near(p.z, 5_257_666.579_759_656, 1e-5));
    let back = to_geodetic(p);
    assert!(
        near(back.lat, origin.lat, 1e-9)
            && near(back.lon, origin.lon, 1e-9)
            && near(back.h, 100.0, 1e-5)
    );

    let frame = LocalFrame::new(origin);
    let enu = frame.enu(Geodetic {
        lat: 55.9,
        lon: 23.4,
        h: 10_000.0,
    });
    // Reference values from pymap3d 3.2 geodetic2enu.
    assert!(near(enu.e, 626.516_302_504_981, 1e-5), "{enu:?}");
    assert!(near(enu.n, 1_115.189_777_134_57, 1e-5));
    assert!(near(enu.u, 9_899.872_025_056_844, 1e-5));
    let g = frame.geodetic(enu);
    assert!(near(g.lat, 55.9, 1e-9) && near(g.lon, 23.4, 1e-9) && near(g.h, 10_000.0, 1e-5));
    let o = frame.enu(origin);
    assert!(near(o.e, 0.0, 1e-6) && near(o.n, 0.0, 1e-6) && near(o.u, 0.0, 1e-6));
}
