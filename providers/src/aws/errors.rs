//! Turning SDK errors into provider errors, and bounded retries for the
//! errors AWS's eventual consistency produces.

use std::time::Duration;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use k8sinfra_engine::provider::ProviderError;

/// The error code of an SDK error (`InvalidVpcID.NotFound`), if it has one.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<String> {
    err.as_service_error().and_then(ProvideErrorMetadata::code).map(str::to_string)
}

pub fn api<E, R>(operation: &str, err: SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    ProviderError::Api { operation: operation.into(), message: message(&err) }
}

/// `Code: message` from the service, or the transport error's causes.
pub fn message<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match (
        err.as_service_error().and_then(ProvideErrorMetadata::code),
        err.as_service_error().and_then(ProvideErrorMetadata::message),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => chain(err),
    }
}

/// An error and its causes on one line, without the debug dumps the SDK's
/// own rendering includes (a failed connection is one sentence, not forty
/// lines of structure).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    let mut line = parts.join(": ");
    if line.len() > 400 {
        line.truncate(line.char_indices().take_while(|(i, _)| *i < 400).last().map_or(0, |(i, c)| i + c.len_utf8()));
        line.push('…');
    }
    line
}

/// How long to wait before attempt `n` (1-based): 0.5 s doubling to 8 s.
#[must_use]
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.saturating_sub(1).min(4))
}

/// Attempts before giving up on a retryable error (about a minute in all).
pub const ATTEMPTS: u32 = 10;

/// Call until it succeeds, fails with a code `retryable` rejects, or the
/// attempts run out.
pub async fn retry_while<F, Fut, T>(
    operation: &str,
    retryable: impl Fn(&str) -> bool,
    call: F,
) -> Result<T, ProviderError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, (Option<String>, ProviderError)>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err((Some(code), _)) if retryable(&code) && attempt < ATTEMPTS => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err((_, e)) => {
                return Err(match e {
                    ProviderError::Api { message, .. } if attempt > 1 => ProviderError::Api {
                        operation: operation.into(),
                        message: format!("{message} (after {attempt} attempts)"),
                    },
                    other => other,
                })
            }
        }
    }
}

/// Whether a failed call may have been acted on, or may succeed if made
/// again: no answer (a dropped connection, a timeout, an unreadable
/// response — an error status whose body names no error code included:
/// a server under load may answer 500 with nothing in it), a server
/// error, or throttling.
pub fn transient<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    const CODES: &[&str] = &[
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    ];
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(_) if code(err).is_none() => true,
        _ => code(err).is_some_and(|c| CODES.contains(&c.as_str())),
    }
}

/// How long AWS may take to show what it just made: a tag-filtered
/// `Describe*` may omit a new resource, and a call naming its id may answer
/// `Invalid…ID.NotFound`. EC2's documentation promises no bound ("may take
/// several minutes" in rare cases); two minutes is what Terraform's AWS
/// provider allows for the same propagation (`ec2PropagationTimeout`).
pub const PROPAGATION: Duration = Duration::from_secs(2 * 60);

/// Every wait and retry budget is multiplied by this. The one setting by
/// which tests run AWS-shaped timings (consistency windows, NAT gateways
/// that take minutes) in seconds: `K8SINFRA_AWS_TIME_SCALE=0.02` makes two
/// minutes 2.4 s. Unset, budgets are real time.
#[must_use]
pub fn scaled(budget: Duration) -> Duration {
    static SCALE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let scale = *SCALE.get_or_init(|| {
        std::env::var("K8SINFRA_AWS_TIME_SCALE")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(1.0)
    });
    budget.mul_f64(scale)
}

/// Whether an error code says an id is unknown — which, for an id made
/// moments ago, means "not visible yet" (EC2's eventual consistency), not
/// "gone". Only the codes for ids a create or update names: a route or an
/// association that is not found really is not there.
#[must_use]
pub fn not_yet_visible(code: &str) -> bool {
    matches!(
        code,
        "InvalidVpcID.NotFound"
            | "InvalidSubnetID.NotFound"
            | "InvalidGroup.NotFound"
            | "InvalidInternetGatewayID.NotFound"
            | "InvalidRouteTableID.NotFound"
            | "InvalidAllocationID.NotFound"
            | "InvalidNatGatewayID.NotFound"
            | "NatGatewayNotFound"
            | "InvalidInstanceID.NotFound"
            | "InvalidVolume.NotFound"
            | "InvalidKeyPair.NotFound"
            | "InvalidNetworkInterfaceID.NotFound"
    )
}

