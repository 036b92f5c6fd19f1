//! Leases: a job that exactly one process of a node may do at a time.

use tokio::sync::watch;

/// A held lease. Its token grows with every acquisition, so writes fenced by it
/// ([`crate::Store::set_cursor_fenced`]) are refused once a later holder exists.
pub struct Lease {
    name: String,
    token: i64,
    /// Turns true when the process loses the lease (its database connection ended); `None`
    /// for a lease that cannot be lost (one process, SQLite).
    lost: Option<watch::Receiver<bool>>,
    /// Gives the lease back, on drop.
    release: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Lease {
    pub(crate) fn new(
        name: String,
        token: i64,
        lost: Option<watch::Receiver<bool>>,
        release: Option<Box<dyn FnOnce() + Send + Sync>>,
    ) -> Lease {
        Lease {
            name,
            token,
            lost,
            release,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fencing token of this acquisition.
    pub fn token(&self) -> i64 {
        self.token
    }

    /// Whether the lease is lost already.
    pub fn is_lost(&self) -> bool {
        self.lost.as_ref().is_some_and(|l| *l.borrow())
    }

    /// Completes when the lease is lost (never for a lease that cannot be).
    pub async fn lost(&self) {
        match &self.lost {
            Some(lost) => {
                let mut lost = lost.clone();
                // An error means the connection's watcher is gone: the lease is gone with it.
                let _ = lost.wait_for(|l| *l).await;
            }
            None => std::future::pending().await,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("name", &self.name)
            .field("token", &self.token)
            .field("lost", &self.is_lost())
            .finish()
    }
}
