use super::*;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "entente-fusion-files-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn meta() -> &'static str {
    r#"{"model": {"dt": 1, "q": 0.05, "R": [0.25, 0.25], "pd": 0.9, "clutter_rate": 1,
        "clutter_region": [[-30, 30], [-30, 30]]}}"#
}

#[test]
fn reads_a_scenario_with_empty_scans() {
    let d = dir().join("ok");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("meta.json"), meta()).unwrap();
    std::fs::write(d.join("scans.csv"), "scan,t\n0,0\n1,1\n2,2\n").unwrap();
    std::fs::write(
        d.join("detections.csv"),
        "scan,t,x,y\n0,0,1.5,2\n2,2,3,4\n2,2,5,6\n",
    )
    .unwrap();
    let s = read_scenario(&d).unwrap();
    assert_eq!(s.scans.len(), 3);
    assert_eq!(s.scans[1].plots.len(), 0);
    assert_eq!(
        s.scans[2].plots,
        vec![Measurement::new(3.0, 4.0), Measurement::new(5.0, 6.0)]
    );
    assert_eq!(s.tracker_config().delete_covariance_trace, 2.0);
}

#[test]
fn errors_name_file_line_and_column() {
    let d = dir().join("bad");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("meta.json"), meta()).unwrap();
    std::fs::write(d.join("scans.csv"), "scan,t\n0,0\n1,1\n").unwrap();
    std::fs::write(d.join("detections.csv"), "scan,t,x,y\n0,0,1,2\n1,1,abc,2\n").unwrap();
    let err = read_scenario(&d).unwrap_err();
    let file = d.join("detections.csv");
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3:3: x: expected a finite number, found \"abc\"",
            file.display()
        )
    );
    std::fs::write(d.join("detections.csv"), "scan,t,x,y\n7,0,1,2\n").unwrap();
    assert!(read_scenario(&d)
        .unwrap_err()
        .to_string()
        .ends_with(":2:1: scan 7 is not in scans.csv"));
    std::fs::write(d.join("detections.csv"), "scan,t,x\n").unwrap();
    assert!(read_scenario(&d)
        .unwrap_err()
        .to_string()
        .contains("missing column \"y\""));
    std::fs::write(d.join("meta.json"), "{\"model\": {}}").unwrap();
    assert!(matches!(read_scenario(&d), Err(Error::Json { .. })));
    assert_eq!(
        read_scenario(&d.join("nope")).unwrap_err().code(),
        entente_types::ErrorCode::NotFound
    );
}

#[test]
fn track_files_round_trip_with_covariance() {
    let d = dir().join("tracks");
    std::fs::create_dir_all(&d).unwrap();
    let mut p = StateCovariance::identity();
    p[(0, 2)] = 0.25;
    p[(2, 0)] = 0.25;
    let rows = vec![TrackRow {
        id: "7".into(),
        t: 1.5,
        x: StateVector::new(1.0, 2.0, 3.0, 4.0),
        p: Some(p),
    }];
    let f = d.join("LTU.csv");
    write_tracks(&f, &rows, true).unwrap();
    assert_eq!(read_tracks(&f, "track_id").unwrap(), rows);
    let national = read_national_dir(&d).unwrap();
    assert_eq!(national.len(), 1);
    assert_eq!(national[0].0.as_str(), "LTU");
    write_tracks(&f, &rows, false).unwrap();
    assert!(read_tracks(&f, "track_id").unwrap()[0].p.is_none());
    assert!(read_national_dir(&d).is_err());
}