/// Whether an answer says something named is not visible yet: an unknown
/// id (`not_yet_visible`), or an instance profile EC2 does not know yet
/// (IAM's own eventual consistency: "Value (…) for parameter
/// iamInstanceProfile.name is invalid", for seconds after its create).
fn not_visible_yet<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    let service = err.as_service_error();
    let message = service.and_then(ProvideErrorMetadata::message).unwrap_or_default();
    code(err).is_some_and(|c| {
        not_yet_visible(&c) || (c == "InvalidParameterValue" && message.contains("iamInstanceProfile"))
    })
}

/// Make a call that names resources made moments ago (a subnet's VPC, the
/// gateway just created and now attached): while AWS answers that an id is
/// not found, call again with a growing pause, for up to `PROPAGATION`.
/// Any other answer, and the last one, is the caller's to handle.
pub async fn visible<O, E, R, F, Fut>(call: F) -> Result<O, SdkError<E, R>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<O, SdkError<E, R>>>,
    E: ProvideErrorMetadata,
{
    let budget = scaled(PROPAGATION);
    let started = tokio::time::Instant::now();
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if not_visible_yet(&e) && started.elapsed() < budget => {
                let left = budget.saturating_sub(started.elapsed());
                tokio::time::sleep(backoff(attempt).min(left)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// How a create is made exactly once.
pub enum Once<Find> {
    /// The call carries the create's idempotency key (EC2's `ClientToken`,
    /// `Target::token`), the same on every attempt and after a crash: AWS
    /// answers a repeat with what the first call made. Sent again until
    /// answered.
    Keyed,
    /// AWS would make a second resource if the call were sent again: after
    /// a failure that may have reached it, `find` looks for what the call
    /// made by the ownership tags it carries — for as long as AWS may take
    /// to show it (`PROPAGATION`) — and only if there is nothing is the
    /// call made again.
    Find(Find),
}

/// `Once::Token` when the create has a key (every create the engine
/// starts does), else `Once::Find` (a create outside an apply).
pub fn keyed<Find>(token: Option<&str>, find: Find) -> Once<Find> {
    if token.is_some() {
        Once::Keyed
    } else {
        Once::Find(find)
    }
}

/// Make a create call once (see `Once`). The SDK's own retries are off for
/// it: a tokenless create retried blindly makes duplicates. An answer that
/// a named id is not found (a parent made moments ago) is retried too:
/// nothing was made. Returns the id.
pub async fn create_once<O, E, R, Call, Sent, Find, Found>(
    operation: &str,
    once: Once<Find>,
    call: Call,
    id_of: impl Fn(&O) -> String,
) -> Result<String, ProviderError>
where
    Call: Fn() -> Sent,
    Sent: std::future::Future<Output = Result<O, SdkError<E, R>>>,
    Find: Fn() -> Found,
    Found: std::future::Future<Output = Result<Option<String>, ProviderError>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Ok(create_once_answered(operation, once, call, id_of).await?.0)
}

/// `create_once`, with the call's answer when it came (`None` when what
/// the call made was found after a failure): a create whose answer
/// describes the new resource needs no read after it.
pub async fn create_once_answered<O, E, R, Call, Sent, Find, Found>(
    operation: &str,
    once: Once<Find>,
    call: Call,
    id_of: impl Fn(&O) -> String,
) -> Result<(String, Option<O>), ProviderError>
where
    Call: Fn() -> Sent,
    Sent: std::future::Future<Output = Result<O, SdkError<E, R>>>,
    Find: Fn() -> Found,
    Found: std::future::Future<Output = Result<Option<String>, ProviderError>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let mut attempt = 1;
    loop {
        match visible(&call).await {
            Ok(out) => return Ok((id_of(&out), Some(out))),
            // No answer, or the server failed: it may have acted.
            Err(e) if transient(&e) && attempt < ATTEMPTS => {}
            Err(e) => return Err(api(operation, e)),
        }
        match &once {
            Once::Keyed => tokio::time::sleep(backoff(attempt)).await,
            Once::Find(find) => {
                // A moment for the server, then the looks: a tag-filtered
                // describe may not show for a while what the call made.
                tokio::time::sleep(backoff(attempt) / 5).await;
                if let Some(id) = super::consistency::look_within(scaled(PROPAGATION), find).await? {
                    return Ok((id, None));
                }
            }
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn an_error_answer_without_a_code_counts_as_transient() {
        use aws_sdk_ec2::error::ErrorMetadata;
        use aws_sdk_ec2::operation::create_vpc::CreateVpcError;
        let answered = |code: Option<&str>| {
            let mut meta = ErrorMetadata::builder();
            if let Some(code) = code {
                meta = meta.code(code);
            }
            SdkError::<CreateVpcError, ()>::service_error(CreateVpcError::generic(meta.build()), ())
        };
        assert!(transient(&answered(None)), "an empty 500 from a server under load");
        assert!(transient(&answered(Some("RequestLimitExceeded"))));
        assert!(!transient(&answered(Some("InvalidParameterValue"))));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_millis(1000));
        assert_eq!(backoff(5), Duration::from_millis(8000));
        assert_eq!(backoff(9), Duration::from_millis(8000));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_what_is_retryable_and_stops() {
        let calls = AtomicU32::new(0);
        let fail =
            |code: &str| (Some(code.to_string()), ProviderError::Api { operation: "x".into(), message: code.into() });
        let result: Result<(), _> = retry_while(
            "DeleteSubnet",
            |c| c == "DependencyViolation",
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 3 {
                        Err(fail("DependencyViolation"))
                    } else {
                        Ok(())
                    }
                }
            },
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 4);

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = retry_while(
            "DeleteVpc",
            |c| c == "DependencyViolation",
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(fail("InvalidVpcID.Malformed")) }
            },
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a final error is not retried");

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = retry_while(
            "DeleteVpc",
            |c| c == "DependencyViolation",
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(fail("DependencyViolation")) }
            },
        )
        .await;
        assert!(matches!(result, Err(ProviderError::Api { ref message, .. }) if message.contains("after 10 attempts")));
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
    }
}

