//! Key files of an audit log and the inputs of its command line: generating a log signing key
//! (the private `FILE`, mode 0600, and the public `FILE.vkey`), opening a log with its key file,
//! reading a verifier key given inline or in a file, reading a batch of events, and verifying
//! checkpoint files and proof documents without the log ([`verify_files`]).

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use entente_types::{ErrorCode, NationCode};

use crate::report::Verified;
use crate::{
    origin_for, parse_skey, skey, vkey, AuditError, AuditEvent, AuditLog, Checkpoint,
    ConsistencyProof, InclusionProof, NoteVerifier,
};

/// What can go wrong with key files and command-line inputs of the log.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file is already there and replacing it was not asked for.
    #[error(
        "{} exists; give --force to replace the key (checkpoints signed with it will no longer \
         verify against the new vkey)",
        path.display()
    )]
    Exists { path: PathBuf },
    /// A file that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The private key file could not be written safely.
    #[error(transparent)]
    Private(#[from] entente_seal::SealError),
    /// The operating system's random source failed.
    #[error("reading the system's random source for the signing key: {0}")]
    Random(String),
    /// Events that are not JSON or not audit events (`index` counts from 0 within a batch).
    #[error("--event: {message}")]
    Events { message: String },
    /// An inclusion proof document without its entry, and no entry given beside it.
    #[error("{} carries no entry; give --leaf FILE", proof.display())]
    NoEntry { proof: PathBuf },
    /// A key, log or entry that the log itself refuses.
    #[error("{}: {source}", what)]
    Audit {
        what: String,
        #[source]
        source: Box<AuditError>,
    },
}

impl KeyError {
    /// The transport-neutral class of the error.
    pub fn code(&self) -> ErrorCode {
        match self {
            KeyError::Exists { .. } | KeyError::Events { .. } | KeyError::NoEntry { .. } => {
                ErrorCode::InvalidInput
            }
            KeyError::Io { .. } | KeyError::Private(_) | KeyError::Random(_) => ErrorCode::Internal,
            KeyError::Audit { source, .. } => source.code(),
        }
    }

    /// The log's own error, for callers that tell failed verifications apart.
    pub fn audit(&self) -> Option<&AuditError> {
        match self {
            KeyError::Audit { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// A freshly written key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    pub private: PathBuf,
    pub public: PathBuf,
    /// The verifier key (`entente.audit/<NATION>+<id>+<key>`), as written to `public`.
    pub vkey: String,
}

/// The public key file next to a private key file: `FILE.vkey`.
pub fn vkey_path(private: &Path) -> PathBuf {
    PathBuf::from(format!("{}.vkey", private.display()))
}

/// Generates a signing key for `nation`'s log from the operating system's generator and writes
/// `out` (mode 0600) and `out.vkey`. Refuses to replace either unless `force`.
pub fn generate(nation: NationCode, out: &Path, force: bool) -> Result<KeyFiles, KeyError> {
    let mut seed = [0u8; 32];
    rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, &mut seed)
        .map_err(|e| KeyError::Random(e.to_string()))?;
    write_key_pair(nation, &SigningKey::from_bytes(&seed), out, force)
}

/// Writes a given key as `nation`'s log key (the deterministic half of [`generate`]).
pub fn write_key_pair(
    nation: NationCode,
    key: &SigningKey,
    out: &Path,
    force: bool,
) -> Result<KeyFiles, KeyError> {
    let public = vkey_path(out);
    if !force && (out.exists() || public.exists()) {
        return Err(KeyError::Exists {
            path: out.to_path_buf(),
        });
    }
    let name = origin_for(nation.as_str());
    let private_text = format!("{}\n", skey(&name, key));
    entente_seal::write_private(
        out,
        private_text.as_bytes(),
        entente_seal::Existing::Replace,
    )?;
    let vkey = vkey(&name, &key.verifying_key());
    std::fs::write(&public, format!("{vkey}\n")).map_err(|source| KeyError::Io {
        path: public.clone(),
        source,
    })?;
    Ok(KeyFiles {
        private: out.to_path_buf(),
        public,
        vkey,
    })
}

fn read_text(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Opens the log in `dir` for appending and signing with the key in `key_file`.
pub fn open_signed(dir: &Path, key_file: &Path) -> Result<AuditLog, KeyError> {
    let (name, key) = parse_skey(&read_text(key_file)?).map_err(|source| KeyError::Audit {
        what: key_file.display().to_string(),
        source: Box::new(source),
    })?;
    AuditLog::open(dir, &name, key).map_err(|source| KeyError::Audit {
        what: dir.display().to_string(),
        source: Box::new(source),
    })
}

/// A verifier key given as its text (`entente.audit/FRA+<id>+<key>`) or as a file holding it.
pub fn read_verifier(text_or_file: &str) -> Result<NoteVerifier, KeyError> {
    let path = Path::new(text_or_file);
    let text = if path.is_file() {
        read_text(path)?
    } else {
        text_or_file.to_owned()
    };
    NoteVerifier::from_vkey(text.trim()).map_err(|source| KeyError::Audit {
        what: "--vkey".into(),
        source: Box::new(source),
    })
}

/// Events given as one JSON object or an array of them.
pub fn parse_events(text: &str) -> Result<Vec<AuditEvent>, KeyError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| KeyError::Events {
        message: format!("not JSON: {e}"),
    })?;
    let values = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<AuditEvent>(v).map_err(|e| KeyError::Events {
                message: format!("event {i}: {e}"),
            })
        })
        .collect()
}

