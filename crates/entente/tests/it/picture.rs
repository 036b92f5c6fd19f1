//! `entente picture …`: tracking, fusion and scoring through the file contract, and error paths.

use std::path::Path;

use crate::util::entente;

/// A scenario with one target moving at 1 m/s along x and one clutter plot per scan.
fn scenario(dir: &Path) {
    std::fs::write(
        dir.join("meta.json"),
        r#"{"model": {"dt": 1, "q": 0.05, "R": [0.25, 0.25], "pd": 1, "clutter_rate": 1,
            "clutter_region": [[-30, 30], [-30, 30]]}}"#,
    )
    .unwrap();
    let mut scans = String::from("scan,t\n");
    let mut dets = String::from("scan,t,x,y\n");
    let mut truth = String::from("target_id,t,x,vx,y,vy\n");
    for k in 0..12 {
        scans.push_str(&format!("{k},{k}\n"));
        if k != 6 {
            dets.push_str(&format!("{k},{k},{},0.1\n", k as f64 + 0.05));
        }
        dets.push_str(&format!("{k},{k},{},25\n", -20.0 + 3.7 * k as f64));
        truth.push_str(&format!("1,{k},{k},1,0,0\n"));
    }
    std::fs::write(dir.join("scans.csv"), scans).unwrap();
    std::fs::write(dir.join("detections.csv"), dets).unwrap();
    std::fs::write(dir.join("truth.csv"), truth).unwrap();
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn track_then_score_follows_the_target() {
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path());
    let out = dir.path().join("tracks.csv");
    let run = entente(&[
        "picture",
        "track",
        "--scenario",
        path(dir.path()),
        "--out",
        path(&out),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["scans"], 12);
    assert_eq!(v["tracks"], 1);
    // Confirmed on its third plot, history included, coasting through the missed scan 6.
    assert_eq!(v["rows"], 12);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("track_id,t,x,vx,y,vy\n"), "{text}");

    let truth = dir.path().join("truth.csv");
    let run = entente(&[
        "picture",
        "score",
        "--truth",
        path(&truth),
        "--tracks",
        path(&out),
        "--c",
        "10",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.json();
    assert_eq!(s["instants"], 12);
    assert!(s["gospa"]["distance"].as_f64().unwrap() < 0.5, "{s}");
    assert_eq!(s["gospa"]["missed"], 0.0);
    assert_eq!(s["siap"]["completeness"], 1.0);
    assert_eq!(s["siap"]["spuriousness"], 0.0);

    let run = entente(&[
        "picture",
        "score",
        "--truth",
        path(&truth),
        "--tracks",
        path(&out),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("SIAP completeness"), "{}", run.stdout);
}

#[test]
fn malformed_input_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path());
    std::fs::write(
        dir.path().join("detections.csv"),
        "scan,t,x,y\n0,0,1,2\n1,1,1,north\n",
    )
    .unwrap();
    let out = dir.path().join("tracks.csv");
    let run = entente(&[
        "picture",
        "track",
        "--scenario",
        path(dir.path()),
        "--out",
        path(&out),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("detections.csv:3:4: y: expected a finite number, found \"north\""),
        "{}",
        run.stderr
    );

    let run = entente(&[
        "picture",
        "track",
        "--scenario",
        path(&dir.path().join("missing")),
        "--out",
        path(&out),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("meta.json"), "{}", run.stderr);

    let run = entente(&[
        "picture",
        "score",
        "--truth",
        path(&out),
        "--tracks",
        path(&out),
        "--c",
        "-1",
    ]);
    assert_eq!(run.code, 2);
}

#[test]
fn fuse_combines_two_nations_reports_of_one_target() {
    let dir = tempfile::tempdir().unwrap();
    let header = "track_id,t,x,vx,y,vy,p_x_x,p_x_vx,p_x_y,p_x_vy,p_vx_vx,p_vx_y,p_vx_vy,p_y_y,p_y_vy,p_vy_vy\n";
    std::fs::write(
        dir.path().join("EST.csv"),
        format!("{header}a,0,0,10,0,0,1,0,0,0,1,0,0,1,0,1\na,1,10,10,0,0,1,0,0,0,1,0,0,1,0,1\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("LVA.csv"),
        format!(
            "{header}7,0,1,10,0,0,3,0,0,0,1,0,0,3,0,1\nfar,0,900,0,900,0,1,0,0,0,1,0,0,1,0,1\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("fused.csv");
    let run = entente(&[
        "picture",
        "fuse",
        "--inputs",
        path(dir.path()),
        "--out",
        path(&out),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["nations"], serde_json::json!(["EST", "LVA"]));
    assert_eq!(v["instants"], 2);
    assert_eq!(v["system_tracks"], 2);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",contributors"));
    assert!(text.contains(",EST:a;LVA:7\n"), "{text}");
    assert!(text.contains(",LVA:far\n"), "{text}");

    // A nation file without covariance is refused.
    std::fs::write(
        dir.path().join("POL.csv"),
        "track_id,t,x,vx,y,vy\n1,0,0,0,0,0\n",
    )
    .unwrap();
    let run = entente(&[
        "picture",
        "fuse",
        "--inputs",
        path(dir.path()),
        "--out",
        path(&out),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("POL.csv:2:7: national tracks need the covariance columns"),
        "{}",
        run.stderr
    );
}

#[test]
fn bench_reports_timings() {
    let run = entente(&[
        "picture",
        "bench",
        "fuse",
        "--targets",
        "50",
        "--scans",
        "5",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["timing"]["samples"], 5);
    assert!(v["system_tracks_last"].as_u64().unwrap() >= 45, "{v}");

    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path());
    let run = entente(&[
        "picture",
        "bench",
        "track",
        "--scenario",
        path(dir.path()),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["timing"]["samples"], 12);
}
