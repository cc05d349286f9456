//! A minimal HTTP/1.1 test server on 127.0.0.1:0: records every request, answers as the test's
//! handler says (a response, a raw byte string, a dropped connection, or a stall), one request
//! per connection (`connection: close`). Its loops are bounded (connections accepted, bytes read,
//! stall time) and its tasks die with the test's runtime.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use trusthub_runtime::{Credentials, HttpMethod, Operation, RetryPolicy, TransportBuilder};

/// A well-formed account SID.
pub const AC: &str = "AC0123456789abcdef0123456789abcdef";
/// A well-formed API key SID.
pub const SK: &str = "SKfedcba9876543210fedcba9876543210";
/// The auth token of the tests.
pub const TOKEN: &str = "token-123";
/// `Basic base64("AC0123456789abcdef0123456789abcdef:token-123")`, computed outside Rust.
pub const AUTH_TOKEN_HEADER: &str =
    "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2tlbi0xMjM=";
/// `Basic base64("SKfedcba9876543210fedcba9876543210:key-secret")`, computed outside Rust.
pub const API_KEY_HEADER: &str =
    "Basic U0tmZWRjYmE5ODc2NTQzMjEwZmVkY2JhOTg3NjU0MzIxMDprZXktc2VjcmV0";

const MAX_CONNECTIONS: usize = 64;
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_STALL: Duration = Duration::from_secs(30);

pub static LIST_POLICIES: Operation = Operation {
    id: "ListPolicies",
    method: HttpMethod::Get,
    base_url: "https://trusthub.twilio.com",
    path_template: "/v1/Policies",
};

pub static FETCH_POLICY: Operation = Operation {
    id: "FetchPolicy",
    method: HttpMethod::Get,
    base_url: "https://trusthub.twilio.com",
    path_template: "/v1/Policies/{Sid}",
};

pub static CREATE_END_USER: Operation = Operation {
    id: "CreateEndUser",
    method: HttpMethod::Post,
    base_url: "https://trusthub.twilio.com",
    path_template: "/v1/EndUsers",
};

pub static DELETE_END_USER: Operation = Operation {
    id: "DeleteEndUser",
    method: HttpMethod::Delete,
    base_url: "https://trusthub.twilio.com",
    path_template: "/v1/EndUsers/{Sid}",
};

pub static LIST_ADDRESSES: Operation = Operation {
    id: "ListAddress",
    method: HttpMethod::Get,
    base_url: "https://api.twilio.com",
    path_template: "/2010-04-01/Accounts/{AccountSid}/Addresses.json",
};

/// A builder pointed at `server` with auth-token credentials and fast retries (1 ms backoff).
pub fn builder_for(server: &TestServer) -> TransportBuilder {
    trusthub_runtime::Transport::builder()
        .credentials(Credentials::auth_token(AC, TOKEN))
        .base_url_override(server.base_url())
        .retry(fast_retries(4))
        .timeout(Duration::from_secs(10))
}

/// `max_attempts` attempts with a 1 ms backoff and a 30 s budget.
pub fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(1),
        max_elapsed: Duration::from_secs(30),
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Recorded {
    /// The value of header `name` (case-insensitive); `None` if absent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
pub enum Reply {
    /// Answer with a status, headers and a body (content-length set).
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Write these bytes as the whole answer, then close.
    Raw(Vec<u8>),
    /// Close the connection without answering (after the request was read).
    Drop,
    /// Keep the connection open without answering (at most 30 s).
    Stall,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// An answer with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header to a `Respond`.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

type Handler = dyn Fn(usize, &Recorded) -> Reply + Send + Sync;

/// The server; its accept loop runs on the test's runtime and ends with it.
pub struct TestServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    /// Starts a server; `handler` gets the 0-based index of the request and the request.
    pub async fn start(
        handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let accept_log = log.clone();
        tokio::spawn(async move {
            for _ in 0..MAX_CONNECTIONS {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(stream, accept_log.clone(), handler.clone()));
            }
        });
        TestServer { addr, log }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// Number of requests received so far.
    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

async fn serve(mut stream: TcpStream, log: Arc<Mutex<Vec<Recorded>>>, handler: Arc<Handler>) {
    let Ok(Some(request)) =
        tokio::time::timeout(Duration::from_secs(10), read_request(&mut stream)).await
    else {
        return;
    };
    let index = {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        log.len() - 1
    };
    match handler(index, &request) {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Test\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        }
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Drop => drop(stream),
        Reply::Stall => {
            tokio::time::sleep(MAX_STALL).await;
            drop(stream);
        }
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buffer, b"\r\n\r\n") {
            break i;
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
