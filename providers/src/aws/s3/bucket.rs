//! `s3_bucket`: CreateBucket, then versioning, default encryption, the
//! public-access block and tags, each a call of its own. The bucket's id is
//! its name, its natural identity: a create that finds the bucket already
//! ours (an earlier run interrupted after the call) adopts it.
//!
//! The settings helpers are shared with the S3 state backend's `init`.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Stored, Target};
use serde_json::{json, Value};

use super::super::errors::{api, code};
use super::super::tags::{owned_by, owned_tags, tags_json};

fn flag(attrs: &Attrs, name: &str) -> bool {
    attrs.get(name).and_then(Value::as_bool).unwrap_or(false)
}

fn build_error(operation: &str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Api { operation: operation.into(), message: e.to_string() }
}

fn region(s3: &aws_sdk_s3::Client) -> String {
    s3.config().region().map_or_else(|| "us-east-1".to_string(), ToString::to_string)
}

/// Create `name` in the client's region; `Ok(false)` if it was there
/// before. (us-east-1 is the one region that refuses to be named, and
/// where CreateBucket answers 200 for a bucket its caller owns: hence the
/// look first. `BucketAlreadyOwnedByYou` after a look that found nothing
/// is this call's own bucket, answered twice: the SDK retried a create
/// whose first answer was lost.)
pub async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str) -> Result<bool, ProviderError> {
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => return Ok(false),
        Err(e) if http_status(&e) == Some(404) => {}
        Err(e) => return Err(api("HeadBucket", e)),
    }
    let region = region(s3);
    let mut create = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => Ok(true),
        Err(e) if code(&e).as_deref() == Some("BucketAlreadyOwnedByYou") => Ok(true),
        Err(e) => Err(api("CreateBucket", e)),
    }
}

pub async fn set_versioning(s3: &aws_sdk_s3::Client, name: &str, on: bool) -> Result<(), ProviderError> {
    let status = if on { BucketVersioningStatus::Enabled } else { BucketVersioningStatus::Suspended };
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map_err(|e| api("PutBucketVersioning", e))?;
    Ok(())
}

/// Default encryption: `AES256` or `aws:kms`.
pub async fn set_encryption(s3: &aws_sdk_s3::Client, name: &str, algorithm: &str) -> Result<(), ProviderError> {
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(algorithm))
        .build()
        .map_err(|e| build_error("PutBucketEncryption", e))?;
    let configuration = ServerSideEncryptionConfiguration::builder()
        .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(default).build())
        .build()
        .map_err(|e| build_error("PutBucketEncryption", e))?;
    s3.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(configuration)
        .send()
        .await
        .map_err(|e| api("PutBucketEncryption", e))?;
    Ok(())
}

/// All four public-access settings on, or the block removed.
pub async fn block_public_access(s3: &aws_sdk_s3::Client, name: &str, on: bool) -> Result<(), ProviderError> {
    if !on {
        s3.delete_public_access_block().bucket(name).send().await.map_err(|e| api("DeletePublicAccessBlock", e))?;
        return Ok(());
    }
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(block)
        .send()
        .await
        .map_err(|e| api("PutPublicAccessBlock", e))?;
    Ok(())
}

async fn set_tags(
    s3: &aws_sdk_s3::Client,
    target: &Target<'_>,
    name: &str,
    attrs: &Attrs,
) -> Result<(), ProviderError> {
    let tags = owned_tags(target, attrs)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| build_error("PutBucketTagging", e))?;
    let tagging = Tagging::builder().set_tag_set(Some(tags)).build().map_err(|e| build_error("PutBucketTagging", e))?;
    s3.put_bucket_tagging().bucket(name).tagging(tagging).send().await.map_err(|e| api("PutBucketTagging", e))?;
    Ok(())
}

pub async fn create(s3: &aws_sdk_s3::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let name = attrs.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    let new = create_bucket(s3, &name).await?;
    if !new {
        adoptable(s3, &target, &name).await?;
    }
    configure(s3, &target, &name, attrs, None).await?;
    if !new {
        return read(s3, target, &name).await?.ok_or_else(|| gone(&name));
    }
    // A new bucket has exactly the settings `configure` just made.
    let settings = Settings {
        versioning: Some(flag(attrs, "versioning")),
        encryption: Some(Some(attrs.get("encryption").and_then(Value::as_str).unwrap_or("AES256").to_string())),
        blocked: Some(flag(attrs, "block_public_access")),
        tags: owned_tags(&target, attrs),
    };
    Ok(remote(&target, &name, settings))
}

