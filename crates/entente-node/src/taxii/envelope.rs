//! What a page answers: the envelope written as objects are released ([`EnvelopeWriter`]), what
//! the page was ([`PageInfo`]: counts, `more`, `next`, the date headers), and TAXII JSON answers.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entente_store::{format_added, StoredObject};
use serde::Serialize;

use super::{error, DATE_FIRST, DATE_LAST};
use crate::access::key::write_relabelled;
use crate::access::Served;
use crate::body::{PieceWriter, Pieces};
use crate::error::{NodeError, NodeErrorKind};
use crate::MEDIA_TYPE_TAXII;

/// A TAXII JSON answer.
pub(super) fn taxii<T: Serialize>(
    status: StatusCode,
    body: &T,
    headers: &[(&str, String)],
) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return error(NodeErrorKind::Internal, e.to_string()).into_response(),
    };
    let response = (status, bytes).into_response();
    with_taxii_headers(response, headers)
}

/// What a page of released objects was: how many, whether more remain, and the first and last
/// served versions (for the date headers and the `next` token).
#[derive(Default)]
pub(super) struct PageInfo {
    pub(super) count: usize,
    pub(super) more: bool,
    /// `(seq, added_us)` of the first and of the last object served.
    pub(super) first: Option<(i64, i64)>,
    pub(super) last: Option<(i64, i64)>,
    /// Versions skipped because the user may not see them.
    pub(super) withheld: u64,
}

impl PageInfo {
    pub(super) fn date_headers(&self) -> Vec<(&'static str, String)> {
        match (self.first, self.last) {
            (Some((_, f)), Some((_, l))) => {
                vec![(DATE_FIRST, format_added(f)), (DATE_LAST, format_added(l))]
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn next(&self) -> Option<String> {
        self.more
            .then(|| self.last.map(|(seq, _)| seq.to_string()))
            .flatten()
    }
}

/// A TAXII envelope written as its objects are released: `{"objects":[…],"more":…,"next":…}`
/// (`{}` when empty, as the `Envelope` type serializes it), in pieces ([`crate::body`]).
pub(super) struct EnvelopeWriter {
    body: PieceWriter,
    objects: usize,
    failed: Option<serde_json::Error>,
}

impl EnvelopeWriter {
    pub(super) fn new() -> EnvelopeWriter {
        let mut body = PieceWriter::new();
        body.buffer().extend_from_slice(br#"{"objects":["#);
        EnvelopeWriter {
            body,
            objects: 0,
            failed: None,
        }
    }

    /// An object as served: stored text (valid JSON, checked when it was read) is copied as is.
    pub(super) fn push_served(&mut self, object: &Served<'_>) {
        match object {
            Served::Stored(json) => {
                self.separate();
                self.body.buffer().extend_from_slice(json.as_bytes());
                self.body.written();
            }
            Served::Relabelled {
                json,
                spans,
                refs,
                portions,
            } => {
                self.separate();
                let out = self.body.buffer();
                let at = out.len();
                if !write_relabelled(out, json, spans, refs, portions.as_deref()) {
                    // The spans were read from this text: a missing one is a bug, not input.
                    out.truncate(at);
                    self.failed.get_or_insert(serde::ser::Error::custom(
                        "a relabelled object lost its markings",
                    ));
                }
                self.body.written();
            }
            Served::Text(text) => {
                self.separate();
                self.body.buffer().extend_from_slice(text.as_bytes());
                self.body.written();
            }
        }
    }

    fn separate(&mut self) {
        if self.objects > 0 {
            self.body.buffer().push(b',');
        }
        self.objects += 1;
    }

    pub(super) fn finish(mut self, info: &PageInfo) -> Result<Pieces, NodeError> {
        if let Some(e) = self.failed {
            return Err(error(NodeErrorKind::Internal, e.to_string()));
        }
        if info.count == 0 {
            return Ok(Pieces::from(b"{}".to_vec()));
        }
        let out = self.body.buffer();
        out.push(b']');
        if info.more {
            out.extend_from_slice(br#","more":true"#);
        }
        if let Some(next) = info.next() {
            out.extend_from_slice(br#","next":"#);
            serde_json::to_writer(&mut *out, &next)
                .map_err(|e| error(NodeErrorKind::Internal, e.to_string()))?;
        }
        out.push(b'}');
        Ok(self.body.finish())
    }
}

/// A TAXII answer whose body is already serialized.
pub(super) fn taxii_bytes(body: Pieces, headers: &[(&str, String)]) -> Response {
    let response = (StatusCode::OK, body.into_body()).into_response();
    with_taxii_headers(response, headers)
}

/// `response` as a TAXII answer: its media type, and `headers` (those that are not valid
/// header names or values are left out).
fn with_taxii_headers(mut response: Response, headers: &[(&str, String)]) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(MEDIA_TYPE_TAXII),
    );
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    }
    response
}

pub(super) fn date_headers(
    first: Option<&StoredObject>,
    last: Option<&StoredObject>,
) -> Vec<(&'static str, String)> {
    match (first, last) {
        (Some(f), Some(l)) => vec![(DATE_FIRST, f.date_added()), (DATE_LAST, l.date_added())],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::Value;

    use super::*;

    #[test]
    fn envelopes_are_written_as_the_envelope_type_serializes() {
        let objects = [
            serde_json::json!({"id": "a"}),
            serde_json::json!({"id": "b"}),
        ];
        let page = |count, more, last| PageInfo {
            count,
            more,
            first: Some((1, 10)),
            last,
            withheld: 0,
        };
        // Empty: `{}`.
        let empty = EnvelopeWriter::new().finish(&PageInfo::default()).unwrap();
        assert_eq!(empty.to_vec(), b"{}");
        // A last page: no `more`, no `next`.
        let mut w = EnvelopeWriter::new();
        objects
            .iter()
            .for_each(|o| w.push_served(&Served::Text(o.to_string().into())));
        let body = w.finish(&page(2, false, Some((2, 20)))).unwrap().to_vec();
        let parsed: entente_stix::taxii::Envelope = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed.objects, objects.to_vec());
        assert!(!parsed.more && parsed.next.is_none());
        // More remain: `next` is the last `seq` served.
        let mut w = EnvelopeWriter::new();
        objects
            .iter()
            .for_each(|o| w.push_served(&Served::Text(o.to_string().into())));
        let body = w.finish(&page(2, true, Some((7, 70)))).unwrap().to_vec();
        let parsed: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["more"], true);
        assert_eq!(parsed["next"], "7");
        assert_eq!(parsed["objects"].as_array().unwrap().len(), 2);
        let headers = page(2, true, Some((7, 70))).date_headers();
        assert_eq!(headers[0], (DATE_FIRST, format_added(10)));
        assert_eq!(headers[1], (DATE_LAST, format_added(70)));
    }
}
