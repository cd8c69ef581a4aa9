//! Access control: who may read and who may write.
//!
//! Writers present `Authorization: Bearer TOKEN`. Tokens come from an access
//! file (`civgrid serve --access FILE`, see [`Access`]) that keeps only
//! their SHA-256 digests, each with a name (the audit log's actor) and a
//! [`Role`]; `--writer-token` adds one admin token named `writer`. Reads
//! are open, or need any valid token when the file says `reads = "token"`.
//! Even on open reads, people's names and phones (grid workers and
//! leaders) are given only to a valid token of any role ([`Reader`]).
//!
//! A handler states what it needs by its argument: [`Writer<Planning>`]
//! for grid edits, components and the grid edit log, [`Writer<Dispatch>`]
//! for facilities and hazards, [`Writer`] (admin) for the rest, and
//! [`Reader`] where it serves people.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::path::Path;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ServiceError;
use crate::ogc::People;
use crate::state::AppState;
use crate::store::Actor;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Edits household grids and components, and names grid workers (规划/网格管理).
    Planner,
    /// Writes facilities and hazards (应急/指挥中心).
    Dispatcher,
    /// Everything.
    Admin,
}

impl Role {
    /// The role's name in access files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Planner => "planner",
            Self::Dispatcher => "dispatcher",
            Self::Admin => "admin",
        }
    }

    /// `true` when this role may do what `needed` may.
    pub fn grants(self, needed: Role) -> bool {
        self == Self::Admin || self == needed
    }

    /// The roles that grant this one, for messages: `planner or admin`,
    /// `admin`.
    pub fn granted_by(self) -> &'static str {
        match self {
            Self::Planner => "planner or admin",
            Self::Dispatcher => "dispatcher or admin",
            Self::Admin => "admin",
        }
    }
}

/// A SHA-256 digest of a token, compared in constant time so that timing
/// reveals neither the token's bytes nor its length.
#[derive(Clone, Copy)]
struct Digest32([u8; 32]);

impl Digest32 {
    fn of(token: &str) -> Self {
        Self(Sha256::digest(token.trim().as_bytes()).into())
    }

    fn matches(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// The writers' token of `--writer-token`, kept as its digest: an admin
/// token named `writer`.
#[derive(Clone)]
pub struct WriterToken(Digest32);

impl std::fmt::Debug for WriterToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriterToken(…)")
    }
}

impl WriterToken {
    /// The token `token`; `None` when it is empty or blank.
    pub fn new(token: &str) -> Option<Self> {
        (!token.trim().is_empty()).then(|| Self(Digest32::of(token)))
    }

    /// `true` when `presented` is the token (constant time).
    pub fn verify(&self, presented: &str) -> bool {
        self.0.matches(&Digest32::of(presented))
    }
}

/// Whether reads need a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reads {
    /// Anyone may read (the default).
    #[default]
    Open,
    /// Reads need a valid token of any role.
    Token,
}

/// One token of an access file.
#[derive(Clone)]
struct Entry {
    name: String,
    role: Role,
    digest: Digest32,
}

