//! A throwaway tansu broker (Kafka-compatible, in memory) of one test's own, on a free port,
//! that the test pauses and resumes (the shared broker on `KAFKA_BROKERS` is never touched).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The tansu binary: `TANSU` if set, else `.ci/run`'s install
/// (`$AGGREGATO_TOOLS/bin/tansu`, `~/.cache/aggregato-tools/bin/tansu`), else `PATH`.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TANSU") {
        return Some(PathBuf::from(path));
    }
    let tools = std::env::var_os("AGGREGATO_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/aggregato-tools"))
        });
    let path = std::env::var_os("PATH").unwrap_or_default();
    tools
        .map(|tools| tools.join("bin"))
        .into_iter()
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join("tansu"))
        .find(|candidate| candidate.is_file())
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A tansu broker on 127.0.0.1, its data in memory; killed when dropped.
pub struct LocalTansu {
    port: u16,
    child: Child,
}

impl LocalTansu {
    /// Starts one and waits until it accepts connections.
    pub async fn start(binary: PathBuf) -> Self {
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        let tansu = Self { port, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tansu
    }

    /// Its bootstrap address.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Freezes it (SIGSTOP): connections stay open and nothing answers, as a hung or
    /// partitioned broker; what it received but did not answer, it may still store later.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets it run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }
}

impl Drop for LocalTansu {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
