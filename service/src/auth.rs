//! Writers' authorization: one bearer token, configured with
//! `civgrid serve --writer-token` (or `CIVGRID_WRITER_TOKEN`), until full
//! access control exists.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ServiceError;
use crate::state::AppState;

/// The writers' token, kept as its SHA-256 digest: digests are compared in
/// constant time, so timing reveals neither the token's bytes nor its length.
#[derive(Clone)]
pub struct WriterToken([u8; 32]);

impl std::fmt::Debug for WriterToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriterToken(…)")
    }
}

impl WriterToken {
    /// The token `token`; `None` when it is empty or blank.
    pub fn new(token: &str) -> Option<Self> {
        let token = token.trim();
        (!token.is_empty()).then(|| Self(Sha256::digest(token.as_bytes()).into()))
    }

    /// `true` when `presented` is the token (constant time).
    pub fn verify(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        self.0.ct_eq(&digest).into()
    }
}

/// Proof that a request carries the writers' token: a handler taking a
/// `Writer` argument is for writers only. Without a configured token every
/// write is refused (403); a missing or wrong token is a 401.
#[derive(Debug, Clone, Copy)]
pub struct Writer;

impl FromRequestParts<AppState> for Writer {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ServiceError> {
        let Some(token) = &state.config.writer_token else {
            return Err(ServiceError::Forbidden(
                "writes are disabled on this server: start it with `civgrid serve --writer-token TOKEN` (or CIVGRID_WRITER_TOKEN=TOKEN) and send `Authorization: Bearer TOKEN`".into(),
            ));
        };
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(header) = header else {
            return Err(ServiceError::Unauthorized(
                "writes need the header `Authorization: Bearer TOKEN` with the writers' token"
                    .into(),
            ));
        };
        let presented = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t);
        match presented {
            Some(t) if token.verify(t) => Ok(Self),
            Some(_) => Err(ServiceError::Unauthorized(
                "the bearer token is not the writers' token".into(),
            )),
            None => Err(ServiceError::Unauthorized(
                "the Authorization header must be `Bearer TOKEN`".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WriterToken;

    #[test]
    fn tokens_match_exactly() {
        assert!(WriterToken::new("  ").is_none());
        let t = WriterToken::new("s3cret").expect("a token");
        assert!(t.verify("s3cret"));
        assert!(!t.verify("s3cre"));
        assert!(!t.verify("s3cret!"));
        assert!(!t.verify(""));
        assert_eq!(format!("{t:?}"), "WriterToken(…)");
    }
}
