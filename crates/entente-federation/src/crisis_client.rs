//! A client of a node's crisis room routes (`/api/crisis/rooms`), as one of its users (a bearer
//! token): what `entente crisis …` calls.

use std::path::Path;
use std::time::Duration;

use entente_crisis::{OpenRequest, Room, RoomDetail, RoomList};

use crate::audit_client::client_of;
use crate::client::HttpClient;
use crate::FederationError;

/// How long one request may take.
const CRISIS_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One node's crisis routes, reached at a base URL as the user a token stands for.
pub struct CrisisClient {
    url: String,
    http: HttpClient,
}

impl CrisisClient {
    /// A client of the node at `url` (HTTPS trusting only the CA certificates in `ca`), sending
    /// `token` as a bearer token.
    pub fn new(url: &str, ca: Option<&Path>, token: &str) -> Result<CrisisClient, FederationError> {
        Ok(CrisisClient {
            url: url.trim_end_matches('/').to_owned(),
            http: client_of(url, ca, CRISIS_REQUEST_TIMEOUT)?.with_bearer(token),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: hyper::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, FederationError> {
        let fail = |message: String| FederationError::Remote {
            url: self.url.clone(),
            message,
        };
        let (status, answer) = self
            .http
            .request(method.clone(), path, body)
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !status.is_success() {
            // The node's error body is TAXII's: its title is the class of the error, its
            // description says what is wrong (the field, the right, the closest clause).
            let body = serde_json::from_slice::<serde_json::Value>(&answer).ok();
            let part = |key: &str| {
                body.as_ref()
                    .and_then(|v| v.get(key).and_then(|t| t.as_str()).map(str::to_owned))
            };
            let title =
                part("title").unwrap_or_else(|| String::from_utf8_lossy(&answer).trim().to_owned());
            let message = match part("description") {
                Some(why) => format!("{method} {path}: {title}: {why}"),
                None => format!("{method} {path}: {title}"),
            };
            return Err(FederationError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&answer).map_err(|e| fail(format!("{method} {path}: {e}")))
    }

    /// The rooms the user may see.
    pub async fn list(&self) -> Result<RoomList, FederationError> {
        self.call(hyper::Method::GET, "/api/crisis/rooms", Vec::new())
            .await
    }

    /// Opens a room.
    pub async fn open(&self, request: &OpenRequest) -> Result<Room, FederationError> {
        let body =
            serde_json::to_vec(request).map_err(|e| FederationError::config(e.to_string()))?;
        self.call(hyper::Method::POST, "/api/crisis/rooms", body)
            .await
    }

    /// One room (collection, descriptor id or UUID) and its participants' changes since.
    pub async fn show(&self, room: &str) -> Result<RoomDetail, FederationError> {
        self.call(
            hyper::Method::GET,
            &format!("/api/crisis/rooms/{room}"),
            Vec::new(),
        )
        .await
    }

    /// Closes a room.
    pub async fn close(&self, room: &str) -> Result<Room, FederationError> {
        self.call(
            hyper::Method::POST,
            &format!("/api/crisis/rooms/{room}/close"),
            Vec::new(),
        )
        .await
    }
}
