//! `s3_object`: PutObject from inline `content` or a `source` file. Its id
//! is `BUCKET/KEY`. Small objects are read back whole so a change made
//! outside k8sinfra shows as a content diff; larger ones by ETag only.

use aws_sdk_s3::primitives::ByteStream;
use std::collections::BTreeMap;

use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Stored, Target};
use serde_json::json;

use super::super::attrs::text;
use super::super::errors::{api, code};

/// Objects up to this size are read back whole (a megabyte).
const READ_WHOLE: i64 = 1 << 20;

fn split(id: &str) -> Option<(&str, &str)> {
    id.split_once('/')
}

/// The bytes to upload: `content`, or the file `source` names (relative
/// to the folder k8sinfra runs in).
fn body(attrs: &Attrs) -> Result<Vec<u8>, ProviderError> {
    if let Some(content) = text(attrs, "content") {
        return Ok(content.as_bytes().to_vec());
    }
    let source = text(attrs, "source").unwrap_or_default();
    std::fs::read(source).map_err(|e| ProviderError::Api {
        operation: "PutObject".into(),
        message: format!("cannot read `source` {source}: {e}"),
    })
}

/// Write the object, then read back what S3 decides (its ETag, the
/// default content type) with a HeadObject; the content is what was sent.
async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let bytes = body(attrs)?;
    let content_type = text(attrs, "content_type").map(str::to_string);
    let put = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .set_content_type(content_type.clone())
        .body(ByteStream::from(bytes.clone()))
        .send()
        .await
        .map_err(|e| api("PutObject", e))?;
    let id = format!("{bucket}/{key}");
    // With its type given, the answer's ETag is all S3 decided.
    if let (Some(content_type), Some(etag)) = (content_type.as_deref(), put.e_tag()) {
        let whole = i64::try_from(bytes.len()).is_ok_and(|size| size <= READ_WHOLE);
        return Ok(remote(&id, Some(content_type), etag, whole.then_some(bytes)));
    }
    read_one(s3, &id, Some(bytes)).await?.ok_or_else(|| gone(&id))
}

pub async fn create(s3: &aws_sdk_s3::Client, _target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let (bucket, key) = (text(attrs, "bucket").unwrap_or_default(), text(attrs, "key").unwrap_or_default());
    put(s3, bucket, key, attrs).await
}

pub async fn read(s3: &aws_sdk_s3::Client, _target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    read_one(s3, id, None).await
}

/// HeadObject, and the content (GetObject) unless `sent` is what was just
/// written.
async fn read_one(s3: &aws_sdk_s3::Client, id: &str, sent: Option<Vec<u8>>) -> Result<Option<Remote>, ProviderError> {
    let Some((bucket, key)) = split(id) else { return Ok(None) };
    let head = match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(head) => head,
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(None),
        Err(e) => return Err(api("HeadObject", e)),
    };
    let (content_type, etag) = (head.content_type(), head.e_tag().unwrap_or_default());
    if head.content_length().unwrap_or(0) > READ_WHOLE {
        return Ok(Some(remote(id, content_type, etag, None)));
    }
    let body = match sent {
        Some(sent) => sent,
        None => {
            let object = match s3.get_object().bucket(bucket).key(key).send().await {
                Ok(object) => object,
                Err(e) if code(&e).as_deref() == Some("NoSuchKey") => return Ok(None),
                Err(e) => return Err(api("GetObject", e)),
            };
            object
                .body
                .collect()
                .await
                .map_err(|e| ProviderError::Api { operation: "GetObject".into(), message: e.to_string() })?
                .to_vec()
        }
    };
    Ok(Some(remote(id, content_type, etag, Some(body))))
}

/// An object as the state keeps it. `body` is given for objects read (or
/// written) whole; only text is compared as content, binary objects and
/// large ones by ETag.
fn remote(id: &str, content_type: Option<&str>, etag: &str, body: Option<Vec<u8>>) -> Remote {
    let (bucket, key) = split(id).unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("bucket".into(), json!(bucket));
    attrs.insert("key".into(), json!(key));
    attrs.insert("content_type".into(), json!(content_type));
    attrs.insert("etag".into(), json!(etag.trim_matches('"')));
    if let Some(content) = body.and_then(|b| String::from_utf8(b).ok()) {
        attrs.insert("content".into(), json!(content));
    }
    Remote { id: id.into(), attrs }
}

