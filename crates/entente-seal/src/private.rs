//! Files and folders that hold secrets: every private key, key file and node folder is written
//! through here, so a secret never exists, even for an instant, with a mode wider than its
//! owner's.

use std::io::Write as _;
use std::path::Path;

use crate::SealError;

/// What [`write_private`] does when the file is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Truncate and rewrite it (its mode narrowed to 0600 first).
    Replace,
    /// Refuse and leave it untouched (a node's identity is never overwritten by accident).
    Refuse,
}

/// Writes `bytes` to `path` readable and writable by the owner only (mode 0600).
///
/// A new file is created with mode 0600 from the start (never created wider and narrowed
/// afterwards). The path is opened with `O_NOFOLLOW`: a symbolic link at `path` is refused, so a
/// key cannot be written through a link planted to somewhere readable. Only a regular file is
/// written. With [`Existing::Replace`], a file already there with a wider mode is narrowed to
/// 0600 (on the open descriptor) before it is truncated and before anything is written to it;
/// with [`Existing::Refuse`] it is left as it is and an error returned. The data is fsynced.
pub fn write_private(path: &Path, bytes: &[u8], existing: Existing) -> Result<(), SealError> {
    let fail = |message: String| SealError::File {
        path: path.display().to_string(),
        message,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    match existing {
        Existing::Replace => options.create(true),
        Existing::Refuse => options.create_new(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path).map_err(|e| {
        if is_symlink(path) {
            fail("is a symbolic link; a private file is never written through one".into())
        } else if e.kind() == std::io::ErrorKind::AlreadyExists {
            fail("exists; it is not replaced".into())
        } else {
            fail(format!("cannot create: {e}"))
        }
    })?;
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot inspect: {e}")))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o7777 != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| fail(format!("cannot restrict to mode 0600: {e}")))?;
        }
    }
    // Truncated only now: what an existing file held was readable before, what is written next
    // never is.
    file.set_len(0)
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .map_err(|e| fail(format!("cannot write: {e}")))
}

/// Creates `dir` and its missing parents with mode 0700 (owner only): a node's folder holds its
/// keys and database. A folder that already exists keeps its mode: it was chosen by the operator
/// and may be shared (narrowing `/tmp` or a home folder would break other users); the files that
/// hold secrets inside it are owner-only whatever the folder's mode.
pub fn create_private_dir(dir: &Path) -> Result<(), SealError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| SealError::File {
        path: dir.display().to_string(),
        message: format!("cannot create: {e}"),
    })
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn a_new_file_is_created_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.key");
        write_private(&path, b"secret", Existing::Replace).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
    }

    #[test]
    fn a_symlink_at_the_path_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public.txt");
        std::fs::write(&target, "public").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("c.key");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        for existing in [Existing::Replace, Existing::Refuse] {
            let e = write_private(&link, b"secret", existing).unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{e}");
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "public");
        assert_eq!(mode(&target), 0o644);
        // A dangling link too: following it would create the target.
        let dangling = dir.path().join("d.key");
        std::os::unix::fs::symlink(dir.path().join("absent"), &dangling).unwrap();
        assert!(write_private(&dangling, b"secret", Existing::Replace).is_err());
        assert!(!dir.path().join("absent").exists());
    }

    #[test]
    fn an_existing_wide_file_ends_up_0600_or_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.key");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = write_private(&path, b"secret", Existing::Refuse).unwrap_err();
        assert!(e.to_string().contains("exists"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        write_private(&path, b"secret", Existing::Replace).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        // Shorter content leaves nothing of the old behind.
        write_private(&path, b"s", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"s");
    }

    #[test]
    fn a_folder_is_not_written_as_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_private(dir.path(), b"secret", Existing::Replace).is_err());
    }

    #[test]
    fn new_private_folders_are_0700_and_existing_ones_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("node/tls");
        create_private_dir(&nested).unwrap();
        assert_eq!(mode(&dir.path().join("node")), 0o700);
        assert_eq!(mode(&nested), 0o700);
        let wide = dir.path().join("wide");
        std::fs::create_dir(&wide).unwrap();
        std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&wide).unwrap();
        assert_eq!(mode(&wide), 0o755);
    }
}
