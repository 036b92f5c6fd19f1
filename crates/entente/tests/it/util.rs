//! Running the binary under test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The output of one run, decoded.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The repository root (so tests find the shipped `data/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `entente ARGS` from the repository root.
pub fn entente(args: &[&str]) -> Run {
    entente_in(&repo_root(), args)
}

/// Runs `entente ARGS` in `dir`.
pub fn entente_in(dir: &Path, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args(args)
        .current_dir(dir)
        .env_remove("ENTENTE_DATA")
        .output()
        .expect("the entente binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A TCP port free on loopback at the time of the call, for a node started later.
///
/// Taken below the kernel's ephemeral range (32768–60999 by default): a port from that range
/// can be handed, before the node binds it, to any outgoing connection or `:0` listener (the
/// nodes' own retries to a partner that is down, their admin listeners), and the node then
/// fails to start. Ports are handed out in turn from a random start, so two tests of this
/// process never get the same one and other processes rarely do.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let port = (LOW + NEXT.fetch_add(1, Ordering::SeqCst) % SPAN) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!(
        "no free TCP port on loopback between {LOW} and {}",
        LOW + SPAN
    )
}

/// Polls `ok` every 20 ms until it holds; fails the test after a minute.
pub fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "timed out waiting until {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Decodes a chunked HTTP/1.1 body; `None` when it is cut short or malformed.
pub fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size + 2..)?;
    }
}

/// Checks the modes of everything under a node's folder (or a folder of nodes), and returns the
/// secrets it found: every file that holds a secret (private keys, the node's key file, its
/// configuration, its database and WAL) is 0600, `root` and every folder holding a secret are
/// 0700, and nothing is writable by others. Certificates and the audit log (served to anyone on
/// the audit routes) are public and may be readable.
#[cfg(unix)]
pub fn assert_owner_only(root: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(root), 0o700, "{} is {:o}", root.display(), mode(root));
    let mut secrets = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(dir) = folders.pop() {
        let m = mode(&dir);
        assert_eq!(m & 0o022, 0, "{} is {m:o}", dir.display());
        let mut holds_secret = false;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            assert!(!kind.is_symlink(), "{} is a symbolic link", path.display());
            if kind.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_str().unwrap();
            let secret = name.ends_with(".key")
                || name == "node.keys"
                || name == "node.toml"
                || name.starts_with("node.db");
            let m = mode(&path);
            if secret {
                assert_eq!(m, 0o600, "{} is {m:o}", path.display());
                secrets.push(path);
                holds_secret = true;
            } else {
                assert_eq!(m & 0o022, 0, "{} is {m:o}", path.display());
            }
        }
        if holds_secret {
            assert_eq!(m, 0o700, "{} holds secrets and is {m:o}", dir.display());
        }
    }
    secrets.sort();
    secrets
}

/// Starts `entente ARGS` from the repository root, its output going to files in `dir`.
pub fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_entente"))
        .args(args)
        .current_dir(repo_root())
        .env_remove("ENTENTE_DATA")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap()
}
