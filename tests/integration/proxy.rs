//! A counting HTTP relay between k8sinfra and moto, on 127.0.0.1: it
//! forwards each request and tallies the API operations it carries
//! (`Action=` of the query protocols EC2 and ELB speak), so a test can
//! say how many calls a command made. It can also hold every request for a
//! while, the way AWS takes its time where moto answers at once.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct CountingProxy {
    pub endpoint: String,
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    /// A relay to `upstream` (`http://127.0.0.1:PORT`), running until the
    /// test process ends.
    pub fn start(upstream: &str) -> CountingProxy {
        Self::slow(upstream, Duration::ZERO)
    }

    /// A relay that holds each request `delay` before passing it on.
    pub fn slow(upstream: &str, delay: Duration) -> CountingProxy {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tally, record) = (Arc::clone(&counts), Arc::clone(&log));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, tally, record) = (upstream.clone(), Arc::clone(&tally), Arc::clone(&record));
                std::thread::spawn(move || relay(client, &upstream, &tally, &record, delay));
            }
        });
        CountingProxy { endpoint, counts, log }
    }

    /// The query-protocol requests seen so far, in the order they came:
    /// each one's form body (`Action=RunInstances&InstanceType=…`).
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// Operations seen so far, by name.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.counts.lock().expect("counts").clone()
    }
}

/// Requests of one client connection, each sent upstream on a connection
/// of its own (`Connection: close`), its answer passed back whole.
fn relay(
    client: TcpStream,
    upstream: &str,
    tally: &Mutex<BTreeMap<String, usize>>,
    record: &Mutex<Vec<String>>,
    delay: Duration,
) {
    let Ok(writer) = client.try_clone() else { return };
    let mut writer = writer;
    let mut reader = BufReader::new(client);
    loop {
        let mut head = Vec::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("connection:") {
                continue;
            }
            if line == "\r\n" {
                head.extend_from_slice(b"Connection: close\r\n\r\n");
                break;
            }
            head.extend_from_slice(line.as_bytes());
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let text = String::from_utf8_lossy(&body);
        let operation = text
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .map_or_else(|| "other".to_string(), str::to_string);
        if operation != "other" {
            record.lock().expect("log").push(text.to_string());
        }
        *tally.lock().expect("counts").entry(operation).or_default() += 1;
        std::thread::sleep(delay);
        let Ok(mut up) = TcpStream::connect(upstream) else { return };
        if up.write_all(&head).and_then(|()| up.write_all(&body)).is_err() {
            return;
        }
        let mut answer = Vec::new();
        if up.read_to_end(&mut answer).is_err() || writer.write_all(&answer).is_err() {
            return;
        }
    }
}