/// What a poll of a resource's status says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll<T = ()> {
    /// Done; what the last check saw.
    Ready(T),
    Waiting(String),
    Failed(String),
}

/// Poll until the resource is ready, fails, or `budget` has passed (a last
/// check is made at its end). The local emulator answers "available" at
/// once; AWS takes minutes for a NAT gateway, so this is the path real
/// runs take. Budgets are Terraform's defaults for the same waits.
pub async fn wait_for<T, F, Fut>(operation: &str, budget: Duration, poll: F) -> Result<T, ProviderError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Poll<T>, ProviderError>>,
{
    let budget = scaled(budget);
    let started = tokio::time::Instant::now();
    let mut attempt = 1;
    loop {
        let last = match poll().await? {
            Poll::Ready(seen) => return Ok(seen),
            Poll::Failed(why) => return Err(ProviderError::Api { operation: operation.into(), message: why }),
            Poll::Waiting(state) => state,
        };
        let waited = started.elapsed();
        if waited >= budget {
            return Err(ProviderError::Api {
                operation: operation.into(),
                message: format!(
                    "still {last} after {}; it may finish later: run plan again",
                    humantime::format_duration(Duration::from_secs(waited.as_secs()))
                ),
            });
        }
        tokio::time::sleep(backoff(attempt).min(Duration::from_secs(15)).min(budget - waited)).await;
        attempt += 1;
    }
}

/// How long a delete retries `DependencyViolation`: AWS releases what
/// hangs on a resource in its own time (a load balancer's interfaces
/// outlive it by minutes); Terraform allows 20 minutes for a subnet or a
/// security group.
pub const DEPENDENTS_BUDGET: Duration = Duration::from_secs(20 * 60);