/// The access settings: whether reads are open, and the tokens (as
/// digests) with their names and roles. The file (TOML):
///
/// ```toml
/// reads = "open"            # or "token"
///
/// [[token]]
/// name = "xihu-planner"     # the actor in the audit log
/// role = "planner"          # planner | dispatcher | admin
/// sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
/// ```
///
/// `civgrid token --name N --role R` makes a token and prints its entry.
#[derive(Clone, Default)]
pub struct Access {
    /// Whether reads need a token.
    pub reads: Reads,
    tokens: Vec<Entry>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("reads", &self.reads)
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

/// Why an access file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown field or value (the
    /// message names the line).
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A token entry is wrong.
    #[error("{path}:{line}: token {index} ({name:?}): {reason}")]
    Token {
        /// The file.
        path: String,
        /// The line of the value at fault, from 1.
        line: usize,
        /// The entry's place in the file, from 1.
        index: usize,
        /// The entry's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessFile {
    #[serde(default)]
    reads: Reads,
    #[serde(default)]
    token: Vec<TokenFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    name: toml::Spanned<String>,
    role: Role,
    sha256: toml::Spanned<String>,
}

impl Access {
    /// Reads an access file.
    ///
    /// # Errors
    /// [`AccessError`] naming the line or the token entry at fault.
    pub fn read(path: &Path) -> Result<Self, AccessError> {
        let text = std::fs::read_to_string(path).map_err(|source| AccessError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses the text of an access file (`path` names it in errors).
    ///
    /// # Errors
    /// [`AccessError`] naming the line or the token entry at fault.
    pub fn parse(text: &str, path: &str) -> Result<Self, AccessError> {
        let file: AccessFile = toml::from_str(text).map_err(|e| AccessError::Syntax {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let mut names = HashSet::new();
        let mut digests = HashSet::new();
        let mut tokens = Vec::with_capacity(file.token.len());
        let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
        for (i, t) in file.token.into_iter().enumerate() {
            let name = t.name.get_ref();
            let fail = |at: usize, reason: String| AccessError::Token {
                path: path.to_owned(),
                line: line_of(at),
                index: i + 1,
                name: name.clone(),
                reason,
            };
            let name_at = t.name.span().start;
            if name.trim().is_empty() {
                return Err(fail(name_at, "the name is empty".into()));
            }
            let digest =
                parse_hex(t.sha256.get_ref()).map_err(|why| fail(t.sha256.span().start, why))?;
            if !names.insert(name.clone()) {
                return Err(fail(name_at, "the name is given twice".into()));
            }
            if !digests.insert(digest) {
                return Err(fail(
                    t.sha256.span().start,
                    "the same token is given twice".into(),
                ));
            }
            tokens.push(Entry {
                name: t.name.into_inner(),
                role: t.role,
                digest: Digest32(digest),
            });
        }
        Ok(Self {
            reads: file.reads,
            tokens,
        })
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// `true` when the file names no token.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The caller whose token is `presented`. Every entry is compared, so
    /// that timing does not tell which one matched.
    fn identify(&self, presented: &str) -> Option<Caller> {
        let digest = Digest32::of(presented);
        let mut found = None;
        for e in &self.tokens {
            if e.digest.matches(&digest) && found.is_none() {
                found = Some(Caller {
                    name: e.name.clone(),
                    role: e.role,
                });
            }
        }
        found
    }
}

/// The 32 bytes of `s`, which must be exactly 64 hexadecimal digits
/// (either case): no sign, no space, no `0x`. The reason otherwise.
fn parse_hex(s: &str) -> Result<[u8; 32], String> {
    let expected = "sha256 must be exactly 64 hexadecimal digits (0-9, a-f: the SHA-256 of the token, as `civgrid token` prints it)";
    if let Some((at, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "{expected}; found {s:?}, whose character {} is {c:?}",
            at + 1
        ));
    }
    if s.len() != 64 {
        return Err(format!("{expected}; found {} digits in {s:?}", s.len()));
    }
    let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        *o = digit(pair[0]) << 4 | digit(pair[1]);
    }
    Ok(out)
}

/// The lowercase hex SHA-256 of `token`, as an access file keeps it.
pub fn token_digest(token: &str) -> String {
    hex(&Digest32::of(token).0)
}

/// `bytes` as lowercase hex digits.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Who sent a request: a token's name and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name (the actor in the audit log).
    pub name: String,
    /// What it may do.
    pub role: Role,
}

impl Caller {
    /// The caller of a request, from its bearer token: `Ok(None)` without
    /// an `Authorization` header.
    ///
    /// # Errors
    /// 401 for a malformed header or an unknown token.
    fn of(parts: &Parts, state: &AppState) -> Result<Option<Self>, ServiceError> {
        let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let presented = header
            .to_str()
            .ok()
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t)
            .ok_or_else(|| {
                ServiceError::Unauthorized("the Authorization header must be `Bearer TOKEN`".into())
            })?;
        let config = &state.config;
        if config
            .writer_token
            .as_ref()
            .is_some_and(|t| t.verify(presented))
        {
            return Ok(Some(Self {
                name: "writer".into(),
                role: Role::Admin,
            }));
        }
        config
            .access
            .identify(presented)
            .map(Some)
            .ok_or_else(|| ServiceError::Unauthorized("the bearer token is not known".into()))
    }
}

/// What a [`Writer`] must be allowed: a marker type naming a role.
pub trait Permission: Send + Sync + 'static {
    /// The role needed (admin may do everything).
    const ROLE: Role;
}

/// Grid edits, grid workers, components and the grid edit log: planners.
#[derive(Debug)]
pub enum Planning {}
impl Permission for Planning {
    const ROLE: Role = Role::Planner;
}

/// Facilities and hazards: dispatchers.
#[derive(Debug)]
pub enum Dispatch {}
impl Permission for Dispatch {
    const ROLE: Role = Role::Dispatcher;
}

/// Everything else (the audit log, imports): admins.
#[derive(Debug)]
pub enum Administration {}
impl Permission for Administration {
    const ROLE: Role = Role::Admin;
}

/// Proof that a request carries a token whose role grants `P`: a handler
/// taking a `Writer<P>` argument runs only for those callers (every write,
/// and the reads that need a role: the grid edit log, the audit log).
/// Without any configured token it is refused (403); a missing or unknown
/// token is a 401, a known one of the wrong role a 403. Each refusal names
/// the action in words (the operation's `action` in
/// [`crate::openapi::OPERATIONS`]) and the role it needs.
#[derive(Debug)]
pub struct Writer<P: Permission = Administration> {
    /// Who is writing.
    pub caller: Caller,
    permission: PhantomData<P>,
}

impl<P: Permission> Writer<P> {
    /// The writer as the store's audit log names it.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.caller.name.clone(),
            role: self.caller.role.name().to_owned(),
        }
    }
}

