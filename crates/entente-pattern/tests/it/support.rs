//! Finding the Python of the test virtualenv and running a helper script once over a JSON-lines file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The interpreter named by `ENTENTE_PYTHON` when it can import `module`. Otherwise fails under CI
/// and prints `SKIPPED <what>: <why>` elsewhere (returning `None`).
pub fn python_with(module: &str, what: &str) -> Option<PathBuf> {
    let why = match std::env::var_os("ENTENTE_PYTHON") {
        None => "ENTENTE_PYTHON is not set".to_owned(),
        Some(python) => {
            let ok = Command::new(&python)
                .args(["-c", &format!("import {module}")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if ok {
                return Some(PathBuf::from(python));
            }
            format!("{python:?} cannot import {module}")
        }
    };
    if std::env::var_os("CI").is_some() {
        panic!("{what} needs {module} in the Python of ENTENTE_PYTHON under CI: {why}");
    }
    eprintln!("SKIPPED {what}: {why}");
    None
}

/// Writes `lines` to a temporary file, runs `script` (in this crate's `tests/`) on it once and
/// returns its output lines.
pub fn run_script(python: &Path, script: &str, lines: &[String]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.jsonl");
    let output = dir.path().join("output.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let status = Command::new(python)
        .arg(&script)
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "{} failed: {status}", script.display());
    let text = std::fs::read_to_string(&output).unwrap();
    let answers: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(
        answers.len(),
        lines.len(),
        "{} answered a different number of lines",
        script.display()
    );
    answers
}
