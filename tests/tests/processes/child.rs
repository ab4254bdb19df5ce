//! A `projector` child process: its stdout read line by line on a thread of its own (so the
//! pipe never fills and blocks it), each line stamped with when it arrived; commands on its
//! stdin; signals through `kill(1)`; killed and reaped when dropped, so a failing test leaves
//! no process behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A line the child printed, and when the parent read it.
#[derive(Debug, Clone)]
pub struct Line {
    pub at: Instant,
    pub text: String,
}

/// A running `projector`.
pub struct Projector {
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    /// Every line read so far, in order.
    pub seen: Vec<Line>,
    /// How many of them [`wait_for`](Self::wait_for) went through.
    cursor: usize,
    stderr: Arc<Mutex<String>>,
}

impl Projector {
    /// Starts `projector` with `args`; `name` labels it in failure messages.
    pub fn spawn(name: &str, args: &[String]) -> Self {
        Self::spawn_program(env!("CARGO_BIN_EXE_projector"), name, args)
    }

    /// Starts `program` (another of the crate's child binaries, such as `publisher`, that
    /// speaks the same line protocol) with `args`.
    pub fn spawn_program(program: &str, name: &str, args: &[String]) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the projector");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(text) = line else { break };
                let line = Line {
                    at: Instant::now(),
                    text,
                };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let kept = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(read @ 1..) = pipe.read(&mut buffer) {
                if let Ok(mut kept) = kept.lock() {
                    kept.push_str(&String::from_utf8_lossy(&buffer[..read]));
                }
            }
        });
        let stdin = child.stdin.take();
        Self {
            name: name.to_owned(),
            child,
            stdin,
            lines,
            seen: Vec::new(),
            cursor: 0,
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first line after those earlier waits went through that satisfies `matches`,
    /// waiting at most `timeout` for it.
    pub fn wait_for(&mut self, timeout: Duration, matches: impl Fn(&str) -> bool) -> Option<Line> {
        while self.cursor < self.seen.len() {
            self.cursor += 1;
            if matches(&self.seen[self.cursor - 1].text) {
                return Some(self.seen[self.cursor - 1].clone());
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    self.cursor = self.seen.len();
                    if matches(&line.text) {
                        return Some(line);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// [`wait_for`](Self::wait_for), failing the test with the child's output on timeout.
    pub fn expect(
        &mut self,
        timeout: Duration,
        what: &str,
        matches: impl Fn(&str) -> bool,
    ) -> Line {
        match self.wait_for(timeout, matches) {
            Some(line) => line,
            None => panic!("no `{what}` within {timeout:?}\n{}", self.transcript()),
        }
    }

    /// Takes in the lines printed so far, without waiting.
    pub fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    /// Whether a line read so far starts with `prefix`.
    pub fn printed(&mut self, prefix: &str) -> bool {
        self.drain();
        self.seen.iter().any(|line| line.text.starts_with(prefix))
    }

    /// The owner id it claims under, once it has said so (`ready owner=...`).
    pub fn owner(&mut self) -> Option<uuid::Uuid> {
        self.drain();
        self.seen.iter().find_map(|line| {
            line.text
                .strip_prefix("ready owner=")
                .and_then(|owner| owner.parse().ok())
        })
    }

    /// Whether the child holds the claim, as its last claim-related line says.
    pub fn holds_claim(&mut self) -> bool {
        self.drain();
        self.seen
            .iter()
            .rev()
            .find_map(|line| {
                let text = line.text.as_str();
                if text.starts_with("claimed") {
                    Some(true)
                } else if ["lost", "fenced", "error", "stopped", "failed", "outcome"]
                    .iter()
                    .any(|prefix| text.starts_with(prefix))
                    && !text.starts_with("error op=rollback")
                {
                    Some(false)
                } else {
                    None
                }
            })
            .unwrap_or(false)
    }

    /// Whether it was killed with a batch's transaction open: its last word about batches was
    /// `begun`. The batch was rolled back, or committed whole if its COMMIT had reached the
    /// database.
    pub fn died_inside_a_batch(&mut self) -> bool {
        self.drain();
        self.seen
            .iter()
            .rev()
            .find(|line| {
                ["begun", "committed", "caught-up"]
                    .iter()
                    .any(|word| line.text.starts_with(word))
            })
            .is_some_and(|line| line.text == "begun")
    }

    /// Lets it catch up with `head`, stops it, and checks that it stopped cleanly.
    pub fn finish(&mut self, head: u64) {
        self.expect(
            Duration::from_secs(30),
            &format!("caught-up position={head}"),
            caught_up_to(head),
        );
        let status = self.stop(Duration::from_secs(10));
        assert!(status.success(), "{status}\n{}", self.transcript());
        assert!(self.printed("stopped"), "{}", self.transcript());
    }

    /// Sends `command` on its stdin.
    pub fn tell(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{command}").expect("write to the projector's stdin");
        stdin.flush().expect("flush the projector's stdin");
    }

    /// Sends the signal `name` (`STOP`, `CONT`, ...) with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill(1)");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    /// SIGKILL, and reaps it.
    pub fn kill(&mut self) {
        // `Child::kill` sends SIGKILL on Unix: no cleanup, no flushing.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Everything it printed before it died; the reader thread ends at end of file.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(1)) {
            self.seen.push(line);
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks it to stop (`stop` on stdin) and waits up to `timeout` for it to exit.
    pub fn stop(&mut self, timeout: Duration) -> ExitStatus {
        self.tell("stop");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // The reader thread sees end of file once the process is gone.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(1)) {
                    self.seen.push(line);
                }
                return status;
            }
            if Instant::now() >= deadline {
                panic!("did not stop within {timeout:?}\n{}", self.transcript());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its stdout so far and the end of its stderr, for failure messages.
    pub fn transcript(&mut self) -> String {
        self.drain();
        let out: Vec<&str> = self.seen.iter().map(|line| line.text.as_str()).collect();
        let err = self
            .stderr
            .lock()
            .map(|text| {
                let start = text.len().saturating_sub(4000);
                let start = (start..text.len())
                    .find(|&index| text.is_char_boundary(index))
                    .unwrap_or(text.len());
                text[start..].to_owned()
            })
            .unwrap_or_default();
        format!(
            "--- {} stdout ---\n{}\n--- {} stderr (end) ---\n{err}",
            self.name,
            out.join("\n"),
            self.name
        )
    }
}

impl Drop for Projector {
    fn drop(&mut self) {
        // SIGKILL ends a frozen (SIGSTOPped) process too.
        self.kill();
    }
}

/// The number after `key=` in `line`.
pub fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
        .and_then(|value| value.parse().ok())
}

/// Matches a line starting with `prefix`.
pub fn is(prefix: &'static str) -> impl Fn(&str) -> bool {
    move |line| line.starts_with(prefix)
}

/// Matches a `caught-up` line at `head` or past it.
pub fn caught_up_to(head: u64) -> impl Fn(&str) -> bool {
    move |line| {
        line.starts_with("caught-up") && field(line, "position").is_some_and(|at| at >= head)
    }
}