/// The files a verification without the log reads: a signed checkpoint, and a proof document
/// (an inclusion proof, with its entry in `leaf` if the document lacks it, or a consistency proof
/// from `old_checkpoint`).
#[derive(Debug, Clone, Copy)]
pub struct ProofFiles<'a> {
    pub checkpoint: &'a Path,
    pub proof: Option<&'a Path>,
    pub leaf: Option<&'a Path>,
    pub old_checkpoint: Option<&'a Path>,
}

/// A checkpoint file, its signature verified with `verifier`.
pub fn read_checkpoint(verifier: &NoteVerifier, path: &Path) -> Result<Checkpoint, KeyError> {
    verifier
        .verify(&read_text(path)?)
        .map_err(|e| refused(format!("checkpoint {}", path.display()), e))
}

/// Verifies the files in order, telling `step` each thing established; the first failure ends
/// it (a signature or proof that does not verify is an [`AuditError`] under [`KeyError::Audit`]).
pub fn verify_files(
    verifier: &NoteVerifier,
    files: ProofFiles<'_>,
    mut step: impl FnMut(Verified),
) -> Result<(), KeyError> {
    let cp = read_checkpoint(verifier, files.checkpoint)?;
    step(Verified::Checkpoint {
        source: files.checkpoint.display().to_string(),
        remote: false,
        checkpoint: cp.clone(),
    });
    let Some(proof_path) = files.proof else {
        return Ok(());
    };
    let in_file = |e| refused(proof_path.display().to_string(), e);
    let bytes = read_bytes(proof_path)?;
    match files.old_checkpoint {
        None => {
            let mut proof = InclusionProof::from_json(&bytes).map_err(in_file)?;
            if let Some(leaf) = files.leaf {
                let event = AuditEvent::from_json(&read_bytes(leaf)?)
                    .map_err(|e| refused(leaf.display().to_string(), e))?;
                proof.leaf = Some(event);
            } else if proof.leaf.is_none() {
                let proof = proof_path.to_path_buf();
                return Err(KeyError::NoEntry { proof });
            }
            proof.verify_against(&cp).map_err(in_file)?;
            let (index, size) = (proof.index, proof.size);
            step(Verified::Inclusion {
                index,
                size,
                entry: None,
            });
        }
        Some(old_path) => {
            let old = read_checkpoint(verifier, old_path)?;
            let proof = ConsistencyProof::from_json(&bytes).map_err(in_file)?;
            proof.verify_between(&old, &cp).map_err(in_file)?;
            step(Verified::consistency(old.size, cp.size));
        }
    }
    Ok(())
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn refused(what: String, source: AuditError) -> KeyError {
    KeyError::Audit {
        what,
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fra() -> NationCode {
        "FRA".parse().unwrap()
    }

    #[test]
    fn a_key_pair_is_written_and_not_silently_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fra.key");
        let files = generate(fra(), &out, false).unwrap();
        assert!(
            files.vkey.starts_with("entente.audit/FRA+"),
            "{}",
            files.vkey
        );
        assert_eq!(
            std::fs::read_to_string(&files.public).unwrap(),
            format!("{}\n", files.vkey)
        );
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let err = generate(fra(), &out, false).unwrap_err();
        assert!(matches!(err, KeyError::Exists { .. }));
        assert!(err.to_string().contains("--force"));
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        let again = generate(fra(), &out, true).unwrap();
        assert_ne!(again.vkey, files.vkey);
    }

    #[test]
    fn the_written_key_opens_a_log_and_its_vkey_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("k");
        let files = write_key_pair(fra(), &SigningKey::from_bytes(&[7; 32]), &out, false).unwrap();
        let log = open_signed(&dir.path().join("log"), &out).unwrap();
        assert_eq!(log.vkey(), files.vkey);
        let verifier = read_verifier(files.public.to_str().unwrap()).unwrap();
        let note = log.checkpoint().unwrap().note;
        assert!(verifier.verify(&note).is_ok());
        assert!(read_verifier(&files.vkey).is_ok());
    }

    #[test]
    fn bad_inputs_name_what_is_wrong() {
        let err = read_verifier("not a key").unwrap_err();
        assert!(err.to_string().starts_with("--vkey: "), "{err}");
        let err =
            open_signed(Path::new("/nonexistent/log"), Path::new("/nonexistent/k")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/k"), "{err}");
        let err = parse_events("{").unwrap_err();
        assert!(err.to_string().starts_with("--event: not JSON"), "{err}");
        let err = parse_events("[{}]").unwrap_err();
        assert!(err.to_string().starts_with("--event: event 0: "), "{err}");
        assert_eq!(parse_events("[]").unwrap(), Vec::new());
    }
}
