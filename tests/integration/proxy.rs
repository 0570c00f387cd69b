//! An HTTP relay between k8sinfra and moto, on 127.0.0.1: it forwards each
//! request and tallies the API operations it carries (`Action=` of the
//! query protocols EC2 and ELB speak), so a test can say how many calls a
//! command made and in what order. It can hold every request for a while,
//! the way AWS takes its time where moto answers at once, and it can
//! hold each operation as long as AWS would take (a table of latencies,
//! for the benchmarks), and it can misbehave the way networks and AWS do: for a share of requests it
//! answers 500, 503 or a throttling error in the service's own format,
//! drops the connection before the request reaches the server, or drops
//! the answer after the server has acted on it. With an AWS-behaviour
//! layer (`aws_behaviour`), it also answers as AWS would where moto is
//! kinder: new ids not visible yet, client tokens honoured, NAT gateway
//! states, a load balancer's interfaces lingering.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::aws_behaviour::{AwsBehaviour, Behaviours};

/// What goes wrong, and how often (each a share of all requests, 0 to 1).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// An error status (500, 503 or throttling, in turn) instead of an answer.
    pub errors: f64,
    /// The connection closed before the request is passed on.
    pub drops_before: f64,
    /// The request passed on and acted upon, the answer never delivered.
    pub drops_after: f64,
    /// Seeds the choice, so a failing run can be replayed.
    pub seed: u64,
    /// Operations whose first answer is always lost after the cloud acted
    /// on it: a fault certain to hit the creates that matter.
    pub lose_first: &'static [&'static str],
}

/// A fault the relay injected: its kind and the operation it hit.
pub type Injected = (&'static str, String);

#[derive(Default)]
struct Log {
    counts: BTreeMap<String, usize>,
    requests: Vec<String>,
    injected: Vec<Injected>,
    /// xorshift state: no dependency for a coin toss.
    random: u64,
}

impl Log {
    fn toss(&mut self) -> f64 {
        let mut x = self.random.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How long to hold a request, given its operation (`RunInstances`, or
/// the request line for the REST services: `POST /2013-04-01/hostedzone …`).
pub type Latency = Arc<dyn Fn(&str) -> Duration + Send + Sync>;

pub struct CountingProxy {
    pub endpoint: String,
    log: Arc<Mutex<Log>>,
    behaviour: Option<Arc<AwsBehaviour>>,
}

impl CountingProxy {
    /// A relay to `upstream` (`http://127.0.0.1:PORT`), running until the
    /// test process ends.
    pub fn start(upstream: &str) -> CountingProxy {
        Self::new(upstream, Arc::new(|_: &str| Duration::ZERO), Faults::default())
    }

    /// A relay that holds each request `delay` before passing it on.
    pub fn slow(upstream: &str, delay: Duration) -> CountingProxy {
        Self::new(upstream, Arc::new(move |_: &str| delay), Faults::default())
    }

    /// A relay that holds each request as long as `latency` says.
    #[allow(dead_code)] // used by the latency benchmark
    pub fn timed(upstream: &str, latency: Latency) -> CountingProxy {
        Self::new(upstream, latency, Faults::default())
    }

    /// A relay that injects `faults`. It honours `ClientToken` as AWS
    /// does (moto does not): an answer lost after a keyed create acted is
    /// what the token is for, and without it the repeat would make a
    /// second resource that AWS would not.
    pub fn faulty(upstream: &str, faults: Faults) -> CountingProxy {
        let tokens = Behaviours { idempotency: true, ..Behaviours::none() };
        Self::like_aws(upstream, tokens, faults)
    }

    /// A relay that behaves like AWS where moto does not (`aws_behaviour`),
    /// and injects `faults` besides.
    pub fn like_aws(upstream: &str, behaviours: Behaviours, faults: Faults) -> CountingProxy {
        Self::build(upstream, Arc::new(|_: &str| Duration::ZERO), faults, Some(Arc::new(AwsBehaviour::new(behaviours))))
    }

    /// `like_aws`, holding each request `delay` (and injecting nothing).
    pub fn like_aws_slow(upstream: &str, delay: Duration, behaviours: Behaviours) -> CountingProxy {
        let behaviour = Some(Arc::new(AwsBehaviour::new(behaviours)));
        Self::build(upstream, Arc::new(move |_: &str| delay), Faults::default(), behaviour)
    }

    /// What the AWS-behaviour layer did, by behaviour.
    pub fn behaved(&self) -> BTreeMap<&'static str, usize> {
        self.behaviour.as_ref().map(|b| b.acted()).unwrap_or_default()
    }

    fn new(upstream: &str, delay: Latency, faults: Faults) -> CountingProxy {
        Self::build(upstream, delay, faults, None)
    }

    fn build(upstream: &str, delay: Latency, faults: Faults, behaviour: Option<Arc<AwsBehaviour>>) -> CountingProxy {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let log = Arc::new(Mutex::new(Log { random: faults.seed ^ 0x9e37_79b9_7f4a_7c15, ..Log::default() }));
        let shared = Arc::clone(&log);
        let layer = behaviour.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, log, delay) = (upstream.clone(), Arc::clone(&shared), Arc::clone(&delay));
                let layer = layer.clone();
                std::thread::spawn(move || relay(client, &upstream, &log, &*delay, faults, layer.as_deref()));
            }
        });
        CountingProxy { endpoint, log, behaviour }
    }

    /// Operations seen so far, by name.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.log.lock().expect("log").counts.clone()
    }

    /// The query-protocol requests seen so far, in the order they came:
    /// each one's form body (`Action=RunInstances&InstanceType=…`).
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().expect("log").requests.clone()
    }

    /// The faults injected so far.
    pub fn injected(&self) -> Vec<Injected> {
        self.log.lock().expect("log").injected.clone()
    }
}

