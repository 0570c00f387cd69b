//! State in S3: `s3://bucket/key`, locked by `key.lock`.
//!
//! Every write is conditional, so no interleaving of runs can lose one:
//! - the lock is created with `If-None-Match: *` (exactly one run wins) and
//!   removed with `If-Match` on its own ETag (never someone else's lock);
//! - the state is written with `If-Match: <ETag last read or written>`, or
//!   `If-None-Match: *` when there was none, so even `--lock=false` cannot
//!   overwrite a newer state. S3 answers 412 `PreconditionFailed` to a lost
//!   race, or 409 `ConditionalRequestConflict` when two writes cross; both
//!   mean "stale".
//!
//! Writes ask for server-side encryption; `init` also turns on bucket
//! versioning (the history of every state) and blocks public access.
//!
//! A bucket in another region than the one configured answers 301
//! `PermanentRedirect` with its region in `x-amz-bucket-region`: the
//! backend then talks to that region, and makes the call again.

use std::sync::{Mutex, RwLock};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use k8sinfra_engine::provider::BoxFuture;
use k8sinfra_engine::state::{check_descends, decode, encode, Backend, BackendError, LockInfo, State};

use super::s3::bucket;
use super::{errors, sdk};

pub struct S3Backend {
    /// Replaced once if the bucket turns out to live in another region.
    client: RwLock<aws_sdk_s3::Client>,
    /// The bucket's region, when a 301 said it was not the client's.
    moved: Mutex<Option<String>>,
    /// The lock this backend holds: its id and the ETag its PutObject
    /// answered, so the unlock is one conditional delete, with no read.
    held: Mutex<Option<(String, String)>>,
    bucket: String,
    key: String,
    region: String,
    /// What the next state write must replace: the ETag last read or
    /// written, with that state's lineage and serial.
    base: Mutex<Option<Base>>,
}

#[derive(Clone)]
struct Base {
    etag: String,
    lineage: String,
    serial: u64,
}

/// An object read with the ETag it had.
struct Object {
    bytes: Vec<u8>,
    etag: String,
}

impl S3Backend {
    /// A backend for `s3://bucket/key`. The region is the backend's own,
    /// else the provider's, else the environment's.
    pub async fn connect(
        bucket: &str,
        key: &str,
        region: Option<String>,
        profile: Option<String>,
    ) -> Result<Self, BackendError> {
        let Some(config) = sdk::load(region, profile).await else {
            return Err(BackendError::Io {
                action: "reach",
                location: format!("s3://{bucket}/{key}"),
                reason: "no region: set `region` in the backend block, or AWS_REGION".into(),
            });
        };
        let region = config.region().map(ToString::to_string).unwrap_or_default();
        Ok(Self::with_client(sdk::s3(&config), bucket, key, &region))
    }

    /// A backend on a client made elsewhere (tests, embedding).
    #[must_use]
    pub fn with_client(client: aws_sdk_s3::Client, bucket: &str, key: &str, region: &str) -> Self {
        S3Backend {
            client: RwLock::new(client),
            moved: Mutex::new(None),
            held: Mutex::new(None),
            bucket: bucket.to_string(),
            key: key.to_string(),
            region: region.to_string(),
            base: Mutex::new(None),
        }
    }