/// `retry_while`, bounded by time rather than attempts: the backoff grows
/// to 15 s between calls, and a last call is made when `budget` is spent.
pub async fn retry_until<F, Fut, T>(
    operation: &str,
    retryable: impl Fn(&str) -> bool,
    budget: Duration,
    call: F,
) -> Result<T, ProviderError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, (Option<String>, ProviderError)>>,
{
    let budget = scaled(budget);
    let started = tokio::time::Instant::now();
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err((Some(code), _)) if retryable(&code) && started.elapsed() < budget => {
                let left = budget.saturating_sub(started.elapsed());
                tokio::time::sleep(backoff(attempt).min(Duration::from_secs(15)).min(left)).await;
                attempt += 1;
            }
            Err((_, e)) => {
                return Err(match e {
                    ProviderError::Api { message, .. } if attempt > 1 => ProviderError::Api {
                        operation: operation.into(),
                        message: format!(
                            "{message} (still, after {})",
                            humantime::format_duration(Duration::from_secs(started.elapsed().as_secs()))
                        ),
                    },
                    other => other,
                })
            }
        }
    }
}

#[cfg(test)]
mod wait_tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_until_ready_fails_fast_and_gives_up() {
        let polls = AtomicU32::new(0);
        let ready_on_third = || {
            let n = polls.fetch_add(1, Ordering::SeqCst);
            async move { Ok(if n < 2 { Poll::Waiting("pending".into()) } else { Poll::Ready(()) }) }
        };
        let minute = Duration::from_secs(60);
        wait_for("CreateNatGateway", minute, ready_on_third).await.expect("ready");
        assert_eq!(polls.load(Ordering::SeqCst), 3);

        let failed =
            wait_for("CreateNatGateway", minute, || async { Ok(Poll::<()>::Failed("Gateway.NotAttached".into())) })
                .await;
        assert!(matches!(failed, Err(ProviderError::Api { message, .. }) if message == "Gateway.NotAttached"));

        // Ten minutes of `pending`, as AWS can take for a NAT gateway: the
        // wait lasts exactly its budget, polling every 8 s once the backoff
        // has grown.
        polls.store(0, Ordering::SeqCst);
        let never = || {
            polls.fetch_add(1, Ordering::SeqCst);
            async { Ok(Poll::<()>::Waiting("pending".into())) }
        };
        let started = tokio::time::Instant::now();
        let gave_up = wait_for("CreateNatGateway", 10 * minute, never).await;
        assert_eq!(started.elapsed(), 10 * minute);
        assert!(
            matches!(gave_up, Err(ProviderError::Api { message, .. }) if message == "still pending after 10m; it may finish later: run plan again")
        );
        let polled = polls.load(Ordering::SeqCst);
        assert!((75..=85).contains(&polled), "{polled} checks in ten minutes");
    }

    #[tokio::test(start_paused = true)]
    async fn dependents_are_waited_for_by_time_not_by_count() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        // AWS still sees a load balancer's interfaces for five minutes.
        let result = retry_until(
            "DeleteSubnet",
            |c| c == "DependencyViolation",
            DEPENDENTS_BUDGET,
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                let elapsed = started.elapsed();
                async move {
                    if elapsed < Duration::from_secs(300) {
                        Err((
                            Some("DependencyViolation".to_string()),
                            ProviderError::Api { operation: "DeleteSubnet".into(), message: "in use".into() },
                        ))
                    } else {
                        Ok(())
                    }
                }
            },
        )
        .await;
        assert!(result.is_ok(), "{result:?}");
        assert!(started.elapsed() >= Duration::from_secs(300) && started.elapsed() < Duration::from_secs(320));
        // Never released: the budget, then the error.
        let result: Result<(), _> = retry_until(
            "DeleteSubnet",
            |c| c == "DependencyViolation",
            DEPENDENTS_BUDGET,
            || async {
                Err((
                    Some("DependencyViolation".to_string()),
                    ProviderError::Api { operation: "DeleteSubnet".into(), message: "in use".into() },
                ))
            },
        )
        .await;
        assert!(
            matches!(result, Err(ProviderError::Api { ref message, .. }) if message == "in use (still, after 20m)"),
            "{result:?}"
        );
    }
}

