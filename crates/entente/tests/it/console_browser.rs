//! The web console in a real browser: `entente demo` starts the federation (the five default
//! nations, and POL and EST for the crisis rooms), a FRA
//! user cleared lower than the demo's is added to FRA's running node with `entente user add`,
//! and the Playwright suite (`crates/entente-console/tests/browser/console_suite.py`) drives
//! Debian's chromium through every page of the consoles: sign-in and sign-out, publishing at
//! FRA and delivery to GBR but not JPN, leak crawls as JPN users and the lower-cleared FRA user,
//! hostile content, searching from the header's box (a facet, an object's correlations and its
//! graph), cookies and headers, axe-core, the keyboard, a crisis room opened at POL and shared
//! with EST but not JPN, and screenshots of every page (written to
//! `<target dir>/console-screenshots`).
//!
//! It needs chromium (`ENTENTE_CHROMIUM`, default `/usr/bin/chromium`) and the Python package
//! `playwright` beside `ENTENTE_PYTHON` (`scripts/test-all.sh` installs both). Without them it is
//! skipped, loudly, except under CI (`CI=true`), where it fails.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{repo_root, spawn};

/// The lower-cleared FRA user the suite crawls as.
const LOW_USER: &str = "fra-low";
const LOW_CLEARANCE: &str = "NATO RESTRICTED";
const LOW_PASSWORD: &str = "demo-fra-low-password";
/// The longest the suite may run.
const SUITE_LIMIT: Duration = Duration::from_secs(480);

/// The demo federation, stopped when dropped (also when the test fails).
struct Demo {
    child: Child,
    dir: PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    fn output(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        format!("stdout:\n{}\nstderr:\n{}", read("stdout"), read("stderr"))
    }
}

/// The sensors of the demo's live exercise whose national tracks `nation`'s NATO-cleared demo
/// user may receive today: the release policy asked here, independently of the nodes (the
/// tracks enter the federation at DEU's node, which is their originator).
fn picture_sensors(nation: &str) -> String {
    let data = repo_root().join("data");
    let registry = entente_registry::Registry::load(&data.join("registry")).unwrap();
    let policies = entente_labels::PolicySet::load(&data.join("policies")).unwrap();
    let policy = entente_policy::ReleasePolicy::new(&registry, policies);
    let scenario =
        entente_exercise::Scenario::load(&data.join("scenarios/baltic-qra.toml")).unwrap();
    let today = entente_node::clock::today();
    let (host, recipient) = ("DEU".parse().unwrap(), nation.parse().unwrap());
    let sensors = entente_exercise::release::sensors(&policy, &scenario).unwrap();
    let released: Vec<String> = sensors
        .iter()
        .filter(|s| policy.decide(&s.label, host, recipient, today).is_permit())
        .map(|s| s.name.clone())
        .collect();
    assert!(
        !released.is_empty(),
        "{nation} may receive no sensor's tracks"
    );
    released.join(",")
}

/// Whether the browser and Playwright are here; `Err` names what is missing.
fn prerequisites(python: &str, chromium: &Path) -> Result<(), String> {
    if !chromium.is_file() {
        return Err(format!(
            "chromium is not at {} (apt-get install chromium, or set ENTENTE_CHROMIUM)",
            chromium.display()
        ));
    }
    let probe = Command::new(python)
        .args(["-c", "import playwright.sync_api"])
        .stdin(Stdio::null())
        .output();
    match probe {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "{python} cannot import playwright (scripts/python-requirements.txt lists it): {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("{python} does not run (set ENTENTE_PYTHON): {e}")),
    }
}

/// The target directory: `CARGO_TARGET_DIR`, else the one this test binary was built in.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // <target>/<profile>/deps/it-<hash>
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_owned()
}

/// Starts the demo federation and waits until it is ready.
fn start_demo(dir: &Path) -> Demo {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (nodes, manifest, ready) = (path("nodes"), path("manifest.json"), path("ready"));
    let child = spawn(
        dir,
        &[
            "demo",
            "--data-dir",
            &nodes,
            "--manifest",
            &manifest,
            "--ready-file",
            &ready,
            "--duration",
            "1200",
            "--timeout",
            "120",
            "--nations",
            "FRA,USA,GBR,DEU,JPN,POL,EST",
        ],
    );
    let mut demo = Demo {
        child,
        dir: dir.to_owned(),
    };
    let start = Instant::now();
    while !dir.join("ready").exists() {
        if let Some(status) = demo.child.try_wait().unwrap() {
            panic!(
                "entente demo stopped ({status}) before it was ready\n{}",
                demo.output()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(150),
            "entente demo not ready after 150 s\n{}",
            demo.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "demo federation ready in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    demo
}

/// Adds the lower-cleared FRA user to FRA's running node (its SQLite store, which the node reads
/// again at each sign-in) with the CLI an operator would use.
fn add_low_user(dir: &Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args(["user", "add", "--config"])
        .arg(dir.join("nodes/fra/node.toml"))
        .args([
            "--name",
            LOW_USER,
            "--nation",
            "FRA",
            "--clearance",
            LOW_CLEARANCE,
        ])
        .args(["--password-stdin", "--read", "intel"])
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{LOW_PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "entente user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_console_works_in_a_real_browser() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let python = std::env::var("ENTENTE_PYTHON").unwrap_or_else(|_| "python3".into());
    let chromium = PathBuf::from(
        std::env::var("ENTENTE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    if let Err(missing) = prerequisites(&python, &chromium) {
        assert!(
            !ci,
            "the console's browser tests cannot run under CI: {missing}"
        );
        eprintln!("SKIPPED the console's browser tests: {missing}");
        return;
    }
    let shots = target_dir().join("console-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    eprintln!("screenshots of the console go to {}", shots.display());

    let tmp = tempfile::tempdir().unwrap();
    let demo = start_demo(tmp.path());
    add_low_user(tmp.path());

    let suite = repo_root().join("crates/entente-console/tests/browser/console_suite.py");
    let mut child = Command::new(&python)
        .arg(&suite)
        .arg("--manifest")
        .arg(tmp.path().join("manifest.json"))
        .arg("--screenshots")
        .arg(&shots)
        .arg("--extra-user")
        .arg(format!("FRA:{LOW_USER}:{LOW_PASSWORD}:{LOW_CLEARANCE}"))
        .args(["FRA", "USA", "GBR", "DEU", "JPN"].iter().flat_map(|n| {
            [
                "--picture-sensors".to_owned(),
                format!("{n}={}", picture_sensors(n)),
            ]
        }))
        .env("ENTENTE_CHROMIUM", &chromium)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > SUITE_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the console suite still ran after {SUITE_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "console suite finished in {:.0} s; screenshots in {}",
        start.elapsed().as_secs_f64(),
        shots.display()
    );
    assert!(
        status.success(),
        "the console suite failed ({status}); its output is above\ndemo {}",
        demo.output()
    );
    drop(demo);
}