    fn client(&self) -> aws_sdk_s3::Client {
        self.client.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Run `op`; if it met a redirect to the bucket's own region, talk to
    /// that region from now on and run it once more.
    async fn following<T, F, Fut>(&self, op: F) -> Result<T, BackendError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, BackendError>>,
    {
        let first = op().await;
        let moved = self.moved.lock().ok().and_then(|mut m| m.take());
        match (first, moved) {
            (Err(_), Some(region)) => {
                let conf = self.client().config().to_builder().region(aws_sdk_s3::config::Region::new(region)).build();
                *self.client.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    aws_sdk_s3::Client::from_conf(conf);
                op().await
            }
            (result, _) => result,
        }
    }

    /// Every key of the bucket under `prefix`, all pages: how `env list`
    /// finds the environments that have a state. Follows the bucket to its
    /// region like every other call.
    pub async fn keys_under(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        self.following(|| async {
            let mut pages = self.client().list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
            let mut keys = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.error("list", &e))?;
                keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            }
            Ok(keys)
        })
        .await
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    fn error<E>(&self, action: &'static str, err: &SdkError<E, HttpResponse>) -> BackendError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if err.as_service_error().and_then(ProvideErrorMetadata::code) == Some("NoSuchBucket") {
            return BackendError::NotInitialised { bucket: self.bucket.clone() };
        }
        let region = err
            .raw_response()
            .filter(|r| r.status().as_u16() == 301)
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_string);
        if let Some(region) = region {
            if let Ok(mut moved) = self.moved.lock() {
                *moved = Some(region.clone());
            }
            let reason = format!("the bucket {} is in {region}, not the region configured", self.bucket);
            return BackendError::Io { action, location: self.location(), reason };
        }
        BackendError::Io { action, location: self.location(), reason: errors::message(err) }
    }

    /// The object at `key`, or `None` if there is none.
    async fn get(&self, key: &str) -> Result<Option<Object>, BackendError> {
        match self.client().get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().to_string();
                let body = out.body.collect().await.map_err(|e| BackendError::Io {
                    action: "read",
                    location: format!("s3://{}/{key}", self.bucket),
                    reason: e.to_string(),
                })?;
                Ok(Some(Object { bytes: body.into_bytes().to_vec(), etag }))
            }
            Err(e) if code(&e) == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(self.error("read", &e)),
        }
    }

    async fn read_lock(&self) -> Result<Option<(LockInfo, String)>, BackendError> {
        Ok(self.get(&self.lock_key()).await?.map(|o| {
            let info = serde_json::from_slice(&o.bytes).unwrap_or_else(|_| LockInfo::unreadable(&o.bytes));
            (info, o.etag)
        }))
    }

    /// Delete the lock object if it still has `etag`.
    async fn delete_lock(&self, etag: &str) -> Result<(), BackendError> {
        let sent = self.client().delete_object().bucket(&self.bucket).key(self.lock_key()).if_match(etag).send().await;
        match sent {
            Ok(_) => Ok(()),
            // Gone already: this delete's first answer was lost.
            Err(e) if conflict(&e) && self.read_lock().await?.is_none() => Ok(()),
            Err(e) if conflict(&e) => Err(BackendError::Stale {
                location: self.lock_key(),
                reason: "the lock changed while it was being released".into(),
            }),
            Err(e) => Err(self.error("unlock", &e)),
        }
    }

    async fn init_bucket(&self) -> Result<Vec<String>, BackendError> {
        let failed = |e: k8sinfra_engine::provider::ProviderError| BackendError::Io {
            action: "prepare",
            location: self.location(),
            reason: e.to_string(),
        };
        let created = bucket::create_bucket(&self.client(), &self.bucket).await.map_err(failed)?;
        let mut done = vec![if created {
            format!("created bucket {} in {}", self.bucket, self.region)
        } else {
            format!("bucket {} exists", self.bucket)
        }];
        bucket::set_versioning(&self.client(), &self.bucket, true).await.map_err(failed)?;
        done.push("versioning on: every state written is kept".into());
        bucket::set_encryption(&self.client(), &self.bucket, "AES256").await.map_err(failed)?;
        done.push("default encryption on (AES-256)".into());
        bucket::block_public_access(&self.client(), &self.bucket, true).await.map_err(failed)?;
        done.push("public access blocked".into());
        // Access check: the state can be read (or is not there yet).
        self.get(&self.key).await?;
        done.push(format!("{} is readable", self.location()));
        Ok(done)
    }

    async fn load_now(&self) -> Result<State, BackendError> {
        let object = self.get(&self.key).await?;
        let (state, base) = match object {
            Some(o) => {
                let state = decode(&o.bytes)?;
                let base = Base { etag: o.etag, lineage: state.lineage.clone(), serial: state.serial };
                (state, Some(base))
            }
            None => (State::new(), None),
        };
        if let Ok(mut b) = self.base.lock() {
            *b = base;
        }
        Ok(state)
    }

    async fn save_now(&self, state: &State) -> Result<(), BackendError> {
        let base = self.base.lock().ok().and_then(|b| b.clone());
        check_descends(&self.location(), base.as_ref().map(|b| (b.lineage.as_str(), b.serial)), state)?;
        let bytes = encode(state);
        let put = self
            .client()
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes.clone()));
        let put = match &base {
            Some(b) => put.if_match(&b.etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().to_string();
                if let Ok(mut b) = self.base.lock() {
                    *b = Some(Base { etag, lineage: state.lineage.clone(), serial: state.serial });
                }
                Ok(())
            }
            // Refused: unless what is stored is this very write, whose
            // first answer was lost and whose retry met its own ETag.
            Err(e) if conflict(&e) => match self.get(&self.key).await? {
                Some(stored) if stored.bytes == bytes => {
                    if let Ok(mut b) = self.base.lock() {
                        *b = Some(Base { etag: stored.etag, lineage: state.lineage.clone(), serial: state.serial });
                    }
                    Ok(())
                }
                _ => Err(BackendError::Stale {
                    location: self.location(),
                    reason: match base {
                        Some(b) => format!("the stored state is no longer serial {} (its ETag changed)", b.serial),
                        None => "a state was stored since this run found none".into(),
                    },
                }),
            },
            Err(e) => Err(self.error("write", &e)),
        }
    }

    async fn try_lock_now(&self, lock: &LockInfo) -> Result<Option<LockInfo>, BackendError> {
        let body = serde_json::to_vec_pretty(lock).unwrap_or_default();
        let mut reclaimed = None;
        // A few rounds at most: a lock that vanishes between our create
        // and our read is retried, a dead holder's is taken over once.
        for _ in 0..5 {
            let sent = self
                .client()
                .put_object()
                .bucket(&self.bucket)
                .key(self.lock_key())
                .content_type("application/json")
                .server_side_encryption(ServerSideEncryption::Aes256)
                .if_none_match("*")
                .body(ByteStream::from(body.clone()))
                .send()
                .await;
            match sent {
                Ok(out) => {
                    self.hold(lock, out.e_tag());
                    return Ok(reclaimed);
                }
                Err(e) if conflict(&e) => match self.read_lock().await? {
                    None => {}
                    // Our own lock: the first answer was lost, the retry
                    // found what it had made.
                    Some((holder, etag)) if holder.id == lock.id => {
                        self.hold(lock, Some(&etag));
                        return Ok(reclaimed);
                    }
                    Some((holder, etag)) if reclaimed.is_none() && holder.holder_is_gone() => {
                        self.delete_lock(&etag).await?;
                        reclaimed = Some(holder);
                    }
                    Some((holder, _)) => {
                        return Err(BackendError::Locked {
                            location: self.location(),
                            holder: holder.describe(),
                            id: holder.id,
                        });
                    }
                },
                Err(e) => return Err(self.error("lock", &e)),
            }
        }
        Err(BackendError::Io { action: "lock", location: self.location(), reason: "the lock kept changing".into() })
    }

    fn hold(&self, lock: &LockInfo, etag: Option<&str>) {
        if let (Ok(mut held), Some(etag)) = (self.held.lock(), etag) {
            *held = Some((lock.id.clone(), etag.to_string()));
        }
    }

    async fn unlock_now(&self, lock: &LockInfo) -> Result<(), BackendError> {
        // The lock as this run wrote it: deleted if it is still that one.
        let held = self.held.lock().ok().and_then(|mut h| h.take()).filter(|(id, _)| *id == lock.id);
        if let Some((_, etag)) = held {
            let sent =
                self.client().delete_object().bucket(&self.bucket).key(self.lock_key()).if_match(&etag).send().await;
            match sent {
                Ok(_) => return Ok(()),
                // Changed since (force-unlocked, perhaps taken): look.
                Err(e) if conflict(&e) => {}
                Err(e) => return Err(self.error("unlock", &e)),
            }
        }
        match self.read_lock().await? {
            Some((current, etag)) if current.id == lock.id => self.delete_lock(&etag).await,
            // Force-unlocked meanwhile, perhaps taken by another run: not ours.
            _ => Ok(()),
        }
    }

    async fn force_unlock_now(&self, id: &str) -> Result<LockInfo, BackendError> {
        let Some((current, etag)) = self.read_lock().await? else {
            return Err(BackendError::NotLocked { location: self.location() });
        };
        if current.id != id {
            return Err(BackendError::WrongLockId {
                location: self.location(),
                held: current.id.clone(),
                asked: id.to_string(),
                holder: current.describe(),
            });
        }
        self.delete_lock(&etag).await?;
        Ok(current)
    }
}

impl Backend for S3Backend {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn init(&self) -> BoxFuture<'_, Result<Vec<String>, BackendError>> {
        Box::pin(self.following(|| self.init_bucket()))
    }

    fn load(&self) -> BoxFuture<'_, Result<State, BackendError>> {
        Box::pin(self.following(|| self.load_now()))
    }

    fn save<'a>(&'a self, state: &'a State) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.following(|| self.save_now(state)))
    }

    fn try_lock<'a>(&'a self, lock: &'a LockInfo) -> BoxFuture<'a, Result<Option<LockInfo>, BackendError>> {
        Box::pin(self.following(|| self.try_lock_now(lock)))
    }

    fn unlock<'a>(&'a self, lock: &'a LockInfo) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.following(|| self.unlock_now(lock)))
    }

    fn force_unlock<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<LockInfo, BackendError>> {
        Box::pin(self.following(|| self.force_unlock_now(id)))
    }
}

fn code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
}

fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// A conditional request that lost: 412, or 409 when two writes crossed.
fn conflict<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(code(err), Some("PreconditionFailed" | "ConditionalRequestConflict"))
        || matches!(http_status(err), Some(412 | 409))
}