/// What a request does, in words ("adding a facility"), from the table of
/// operations by its method and route.
fn action(parts: &Parts) -> &'static str {
    parts
        .extensions
        .get::<MatchedPath>()
        .and_then(|path| crate::openapi::action(parts.method.as_str(), path.as_str()))
        .unwrap_or("this request")
}

/// The refusal of a request that needs `role`, by what `caller` is.
fn refusal(action: &str, role: Role, caller: Option<&Caller>) -> ServiceError {
    let needs = format!("{action} needs a token with the role {}", role.granted_by());
    match caller {
        None => ServiceError::Unauthorized(format!(
            "{needs}: send it as the header `Authorization: Bearer TOKEN`"
        )),
        Some(c) => ServiceError::Forbidden(format!(
            "{needs}; the token {:?} has the role {}",
            c.name,
            c.role.name()
        )),
    }
}

impl<P: Permission> FromRequestParts<AppState> for Writer<P> {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ServiceError> {
        let action = action(parts);
        if state.config.writer_token.is_none() && state.config.access.is_empty() {
            return Err(ServiceError::Forbidden(format!(
                "{action} needs a token with the role {}, and this server has none: start it with `civgrid serve --access FILE` (tokens with roles) or `--writer-token TOKEN`, and send `Authorization: Bearer TOKEN`",
                P::ROLE.granted_by()
            )));
        }
        let caller = Caller::of(parts, state)?;
        match caller {
            Some(caller) if caller.role.grants(P::ROLE) => Ok(Self {
                caller,
                permission: PhantomData,
            }),
            other => Err(refusal(action, P::ROLE, other.as_ref())),
        }
    }
}

/// Who reads: the caller of a valid token, or anyone. A handler serving
/// people's names and phones (grid workers and leaders) takes a `Reader`
/// and shows them only to a token of any role ([`Reader::people`]); an
/// unknown token is a 401, like on every route.
#[derive(Debug)]
pub struct Reader {
    /// The caller, when the request carries a valid token.
    pub caller: Option<Caller>,
}

