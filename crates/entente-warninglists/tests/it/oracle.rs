//! Running `tests/oracle_warninglists.py` (pymispwarninglists) from the tests.
//!
//! The interpreter comes from `ENTENTE_PYTHON`. When it is unset or pymispwarninglists cannot be
//! imported, a test fails if `CI` is set and is skipped (with `SKIPPED …` on stderr) otherwise.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;

use serde::Deserialize;

/// What the reference says about one value (see the script's documentation).
#[derive(Debug, Deserialize)]
pub struct Answer {
    pub slow: Vec<String>,
    pub fast: Vec<String>,
    pub regex: Vec<String>,
    pub raised: Vec<String>,
    pub error: Option<String>,
}

pub struct Oracle {
    python: PathBuf,
    /// The `lists` folder of the installed package.
    pub lists_dir: PathBuf,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracle_warninglists.py")
}

impl Oracle {
    /// The reference, or `None` when the test is to be skipped (`what` names it).
    pub fn find(what: &str) -> Option<Oracle> {
        let unavailable = |why: String| -> Option<Oracle> {
            if std::env::var_os("CI").is_some() {
                panic!("{what}: {why} (CI is set: the reference is required)");
            }
            eprintln!("SKIPPED {what}: {why}");
            None
        };
        let Some(python) = std::env::var_os("ENTENTE_PYTHON") else {
            return unavailable("ENTENTE_PYTHON is not set".to_owned());
        };
        let output = match Command::new(&python)
            .arg(script())
            .arg("--data-dir")
            .output()
        {
            Ok(output) => output,
            Err(error) => return unavailable(format!("cannot run {python:?}: {error}")),
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => {}
            Some(3) => return unavailable(format!("{python:?}: {}", stderr.trim())),
            _ => panic!("{what}: {} --data-dir failed: {stderr}", script().display()),
        }
        let lists_dir = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
        assert!(
            lists_dir.is_dir(),
            "no lists folder at {}",
            lists_dir.display()
        );
        Some(Oracle {
            python: python.into(),
            lists_dir,
        })
    }

    /// Starts the script on `values`; `while_running` runs meanwhile (the reference takes tens
    /// of seconds to load the full set), then the answers are read. `extra` goes on the
    /// command line (`--check N`, `--lists a,b`).
    pub fn answer<T>(
        &self,
        values: &[String],
        extra: &[&str],
        while_running: impl FnOnce() -> T,
    ) -> (Vec<Answer>, T) {
        let mut child = Command::new(&self.python)
            .arg(script())
            .args(["-", "-"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = String::new();
        for value in values {
            input.push_str(&serde_json::to_string(value).unwrap());
            input.push('\n');
        }
        let mut stdin = child.stdin.take().unwrap();
        let writer = thread::spawn(move || stdin.write_all(input.as_bytes()));
        let mut stderr = child.stderr.take().unwrap();
        let log = thread::spawn(move || {
            let mut log = String::new();
            let _ = stderr.read_to_string(&mut log);
            log
        });
        let ours = while_running();
        let output = child.wait_with_output().unwrap();
        let written = writer.join().unwrap();
        let log = log.join().unwrap();
        eprint!("{log}");
        assert!(output.status.success(), "the reference failed: {log}");
        written.unwrap();
        let answers: Vec<Answer> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(answers.len(), values.len(), "one answer per value");
        (answers, ours)
    }
}
