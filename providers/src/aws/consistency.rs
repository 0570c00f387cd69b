//! Reading what was made moments ago. EC2's API is eventually consistent
//! ("Eventual consistency in the Amazon EC2 API", EC2 API reference): for
//! a while after a create, a describe by id may answer `Invalid…ID.NotFound`
//! and a filtered describe (by id or by tags) may leave the new resource
//! out. Refresh and crash recovery must not take "not shown yet" for
//! "gone" or "never made", or the next apply makes a second one.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8sinfra_engine::provider::{ProviderError, Remote, Stored};

use super::errors::{backoff, scaled, PROPAGATION};

/// How long after `since` (Unix seconds) the cloud may still hide what was
/// made then; zero once `PROPAGATION` has passed. `since` is a whole
/// second, rounded down: the create may have been made up to a second
/// later, so the window runs from the end of that second — counted from
/// its start, a run resumed moments after a crash stopped looking up to a
/// second before the cloud showed what the crashed run made, and made it
/// again.
fn hidden_for(since: Option<u64>) -> Duration {
    let Some(since) = since else { return Duration::ZERO };
    let visible_by = UNIX_EPOCH + Duration::from_secs(since + 1) + scaled(PROPAGATION);
    visible_by.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
}

/// Ask `look` again, with growing pauses, until it finds something or
/// `window` has passed (a last look is made at its end).
async fn look_for<T, F, Fut>(window: Duration, look: F) -> Result<Option<T>, ProviderError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let started = tokio::time::Instant::now();
    let mut attempt = 1;
    loop {
        let left = window.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok(None);
        }
        tokio::time::sleep(backoff(attempt).min(left)).await;
        if let Some(found) = look().await? {
            return Ok(Some(found));
        }
        attempt += 1;
    }
}

/// Refresh's "gone" for resources made moments ago, confirmed: those a
/// read did not find and that were created within `PROPAGATION` are read
/// on their own again, in rounds, until each shows or its window has
/// passed. The waits are shared: confirming many costs one window.
pub async fn confirm_gone<F, Fut>(
    stored: &[Stored<'_>],
    read: &mut [Option<Remote>],
    read_one: F,
) -> Result<(), ProviderError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Option<Remote>, ProviderError>>,
{
    let hidden = |i: usize| hidden_for(stored[i].created);
    let mut missing: Vec<usize> = (0..read.len()).filter(|&i| read[i].is_none() && !hidden(i).is_zero()).collect();
    let mut attempt = 1;
    while let Some(left) = missing.iter().map(|&i| hidden(i)).max().filter(|left| !left.is_zero()) {
        tokio::time::sleep(backoff(attempt).min(left)).await;
        let mut still = Vec::new();
        for i in missing {
            match read_one(i).await? {
                Some(found) => read[i] = Some(found),
                None if !hidden(i).is_zero() => still.push(i),
                None => {}
            }
        }
        missing = still;
        attempt += 1;
    }
    Ok(())
}

/// Crash recovery's "never made", confirmed for creates that carry no
/// idempotency key: a create started within `PROPAGATION` (`since`) that
/// the look-up by ownership tags does not find is looked for until the
/// window has passed, since the create made again would be a second one.
pub async fn find_patiently<F, Fut>(since: Option<u64>, find: F) -> Result<Option<Remote>, ProviderError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<Remote>, ProviderError>>,
{
    look_within(hidden_for(since), find).await
}

/// Look now, then again with growing pauses until something is found or
/// `window` has passed.
pub async fn look_within<T, F, Fut>(window: Duration, look: F) -> Result<Option<T>, ProviderError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    if let Some(found) = look().await? {
        return Ok(Some(found));
    }
    look_for(window, look).await
}

/// Read back what a create just made: a read that does not find it yet is
/// made again through the propagation window before it counts as lost.
pub async fn read_back<F, Fut>(operation: &str, id: &str, read: F) -> Result<Remote, ProviderError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<Remote>, ProviderError>>,
{
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    find_patiently(Some(now), read).await?.ok_or_else(|| ProviderError::Api {
        operation: operation.into(),
        message: format!("{id} was created but cannot be read back"),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).expect("time").as_secs()
    }

    #[tokio::test(start_paused = true)]
    async fn a_recent_create_is_looked_for_until_it_shows() {
        let looks = AtomicU32::new(0);
        let shows_on_fourth = || {
            let n = looks.fetch_add(1, Ordering::SeqCst);
            async move { Ok((n >= 3).then(|| Remote { id: "vpc-1".into(), attrs: Default::default() })) }
        };
        let found = find_patiently(Some(now()), shows_on_fourth).await.expect("looked");
        assert_eq!(found.map(|r| r.id).as_deref(), Some("vpc-1"));
        assert_eq!(looks.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn an_old_create_is_looked_for_once() {
        let looks = AtomicU32::new(0);
        let never = || {
            looks.fetch_add(1, Ordering::SeqCst);
            async { Ok(None) }
        };
        let long_ago = now() - 2 * PROPAGATION.as_secs();
        assert!(find_patiently(Some(long_ago), never).await.expect("looked").is_none());
        assert!(find_patiently(None, never).await.expect("looked").is_none());
        assert_eq!(looks.load(Ordering::SeqCst), 2, "no waiting for what cannot be hidden");

        // A recent one that never shows: looked for through the window.
        looks.store(0, Ordering::SeqCst);
        let started = tokio::time::Instant::now();
        assert!(find_patiently(Some(now()), never).await.expect("looked").is_none());
        // From the end of the create's second: never less than the window.
        let waited = started.elapsed();
        assert!(waited >= PROPAGATION && waited <= PROPAGATION + Duration::from_secs(1), "{waited:?}");
        assert!(looks.load(Ordering::SeqCst) > 5);
    }
}
