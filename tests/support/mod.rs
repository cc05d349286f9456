//! A local HTTP/1.1 server for wire tests: records every request byte for byte and answers
//! with queued responses. Listens on 127.0.0.1 on a free port; stops when dropped.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, exactly as sent.
    pub target: String,
    /// Header names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

/// A canned answer.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Canned {
    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Self {
        Canned {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_owned(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Default)]
struct State {
    answers: VecDeque<Canned>,
    requests: Vec<Recorded>,
}

/// The server; dropping it stops it.
pub struct CaptureServer {
    pub base_url: String,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CaptureServer {
    /// Starts the server on 127.0.0.1 (free port).
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    loop {
                        let Some(request) = read_request(&mut socket).await else {
                            return;
                        };
                        let answer = {
                            let mut s = state.lock().expect("state");
                            s.requests.push(request);
                            s.answers.pop_front().unwrap_or_else(|| {
                                Canned::json(500, r#"{"code":20500,"message":"no canned answer left","status":500}"#)
                            })
                        };
                        let mut head = format!("HTTP/1.1 {} Status\r\n", answer.status);
                        for (n, v) in &answer.headers {
                            head.push_str(&format!("{n}: {v}\r\n"));
                        }
                        head.push_str(&format!("Content-Length: {}\r\n\r\n", answer.body.len()));
                        if socket.write_all(head.as_bytes()).await.is_err()
                            || socket.write_all(answer.body.as_bytes()).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        CaptureServer {
            base_url,
            state,
            task,
        }
    }

    /// Queues an answer.
    pub fn answer(&self, canned: Canned) {
        self.state.lock().expect("state").answers.push_back(canned);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("state").requests.clone()
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

/// Reads one HTTP/1.1 request from `socket` (head and a `Content-Length` body); `None` when the
/// peer closed first. For servers written in a test file.
pub async fn read_one_request(socket: &mut tokio::net::TcpStream) -> Option<Recorded> {
    read_request(socket).await
}

/// What a [`ScriptedServer`] does on every connection, after reading its request: answers that
/// a well-behaved server never gives. Every script ends by itself (bounded bytes and time).
#[derive(Debug, Clone)]
pub enum Script {
    /// Writes these bytes (a whole raw answer, possibly malformed or cut short), then closes.
    Raw(Vec<u8>),
    /// Writes `head` (status line and headers, ending with the blank line), then one byte of
    /// `body` every `every`; closes after the last byte or when the client hangs up.
    Trickle {
        /// Status line and headers, `\r\n\r\n` included.
        head: Vec<u8>,
        /// The body, sent one byte at a time.
        body: Vec<u8>,
        /// The pause before each byte.
        every: std::time::Duration,
    },
    /// A 200 JSON answer in chunked encoding (no `Content-Length`) that never ends: `chunk`-byte
    /// chunks until `max_bytes` were written or the client hangs up.
    Flood {
        /// Bytes per chunk.
        chunk: usize,
        /// Upper bound of body bytes written.
        max_bytes: usize,
    },
}

/// A loopback server that answers every request with its [`Script`] and records what came.
/// Listens on 127.0.0.1 on a free port; stops when dropped.
pub struct ScriptedServer {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    body_bytes_written: Arc<std::sync::atomic::AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    /// Starts the server on 127.0.0.1 (free port).
    pub async fn start(script: Script) -> Self {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (shared, counter) = (requests.clone(), written.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (requests, written, script) = (shared.clone(), counter.clone(), script.clone());
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket).await else {
                        return;
                    };
                    requests.lock().expect("requests").push(request);
                    match script {
                        Script::Raw(bytes) => {
                            let _ = socket.write_all(&bytes).await;
                        }
                        Script::Trickle { head, body, every } => {
                            if socket.write_all(&head).await.is_err() {
                                return;
                            }
                            for byte in body {
                                tokio::time::sleep(every).await;
                                if socket.write_all(&[byte]).await.is_err() {
                                    return;
                                }
                                written.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Script::Flood { chunk, max_bytes } => {
                            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                        Transfer-Encoding: chunked\r\n\r\n";
                            if socket.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let mut frame = format!("{chunk:x}\r\n").into_bytes();
                            frame.extend(std::iter::repeat_n(b' ', chunk));
                            frame.extend_from_slice(b"\r\n");
                            while written.load(Ordering::SeqCst) < max_bytes {
                                if socket.write_all(&frame).await.is_err() {
                                    return;
                                }
                                written.fetch_add(chunk, Ordering::SeqCst);
                            }
                        }
                    }
                    let _ = socket.shutdown().await;
                });
            }
        });
        ScriptedServer {
            base_url,
            requests,
            body_bytes_written: written,
            task,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("requests").clone()
    }

    /// Body bytes written so far (by `Trickle` and `Flood`), over all connections.
    pub fn body_bytes_written(&self) -> usize {
        self.body_bytes_written
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A raw HTTP/1.1 answer: status line, `headers`, a `Content-Length` of `declared_length` (the
/// body's real length when `None`), then `body` as given.
pub fn raw_answer(
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    declared_length: Option<usize>,
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\n\r\n",
        declared_length.unwrap_or(body.len())
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}
