//! The `civgrid` binary as a process: commands, a served process killed
//! when dropped, and a minimal HTTP/1.1 client for it.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

/// Runs `civgrid --store STORE ARGS…` (quiet logs) to the end.
pub fn civgrid(store: impl AsRef<OsStr>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("the civgrid binary runs")
}

/// A `civgrid serve` process, killed when dropped.
pub struct Served {
    /// The process.
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    /// Its standard output after the serving line.
    pub out: BufReader<ChildStdout>,
    /// The serving line.
    pub line: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `civgrid --store STORE serve --listen 127.0.0.1:0 ARGS…` and
/// waits for its serving line.
pub fn serve(store: impl AsRef<OsStr>, args: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .arg("--store")
        .arg(store)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("the serving line");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("a URL in {line:?}"))
        .to_owned();
    Served {
        child,
        addr,
        out,
        line,
    }
}

/// One HTTP/1.1 exchange with `addr` (`Connection: close`, an optional
/// bearer token): the status (0 when nothing answered) and the body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> (u16, Vec<u8>) {
    let Ok(mut conn) = std::net::TcpStream::connect(addr) else {
        return (0, Vec::new());
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let sent = write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut answer = Vec::new();
    if sent.is_err() || conn.read_to_end(&mut answer).is_err() {
        return (0, Vec::new());
    }
    let Some(split) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return (0, Vec::new());
    };
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer[split + 4..].to_vec())
}