impl Reader {
    /// Whether this reader may see people's names and phones.
    pub fn people(&self) -> People {
        if self.caller.is_some() {
            People::Shown
        } else {
            People::Withheld
        }
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ServiceError> {
        Ok(Self {
            caller: Caller::of(parts, state)?,
        })
    }
}

/// Middleware over the read routes: when reads need a token, a request
/// without a valid one is answered 401.
pub async fn guard_reads(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.config.access.reads == Reads::Token {
        let (parts, body) = request.into_parts();
        match Caller::of(&parts, &state) {
            Ok(Some(_)) => next.run(Request::from_parts(parts, body)).await,
            Ok(None) => ServiceError::Unauthorized(
                "reads on this server need the header `Authorization: Bearer TOKEN`".into(),
            )
            .into_response(),
            Err(e) => e.into_response(),
        }
    } else {
        next.run(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::{token_digest, Access, AccessError, Reads, Role, WriterToken};

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

    #[test]
    fn digest_is_sha256_hex() {
        // sha256("password"), from any reference implementation.
        assert_eq!(
            token_digest("password"),
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
        );
    }

    #[test]
    fn access_files_name_their_faults() {
        let good = format!(
            "reads = \"token\"\n[[token]]\nname = \"p\"\nrole = \"planner\"\nsha256 = \"{}\"\n[[token]]\nname = \"d\"\nrole = \"dispatcher\"\nsha256 = \"{}\"\n",
            token_digest("a"),
            token_digest("b")
        );
        let access = Access::parse(&good, "a.toml").expect("valid");
        assert_eq!(access.reads, Reads::Token);
        assert_eq!(access.len(), 2);
        let p = access.identify("a").expect("token a");
        assert_eq!((p.name.as_str(), p.role), ("p", Role::Planner));
        assert_eq!(access.identify("b").map(|c| c.role), Some(Role::Dispatcher));
        assert!(access.identify("c").is_none());
        assert!(format!("{access:?}").contains("tokens: 2"));

        let dup = good.replace(&token_digest("b"), &token_digest("a"));
        let e = Access::parse(&dup, "a.toml").unwrap_err();
        assert!(matches!(e, AccessError::Token { index: 2, .. }), "{e}");
        assert!(e.to_string().contains("same token"), "{e}");

        let e = Access::parse(&good.replace("dispatcher", "boss"), "a.toml").unwrap_err();
        assert!(matches!(e, AccessError::Syntax { .. }), "{e}");
        assert!(e.to_string().contains("line 8"), "{e}");

        let short = good.replace(&token_digest("a"), "abc");
        let e = Access::parse(&short, "a.toml").unwrap_err();
        assert!(e.to_string().contains("token 1 (\"p\")"), "{e}");
        assert!(e.to_string().contains("64 hexadecimal digits"), "{e}");
    }

    #[test]
    fn access_file_digest_with_a_sign_is_refused() {
        // `u8::from_str_radix` takes a sign: "+0" once parsed as 0, so this
        // digest matched the token whose digest has "00" there.
        let digest = token_digest("a");
        let signed = format!("{}+{}", &digest[..2], &digest[3..]);
        let file =
            |d: &str| format!("[[token]]\nname = \"p\"\nrole = \"planner\"\nsha256 = \"{d}\"\n");
        let bad = [
            signed,
            format!("{}-{}", &digest[..2], &digest[3..]),
            format!("{} {}", &digest[..2], &digest[3..]),
            format!(" {}", &digest[1..]),
            format!("{digest} "),
            format!("0x{}", &digest[2..]),
        ];
        for d in &bad {
            let e = Access::parse(&file(d), "a.toml").unwrap_err();
            let text = e.to_string();
            assert!(text.starts_with("a.toml:4: token 1 (\"p\")"), "{text}");
            assert!(text.contains("exactly 64 hexadecimal digits"), "{text}");
        }
        // Upper case is the same digest.
        let upper = Access::parse(&file(&digest.to_uppercase()), "a.toml").expect("valid");
        assert!(upper.identify("a").is_some());
    }

    #[test]
    fn admin_grants_everything_others_their_own() {
        assert!(Role::Admin.grants(Role::Planner));
        assert!(Role::Planner.grants(Role::Planner));
        assert!(!Role::Planner.grants(Role::Dispatcher));
        assert!(!Role::Dispatcher.grants(Role::Admin));
    }
}