/// Read objects in bulk (`None` for the gone), in order: each bucket's
/// keys are listed (ListObjectsV2 under their common prefix, 1,000 a
/// page), and an object whose ETag is the one the state holds is
/// unchanged — its content and type are kept as stored. Only an object
/// whose ETag differs is read on its own. A listing is cut off after as
/// many pages as it has objects to read, past which reading them one by
/// one is cheaper.
pub async fn read_many(s3: &aws_sdk_s3::Client, stored: &[Stored<'_>]) -> Result<Vec<Option<Remote>>, ProviderError> {
    let mut by_bucket: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
    for (at, one) in stored.iter().enumerate() {
        if let Some((bucket, key)) = split(one.id) {
            by_bucket.entry(bucket).or_default().push((at, key));
        }
    }
    let mut read: Vec<Option<Remote>> = vec![None; stored.len()];
    for (bucket, keys) in by_bucket {
        let prefix = common_prefix(keys.iter().map(|(_, key)| *key));
        let listed = list(s3, bucket, prefix, keys.len()).await?;
        for (at, key) in keys {
            let one = &stored[at];
            let known = one.attrs.get("etag").and_then(serde_json::Value::as_str);
            read[at] = match listed.as_ref().map(|etags| etags.get(key)) {
                // Listed whole and not there: gone.
                Some(None) => None,
                Some(Some(etag)) if Some(etag.as_str()) == known => {
                    let mut attrs = Attrs::new();
                    attrs.insert("id".into(), json!(one.id));
                    attrs.insert("bucket".into(), json!(bucket));
                    attrs.insert("key".into(), json!(key));
                    attrs.insert("etag".into(), json!(etag));
                    Some(Remote { id: one.id.into(), attrs })
                }
                // Changed, or not listed: read on its own.
                _ => read_one(s3, one.id, None).await?,
            };
        }
    }
    Ok(read)
}

/// The ETags of a bucket's keys under `prefix`; `None` when the bucket
/// holds more there than `pages` pages (or is gone: each read will say).
async fn list(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    pages: usize,
) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    let mut etags = BTreeMap::new();
    let mut token: Option<String> = None;
    for _ in 0..pages {
        let call = s3.list_objects_v2().bucket(bucket).prefix(prefix).set_continuation_token(token.take());
        let out = match call.send().await {
            Ok(out) => out,
            Err(e) if code(&e).as_deref() == Some("NoSuchBucket") => return Ok(None),
            Err(e) => return Err(api("ListObjectsV2", e)),
        };
        for object in out.contents() {
            let etag = object.e_tag().unwrap_or_default().trim_matches('"').to_string();
            etags.insert(object.key().unwrap_or_default().to_string(), etag);
        }
        match out.next_continuation_token() {
            Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => return Ok(Some(etags)),
        }
    }
    Ok(None)
}

/// The longest prefix all `keys` share.
fn common_prefix<'a>(mut keys: impl Iterator<Item = &'a str>) -> &'a str {
    let Some(first) = keys.next() else { return "" };
    let mut prefix = first;
    for key in keys {
        let shared = prefix.char_indices().zip(key.chars()).take_while(|((_, a), b)| a == b).count();
        let end = prefix.char_indices().nth(shared).map_or(prefix.len(), |(at, _)| at);
        prefix = &prefix[..end];
    }
    prefix
}

/// A new content or type: the object is written again (same id).
pub async fn update(
    s3: &aws_sdk_s3::Client,
    _target: Target<'_>,
    id: &str,
    _before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let Some((bucket, key)) = split(id) else { return Err(gone(id)) };
    put(s3, bucket, key, after).await
}

/// The object goes with every version of it, as Terraform's does: in a
/// versioned bucket a plain delete only hides it behind a marker, and the
/// bucket could then never be destroyed without `force_destroy`.
pub async fn delete(s3: &aws_sdk_s3::Client, id: &str) -> Result<(), ProviderError> {
    let Some((bucket, key)) = split(id) else { return Ok(()) };
    match s3.delete_object().bucket(bucket).key(key).send().await {
        Ok(_) => {}
        Err(e) if code(&e).as_deref() == Some("NoSuchBucket") => return Ok(()),
        Err(e) => return Err(api("DeleteObject", e)),
    }
    super::bucket::delete_versions(s3, bucket, Some(key)).await
}

fn gone(id: &str) -> ProviderError {
    ProviderError::Api { operation: "PutObject".into(), message: format!("{id} cannot be read back") }
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn common_prefix_of_keys() {
        assert_eq!(common_prefix(["nodes/1.json", "nodes/12.json", "nodes/2.json"].into_iter()), "nodes/");
        assert_eq!(common_prefix(["a/b", "c"].into_iter()), "");
        assert_eq!(common_prefix(["only/one"].into_iter()), "only/one");
        assert_eq!(common_prefix(["é/x", "é/y"].into_iter()), "é/");
        assert_eq!(common_prefix(std::iter::empty()), "");
    }
}
