//! The SQLite database's files on disk: owner-only, since they hold every object and the users'
//! password hashes.

use std::path::{Path, PathBuf};

use crate::error::{StoreError, StoreErrorKind};

/// The database holds every object and the users' password hashes, so it is owner-only (0600):
/// created with that mode before SQLite opens it (SQLite would create it 0644), and SQLite gives
/// its `-wal` and `-shm` files the database file's mode. A database found with a wider mode (one
/// created before this rule) is narrowed to 0600 with its `-wal` and `-shm`.
pub(super) fn protect_database_files(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let fail = |p: &Path, e: std::io::Error| {
            StoreError::from(StoreErrorKind::Config(format!("{}: {e}", p.display())))
        };
        // An empty file is an empty database to SQLite; an existing one is not truncated.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| fail(path, e))?;
        let mode = file
            .metadata()
            .map_err(|e| fail(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            let private = std::fs::Permissions::from_mode(0o600);
            file.set_permissions(private.clone())
                .map_err(|e| fail(path, e))?;
            for suffix in ["-wal", "-shm"] {
                let mut side = path.as_os_str().to_owned();
                side.push(suffix);
                let side = PathBuf::from(side);
                if side.exists() {
                    std::fs::set_permissions(&side, private.clone()).map_err(|e| fail(&side, e))?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod file_mode_tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt as _;

    use std::path::{Path, PathBuf};

    use crate::model::CollectionInfo;
    use crate::sqlite::SqliteStore;
    use crate::Store;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn side(path: &Path, suffix: &str) -> PathBuf {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    }

    async fn write_something(store: &SqliteStore) {
        store
            .put_collection(&CollectionInfo {
                id: "intel".into(),
                title: "Intelligence".into(),
                description: None,
            })
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_database_and_its_wal_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.db");
        let store = SqliteStore::open(&path).unwrap();
        write_something(&store).await;
        for file in [path.clone(), side(&path, "-wal"), side(&path, "-shm")] {
            assert!(file.exists(), "{} is written", file.display());
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_made_readable_to_others_is_narrowed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.db");
        let store = SqliteStore::open(&path).unwrap();
        write_something(&store).await;
        drop(store);
        let wide = std::fs::Permissions::from_mode(0o644);
        for file in [path.clone(), side(&path, "-wal"), side(&path, "-shm")] {
            if file.exists() {
                std::fs::set_permissions(&file, wide.clone()).unwrap();
            }
        }
        let store = SqliteStore::open(&path).unwrap();
        write_something(&store).await;
        for file in [path.clone(), side(&path, "-wal"), side(&path, "-shm")] {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
}