#[cfg(test)]
mod once_tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;

    use aws_sdk_ec2::error::ErrorMetadata;
    use aws_sdk_ec2::operation::create_vpc::CreateVpcError;

    use super::*;

    type Answer = Result<String, SdkError<CreateVpcError, ()>>;

    fn failure(code: &str) -> SdkError<CreateVpcError, ()> {
        SdkError::service_error(CreateVpcError::generic(ErrorMetadata::builder().code(code).build()), ())
    }

    /// A create whose answers are given in turn; what it made, by count.
    struct Cloud {
        answers: Mutex<Vec<Answer>>,
        calls: AtomicU32,
        looks: AtomicU32,
    }

    impl Cloud {
        fn new(mut answers: Vec<Answer>) -> Self {
            answers.reverse();
            Cloud { answers: Mutex::new(answers), calls: AtomicU32::new(0), looks: AtomicU32::new(0) }
        }
        async fn call(&self) -> Answer {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.answers.lock().expect("answers").pop().unwrap_or_else(|| Ok("vpc-last".into()))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_keyed_create_is_sent_again_after_a_lost_answer_and_never_looked_for() {
        // The first answer lost (the cloud acted), the second a throttle:
        // the same call, same key, a third time; no look at all.
        let cloud = Cloud::new(vec![Err(failure("InternalError")), Err(failure("RequestLimitExceeded"))]);
        let keyed = keyed(Some("k8sinfra-key"), || async { panic!("a keyed create is never looked for") });
        let made = create_once("CreateNatGateway", keyed, || cloud.call(), Clone::clone);
        assert_eq!(made.await.expect("made"), "vpc-last");
        assert_eq!(cloud.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_tokenless_create_looks_through_the_window_before_calling_again() {
        // The answer lost; the new VPC shows up in a tag-filtered describe
        // only on the fourth look (eventual consistency): adopted, the
        // create is not sent again.
        let cloud = Cloud::new(vec![Err(failure("InternalError"))]);
        let find = || {
            let n = cloud.looks.fetch_add(1, Ordering::SeqCst);
            async move { Ok((n >= 3).then(|| "vpc-made".to_string())) }
        };
        let made = create_once("CreateVpc", Once::Find(find), || cloud.call(), Clone::clone).await;
        assert_eq!(made.expect("found"), "vpc-made");
        assert_eq!(cloud.calls.load(Ordering::SeqCst), 1, "never sent twice");
        assert_eq!(cloud.looks.load(Ordering::SeqCst), 4);

        // Nothing shows through the whole window: it never reached AWS,
        // and is sent again.
        let cloud = Cloud::new(vec![Err(failure("InternalError"))]);
        let started = tokio::time::Instant::now();
        let nothing = || {
            cloud.looks.fetch_add(1, Ordering::SeqCst);
            async { Ok(None) }
        };
        let made = create_once("CreateVpc", Once::Find(nothing), || cloud.call(), Clone::clone).await;
        assert_eq!(made.expect("made"), "vpc-last");
        assert_eq!(cloud.calls.load(Ordering::SeqCst), 2);
        assert!(started.elapsed() >= PROPAGATION, "looked for {:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_parent_not_visible_yet_is_waited_for_and_a_refusal_is_final() {
        // CreateSubnet naming a VPC made moments ago: NotFound twice, then
        // made; nothing was made by the refused calls, so no look.
        let cloud = Cloud::new(vec![Err(failure("InvalidVpcID.NotFound")), Err(failure("InvalidVpcID.NotFound"))]);
        let find = || async { panic!("a NotFound answer made nothing to look for") };
        let made = create_once("CreateSubnet", Once::Find(find), || cloud.call(), Clone::clone).await;
        assert_eq!(made.expect("made"), "vpc-last");
        assert_eq!(cloud.calls.load(Ordering::SeqCst), 3);

        let cloud = Cloud::new(vec![Err(failure("InvalidParameterValue"))]);
        let find = || async { Ok(None) };
        let refused = create_once("CreateSubnet", Once::Find(find), || cloud.call(), Clone::clone).await;
        assert!(matches!(refused, Err(ProviderError::Api { message, .. }) if message == "InvalidParameterValue"));
        assert_eq!(cloud.calls.load(Ordering::SeqCst), 1);
    }
}