/// A bucket's settings, as S3 shows them one call each; `None` for one
/// not read (see `Wanted`).
struct Settings {
    versioning: Option<bool>,
    encryption: Option<Option<String>>,
    blocked: Option<bool>,
    tags: Vec<(String, String)>,
}

/// A bucket as the state keeps it: a setting not read is left out, for
/// the state's value to stand.
fn remote(target: &Target<'_>, name: &str, settings: Settings) -> Remote {
    let tags = settings.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(name));
    attrs.insert("name".into(), json!(name));
    if let Some(versioning) = settings.versioning {
        attrs.insert("versioning".into(), json!(versioning));
    }
    if let Some(encryption) = settings.encryption {
        attrs.insert("encryption".into(), json!(encryption));
    }
    if let Some(blocked) = settings.blocked {
        attrs.insert("block_public_access".into(), json!(blocked));
    }
    attrs.insert("tags".into(), tags_json(target, tags));
    attrs.insert("arn".into(), json!(format!("arn:aws:s3:::{name}")));
    Remote { id: name.into(), attrs }
}

/// Which of a bucket's settings a read asks S3 for, each a call of its
/// own. Tags are always read: they are always compared, and their call
/// says whether the bucket exists.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    versioning: bool,
    encryption: bool,
    blocked: bool,
}

impl Wanted {
    pub const ALL: Wanted = Wanted { versioning: true, encryption: true, blocked: true };

    /// Those a refresh must read: versioning where the configuration
    /// writes it, and always the two that guard the data (encryption and
    /// the public-access block). Their defaults are protections the
    /// security lint counts on; someone turning one off in the console
    /// must show as drift whether or not the configuration spells the
    /// default out. Buckets are few; two calls each is a fair price.
    pub fn of(stored: &Stored<'_>) -> Wanted {
        Wanted { versioning: stored.wants("versioning"), encryption: true, blocked: true }
    }
}

/// A bucket that exists already is taken over only if this very resource
/// made it (an interrupted create: its ownership tags name this address
/// and this state's lineage). Any other belongs to someone else, perhaps
/// another configuration: silently sharing it would let either destroy it.
async fn adoptable(s3: &aws_sdk_s3::Client, target: &Target<'_>, name: &str) -> Result<(), ProviderError> {
    if owned_by(&tags_of(s3, name).await?, target) {
        return Ok(());
    }
    Err(ProviderError::Api {
        operation: "CreateBucket".into(),
        message: format!(
            "bucket `{name}` already exists and was not made by this configuration; \
             to manage it here: `k8sinfra import {} {name}`",
            target.address
        ),
    })
}

/// Each setting that differs from `before` (all of them for a new bucket).
async fn configure(
    s3: &aws_sdk_s3::Client,
    target: &Target<'_>,
    name: &str,
    after: &Attrs,
    before: Option<&Attrs>,
) -> Result<(), ProviderError> {
    let changed = |attr: &str| before.is_none_or(|b| b.get(attr) != after.get(attr));
    // Ownership first: the sooner a new bucket carries its tags, the
    // smaller the window in which an interrupted run leaves it untagged.
    if changed("tags") || before.is_none() {
        set_tags(s3, target, name, after).await?;
    }
    // A new bucket's versioning is off already: suspending it would only
    // make it "Suspended" rather than never enabled.
    if changed("versioning") && (before.is_some() || flag(after, "versioning")) {
        set_versioning(s3, name, flag(after, "versioning")).await?;
    }
    if changed("encryption") {
        let algorithm = after.get("encryption").and_then(Value::as_str).unwrap_or("AES256");
        set_encryption(s3, name, algorithm).await?;
    }
    if changed("block_public_access") {
        block_public_access(s3, name, flag(after, "block_public_access")).await?;
    }
    Ok(())
}

