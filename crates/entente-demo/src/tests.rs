//! What the unit tests share (the shipped data folders, a progress sink that shows nothing), and
//! the tests of the crate's entry point.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use crate::progress::{Delivery, Progress, Table};
use crate::*;

/// The shipped `data/<sub>` folder of the source tree.
pub(crate) fn data_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(sub)
}

/// Shows nothing.
pub(crate) struct Silent;

impl Progress for Silent {
    fn text(&mut self, _: &str) -> std::io::Result<()> {
        Ok(())
    }
    fn table(&mut self, _: &Table) -> std::io::Result<()> {
        Ok(())
    }
    fn delivery(&mut self, _: Delivery<'_>) -> std::io::Result<()> {
        Ok(())
    }
    fn crisis(&mut self, _: crate::Crisis<'_>) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn registry_only_writes_the_walk_through_as_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("demo.json");
    let day = entente_types::parse_date("2024-09-01").unwrap();
    let options = DemoOptions {
        registry_dir: data_dir("registry"),
        policies_dir: data_dir("policies"),
        dataset: data_dir("demo").join("exercise-objects.json"),
        at: day,
        today: day,
        registry_only: true,
        manifest: Some(manifest.clone()),
        nodes_dir: None,
        plain_http: false,
        duration: None,
        ready_file: None,
        timeout: Duration::from_secs(1),
        exercise: None,
        nations: crate::live::default_nations(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let report = runtime
        .block_on(run(&options, &mut Silent, std::future::pending()))
        .unwrap();
    assert!(report.live.is_none());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(written["today"], "2024-09-01");
    assert!(written.get("federation").is_none());
}

#[test]
fn an_unwritable_manifest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing/demo.json");
    let walk = walkthrough::run(
        &data_dir("registry"),
        &data_dir("policies"),
        entente_types::parse_date("2024-09-01").unwrap(),
        &mut Silent,
    )
    .unwrap();
    let e = write_manifest(&path, &walk.report).unwrap_err();
    assert!(e.to_string().contains("cannot write manifest"), "{e}");
    assert!(e.to_string().contains("missing/demo.json"), "{e}");
}
