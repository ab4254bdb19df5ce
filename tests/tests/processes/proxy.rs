//! A TCP proxy in front of PostgreSQL that can play an outage for the connections that go
//! through it, and only those: it cuts every open connection and turns new ones away for a
//! while, as a server restart does, without touching the server other tests share.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The proxy; its accepting thread lives as long as the test process.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

struct Shared {
    down: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
}

impl Proxy {
    /// Listens on a free local port and forwards to `upstream` (`host:port`).
    pub fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let shared = Arc::new(Shared {
            down: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
        });
        let accepting = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                // Down: accepted and closed at once, as by a server that is not there yet.
                if accepting.down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                forward(&accepting, client, server);
            }
        });
        Self { port, shared }
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let user = authority
            .rsplit_once('@')
            .map(|(user, _)| format!("{user}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}127.0.0.1:{}{path}", self.port)
    }

    /// Cuts every connection through the proxy and turns new ones away for `outage`.
    pub fn outage(&self, outage: Duration) {
        self.shared.down.store(true, Ordering::SeqCst);
        if let Ok(mut open) = self.shared.open.lock() {
            for stream in open.drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        std::thread::sleep(outage);
        self.shared.down.store(false, Ordering::SeqCst);
    }
}

/// Copies both ways between `client` and `server` until either side closes.
fn forward(shared: &Shared, client: TcpStream, server: TcpStream) {
    let (Ok(client_copy), Ok(server_copy)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    if let Ok(mut open) = shared.open.lock() {
        for stream in [&client, &server] {
            if let Ok(stream) = stream.try_clone() {
                open.push(stream);
            }
        }
    }
    std::thread::spawn(move || pump(client, server));
    std::thread::spawn(move || pump(server_copy, client_copy));
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0; 16 * 1024];
    while let Ok(read @ 1..) = from.read(&mut buffer) {
        if to.write_all(&buffer[..read]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

/// The `host:port` of `url`.
pub fn upstream(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}