/// The AWS service a request is for, which decides how an error reads.
#[derive(Debug, Clone, Copy)]
pub enum Service {
    Ec2,
    Elb,
    Iam,
    Route53,
    S3,
}

fn service(request_line: &str, body: &str) -> Service {
    if request_line.split(' ').nth(1).is_some_and(|path| path.starts_with("/2013-04-01/")) {
        Service::Route53
    } else if body.contains("Version=2016-11-15") {
        Service::Ec2
    } else if body.contains("Version=2012-06-01") {
        Service::Elb
    } else if body.contains("Version=2010-05-08") {
        Service::Iam
    } else {
        Service::S3
    }
}

/// An error answer as the service would send it: status line and XML.
fn error_answer(service: Service, kind: usize) -> Vec<u8> {
    let (status, code) = match (service, kind % 3) {
        (Service::S3, 0) => ("500 Internal Server Error", "InternalError"),
        (Service::S3, _) => ("503 Slow Down", "SlowDown"),
        (Service::Ec2, 0) => ("500 Internal Server Error", "InternalError"),
        (Service::Ec2, 1) => ("503 Service Unavailable", "Unavailable"),
        (Service::Ec2, _) => ("400 Bad Request", "RequestLimitExceeded"),
        (_, 0) => ("500 Internal Server Error", "InternalFailure"),
        (_, 1) => ("503 Service Unavailable", "ServiceUnavailable"),
        (_, _) => ("400 Bad Request", "Throttling"),
    };
    error_answer_with(service, status, code, "injected by the test relay")
}

/// An error answer as `service` sends one: status line, code, message.
pub fn error_answer_with(service: Service, status: &str, code: &str, message: &str) -> Vec<u8> {
    let body = match service {
        Service::Ec2 => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
             <Message>{message}</Message></Error></Errors><RequestID>fault</RequestID></Response>"
        ),
        Service::Elb | Service::Iam | Service::Route53 => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>Receiver</Type>\
             <Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        ),
        Service::S3 => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
             <RequestId>fault</RequestId></Error>"
        ),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Requests of one client connection, each sent upstream on a connection
/// of its own (`Connection: close`), its answer passed back whole.
fn relay(
    client: TcpStream,
    upstream: &str,
    log: &Mutex<Log>,
    delay: &(dyn Fn(&str) -> Duration + Send + Sync),
    faults: Faults,
    behaviour: Option<&AwsBehaviour>,
) {
    let Ok(writer) = client.try_clone() else { return };
    let mut writer = writer;
    let mut reader = BufReader::new(client);
    loop {
        let mut head = Vec::new();
        let mut request_line = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if request_line.is_empty() {
                request_line = line.trim_end().to_string();
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
        let text = String::from_utf8_lossy(&body).to_string();
        let operation = text
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .map_or_else(|| request_line.clone(), str::to_string);
        let fault = {
            let mut log = log.lock().expect("log");
            if text.contains("Action=") {
                log.requests.push(text.clone());
            }
            *log.counts.entry(operation.clone()).or_default() += 1;
            let toss = log.toss();
            let first = log.counts.get(&operation) == Some(&1);
            let fault = if first && faults.lose_first.contains(&operation.as_str()) {
                Some("drop after")
            } else if toss < faults.errors {
                Some("error")
            } else if toss < faults.errors + faults.drops_before {
                Some("drop before")
            } else if toss < faults.errors + faults.drops_before + faults.drops_after {
                Some("drop after")
            } else {
                None
            };
            if let Some(kind) = fault {
                log.injected.push((kind, operation.clone()));
            }
            fault.map(|kind| (kind, log.injected.len()))
        };
        std::thread::sleep(delay(&operation));
        match fault {
            Some(("error", n)) => {
                let _ = writer.write_all(&error_answer(service(&request_line, &text), n));
                return;
            }
            Some(("drop before", _)) => return,
            _ => {}
        }
        let service = service(&request_line, &text);
        let head_text = String::from_utf8_lossy(&head).to_string();
        if let Some(early) = behaviour.and_then(|b| b.before(service, &operation, &head_text, &text)) {
            if fault.is_none() {
                let _ = writer.write_all(&early);
            }
            return;
        }
        // S3 decides a conditional write (If-None-Match, If-Match) atomically;
        // moto checks, then writes, so two at once can both win. One at a
        // time through the relay, as S3 documents them.
        let conditional = String::from_utf8_lossy(&head).to_ascii_lowercase().contains("\r\nif-");
        let _one_at_a_time = conditional.then(|| CONDITIONAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let Ok(mut up) = TcpStream::connect(upstream) else { return };
        if up.write_all(&head).and_then(|()| up.write_all(&body)).is_err() {
            return;
        }
        let mut answer = Vec::new();
        if up.read_to_end(&mut answer).is_err() {
            return;
        }
        // What AWS would have answered; learned from even when the answer
        // is then lost (the cloud acted all the same).
        let answer = match behaviour {
            Some(b) => b.after(service, &operation, &text, answer),
            None => answer,
        };
        if fault.is_some() || writer.write_all(&answer).is_err() {
            return;
        }
    }
}

/// Held while a conditional write is passed on (see `relay`).
static CONDITIONAL: Mutex<()> = Mutex::new(());