/// The bucket an interrupted create made, if any. CreateBucket takes no
/// tags, so a run killed between it and the tagging call leaves a bucket
/// without its ownership tags: one such bucket made after the create
/// started (`target.since`, a minute's grace for clocks) and named as the
/// create asked (`target.expected_id`) is taken as it, if there is exactly
/// one. A bucket tagged as this resource's always is.
pub async fn find(s3: &aws_sdk_s3::Client, target: Target<'_>) -> Result<Option<Remote>, ProviderError> {
    let listed = s3.list_buckets().send().await.map_err(|e| api("ListBuckets", e))?;
    let mut untagged = Vec::new();
    for bucket in listed.buckets() {
        let Some(name) = bucket.name() else { continue };
        // Only the bucket the create asked for, when the state knows its
        // name: other buckets' tags are not asked for (a stranger's bucket
        // in another region answers 301, one we may not read 403).
        if target.expected_id.is_some_and(|wanted| wanted != name) {
            continue;
        }
        let tags = tags_of(s3, name).await?;
        if owned_by(&tags, &target) {
            return read(s3, target, name).await;
        }
        let made = bucket.creation_date().map(|d| d.secs());
        let after = matches!((made, target.since), (Some(made), Some(since)) if made + 60 >= since as i64);
        // The name the create asked for, when the state knows it: any other
        // untagged bucket made in that minute (the state's own, made by
        // `init` just before) is someone else's.
        let named = target.expected_id.is_none_or(|id| id == name);
        if after && named && !tags.iter().any(|(k, _)| k.starts_with("k8sinfra:")) {
            untagged.push(name.to_string());
        }
    }
    match untagged.as_slice() {
        [name] => read(s3, target, name).await,
        _ => Ok(None),
    }
}

/// A bucket's tags as pairs (none when it has no tag set).
async fn tags_of(s3: &aws_sdk_s3::Client, name: &str) -> Result<Vec<(String, String)>, ProviderError> {
    tags_if_there(s3, name).await?.ok_or_else(|| ProviderError::Api {
        operation: "GetBucketTagging".into(),
        message: format!("NoSuchBucket: the bucket {name} does not exist"),
    })
}

/// A bucket's tags, or `None` if the bucket does not exist.
async fn tags_if_there(s3: &aws_sdk_s3::Client, name: &str) -> Result<Option<Vec<(String, String)>>, ProviderError> {
    Ok(Some(match s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => out.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
        Err(e) if code(&e).as_deref() == Some("NoSuchTagSet") => Vec::new(),
        Err(e) if code(&e).as_deref() == Some("NoSuchBucket") => return Ok(None),
        Err(e) => return Err(api("GetBucketTagging", e)),
    }))
}

/// Every setting of the bucket, or `None` if it does not exist.
pub async fn read(s3: &aws_sdk_s3::Client, target: Target<'_>, name: &str) -> Result<Option<Remote>, ProviderError> {
    read_wanted(s3, target, name, Wanted::ALL).await
}

/// The bucket's tags and the settings asked for, each its own call: the
/// tags first, which say whether the bucket exists, then the rest at once.
pub async fn read_wanted(
    s3: &aws_sdk_s3::Client,
    target: Target<'_>,
    name: &str,
    wanted: Wanted,
) -> Result<Option<Remote>, ProviderError> {
    let Some(tags) = tags_if_there(s3, name).await? else { return Ok(None) };
    let encryption = async {
        if !wanted.encryption {
            return Ok(None);
        }
        Ok(Some(match s3.get_bucket_encryption().bucket(name).send().await {
            Ok(out) => out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .map(|d| d.sse_algorithm().as_str().to_string()),
            Err(e) if code(&e).as_deref() == Some("ServerSideEncryptionConfigurationNotFoundError") => None,
            Err(e) => return Err(api("GetBucketEncryption", e)),
        }))
    };
    let blocked = async {
        if !wanted.blocked {
            return Ok(None);
        }
        Ok(Some(match s3.get_public_access_block().bucket(name).send().await {
            Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
                [c.block_public_acls(), c.ignore_public_acls(), c.block_public_policy(), c.restrict_public_buckets()]
                    .iter()
                    .all(|v| *v == Some(true))
            }),
            Err(e) if code(&e).as_deref() == Some("NoSuchPublicAccessBlockConfiguration") => false,
            Err(e) => return Err(api("GetPublicAccessBlock", e)),
        }))
    };
    let versioning = async {
        if !wanted.versioning {
            return Ok(None);
        }
        versioning(s3, name).await.map(Some)
    };
    let (encryption, blocked, versioning) = tokio::try_join!(encryption, blocked, versioning)?;
    Ok(Some(remote(&target, name, Settings { versioning, encryption, blocked, tags })))
}

