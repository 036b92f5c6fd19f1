//! Response bodies kept as a list of pieces.
//!
//! A page of a thousand objects is most of a megabyte. Written into one buffer, it is an
//! allocation the allocator takes fresh from the system for every page (and faults in page by
//! page), then grows by copying. Written in pieces of [`PIECE`] bytes, it goes out as one frame
//! per piece, and each piece's buffer goes back to a small pool once sent, for the next answer
//! to write into memory already mapped.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Bytes a piece is filled to before the next one starts.
pub const PIECE: usize = 64 * 1024;
/// A piece's buffer: room for one more append past [`PIECE`] without growing (an object larger
/// than this grows it, and its buffer is not kept).
const BUFFER: usize = 2 * PIECE;
/// Buffers kept for reuse at most (16 MiB): two for each of 64 answers of 100 objects being
/// written or sent at once.
const POOLED: usize = 128;

static POOL: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

fn pooled_buffer() -> Vec<u8> {
    POOL.lock()
        .ok()
        .and_then(|mut pool| pool.pop())
        .unwrap_or_else(|| Vec::with_capacity(BUFFER))
}

/// A sent piece's buffer, back to the pool when the last reference to the piece goes.
struct Pooled(Vec<u8>);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if self.0.capacity() != BUFFER {
            return;
        }
        let mut buffer = std::mem::take(&mut self.0);
        buffer.clear();
        if let Ok(mut pool) = POOL.lock() {
            if pool.len() < POOLED {
                pool.push(buffer);
            }
        }
    }
}

fn piece(buffer: Vec<u8>) -> Bytes {
    Bytes::from_owner(Pooled(buffer))
}

/// A body written in pieces: cheap to clone (the pieces are shared).
#[derive(Clone, Default)]
pub struct Pieces(Arc<[Bytes]>);

impl Pieces {
    pub fn len(&self) -> usize {
        self.0.iter().map(Bytes::len).sum()
    }

    /// The whole body in one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        self.0.iter().flat_map(|p| p.iter().copied()).collect()
    }

    /// The body of an HTTP answer; its length is known, so it is sent with a `Content-Length`.
    pub fn into_body(self) -> axum::body::Body {
        axum::body::Body::new(PiecesBody {
            left: self.len() as u64,
            pieces: self,
            next: 0,
        })
    }
}

impl From<Vec<u8>> for Pieces {
    fn from(bytes: Vec<u8>) -> Pieces {
        Pieces(Arc::from([Bytes::from(bytes)]))
    }
}

/// Writes bytes into pieces of about [`PIECE`] bytes.
#[derive(Default)]
pub struct PieceWriter {
    done: Vec<Bytes>,
    current: Vec<u8>,
}

impl PieceWriter {
    pub fn new() -> PieceWriter {
        PieceWriter {
            done: Vec::new(),
            current: pooled_buffer(),
        }
    }

    /// The buffer to append to; call [`PieceWriter::written`] after each append.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.current
    }

    /// Starts a new piece once the current one is full (an append may overrun it: a piece is
    /// never split inside what one append wrote).
    pub fn written(&mut self) {
        if self.current.len() >= PIECE {
            let full = std::mem::replace(&mut self.current, pooled_buffer());
            self.done.push(piece(full));
        }
    }

    pub fn finish(mut self) -> Pieces {
        let last = std::mem::take(&mut self.current);
        if !last.is_empty() {
            self.done.push(piece(last));
        }
        Pieces(Arc::from(std::mem::take(&mut self.done)))
    }
}

impl Drop for PieceWriter {
    /// An answer abandoned half-written gives its buffer back too.
    fn drop(&mut self) {
        drop(Pooled(std::mem::take(&mut self.current)));
    }
}

struct PiecesBody {
    pieces: Pieces,
    next: usize,
    left: u64,
}

impl Body for PiecesBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let Some(piece) = this.pieces.0.get(this.next).cloned() else {
            return Poll::Ready(None);
        };
        this.next += 1;
        this.left -= piece.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn pieces_are_sent_whole_and_in_order() {
        let mut w = PieceWriter::new();
        let mut expected = Vec::new();
        for i in 0..50_000u32 {
            let text = format!("{i},");
            w.buffer().extend_from_slice(text.as_bytes());
            w.written();
            expected.extend_from_slice(text.as_bytes());
        }
        let pieces = w.finish();
        assert!(pieces.0.len() > 2, "{} pieces", pieces.0.len());
        assert_eq!(pieces.len(), expected.len());
        assert_eq!(pieces.to_vec(), expected);
        let body = pieces.clone().into_body();
        assert_eq!(body.size_hint().exact(), Some(expected.len() as u64));
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(collected.as_ref(), expected.as_slice());
        let empty = PieceWriter::new().finish().into_body();
        assert!(empty.is_end_stream());
        // Sent pieces' buffers are kept for the next answers, emptied.
        drop(pieces);
        let reused = pooled_buffer();
        assert!(reused.is_empty() && reused.capacity() == BUFFER);
    }
}