/// Whether versioning is on. moto 5.2.5 answers GetBucketVersioning with
/// the XML root `GetBucketVersioningResponse` instead of
/// `VersioningConfiguration`, which the SDK refuses to parse; the status is
/// then read from the raw body. Real S3 never takes that path.
async fn versioning(s3: &aws_sdk_s3::Client, name: &str) -> Result<bool, ProviderError> {
    match s3.get_bucket_versioning().bucket(name).send().await {
        Ok(out) => Ok(out.status() == Some(&BucketVersioningStatus::Enabled)),
        Err(e) => {
            let body = e.raw_response().and_then(|r| r.body().bytes()).map(String::from_utf8_lossy);
            match body {
                Some(text) if http_status(&e) == Some(200) => Ok(text.contains("<Status>Enabled</Status>")),
                _ => Err(api("GetBucketVersioning", e)),
            }
        }
    }
}

pub async fn update(
    s3: &aws_sdk_s3::Client,
    target: Target<'_>,
    name: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    configure(s3, &target, name, after, Some(before)).await?;
    read(s3, target, name).await?.ok_or_else(|| gone(name))
}

/// With `force_destroy`, every object version goes first; without it, a
/// bucket that still holds objects is left, with AWS's message.
pub async fn delete(s3: &aws_sdk_s3::Client, name: &str, force: bool) -> Result<(), ProviderError> {
    if force {
        empty(s3, name).await?;
    }
    match s3.delete_bucket().bucket(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if code(&e).as_deref() == Some("NoSuchBucket") => Ok(()),
        Err(e) => Err(api("DeleteBucket", e)),
    }
}

async fn empty(s3: &aws_sdk_s3::Client, name: &str) -> Result<(), ProviderError> {
    delete_versions(s3, name, None).await
}

/// Delete every version and delete marker in the bucket, or of one key:
/// in a versioned bucket a plain DeleteObject only adds a marker, and the
/// bucket stays "not empty" for DeleteBucket.
pub async fn delete_versions(s3: &aws_sdk_s3::Client, name: &str, only: Option<&str>) -> Result<(), ProviderError> {
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let page = match s3
            .list_object_versions()
            .bucket(name)
            .set_prefix(only.map(str::to_string))
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) if code(&e).as_deref() == Some("NoSuchBucket") => return Ok(()),
            Err(e) => return Err(api("ListObjectVersions", e)),
        };
        let versions = page
            .versions()
            .iter()
            .filter_map(|v| Some((v.key()?, v.version_id())))
            .chain(page.delete_markers().iter().filter_map(|m| Some((m.key()?, m.version_id()))))
            // A prefix also matches longer keys (`a.json` and `a.json.bak`).
            .filter(|(key, _)| only.is_none_or(|only| only == *key));
        for (key, version) in versions {
            s3.delete_object()
                .bucket(name)
                .key(key)
                .set_version_id(version.map(str::to_string))
                .send()
                .await
                .map_err(|e| api("DeleteObject", e))?;
        }
        if page.is_truncated() != Some(true) {
            return Ok(());
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
}

fn http_status<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

fn gone(name: &str) -> ProviderError {
    ProviderError::Api { operation: "CreateBucket".into(), message: format!("bucket {name} cannot be read back") }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::TcpListener;

    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

    /// A one-answer S3: every request gets `body` with status 200, as AWS
    /// documents GetBucketVersioning's answer (or as moto gives it).
    fn answering(body: &'static str) -> aws_sdk_s3::Client {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut rest = vec![0; length];
                let _ = reader.read_exact(&mut rest);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let mut stream = stream;
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    #[tokio::test]
    async fn versioning_is_read_from_s3s_own_answer_and_from_motos() {
        // What AWS documents (and the SDK parses).
        let aws = answering(
            r#"<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#,
        );
        assert!(super::versioning(&aws, "b").await.expect("parsed"));
        let suspended = answering(
            r#"<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status></VersioningConfiguration>"#,
        );
        assert!(!super::versioning(&suspended, "b").await.expect("parsed"));
        let never = answering(
            r#"<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#,
        );
        assert!(!super::versioning(&never, "b").await.expect("parsed"));
        // moto 5.2.5's root element, which the SDK refuses.
        let moto = answering(
            r#"<?xml version="1.0" encoding="UTF-8"?><GetBucketVersioningResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></GetBucketVersioningResponse>"#,
        );
        assert!(super::versioning(&moto, "b").await.expect("read from the body"));
    }
}
