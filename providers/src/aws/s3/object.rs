//! `s3_object`: PutObject from inline `content` or a `source` file. Its id
//! is `BUCKET/KEY`. Small objects are read back whole so a change made
//! outside k8sinfra shows as a content diff; larger ones by ETag only.

use aws_sdk_s3::primitives::ByteStream;
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
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

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .set_content_type(text(attrs, "content_type").map(str::to_string))
        .body(ByteStream::from(body(attrs)?))
        .send()
        .await
        .map_err(|e| api("PutObject", e))?;
    Ok(())
}

pub async fn create(s3: &aws_sdk_s3::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let (bucket, key) = (text(attrs, "bucket").unwrap_or_default(), text(attrs, "key").unwrap_or_default());
    put(s3, bucket, key, attrs).await?;
    let id = format!("{bucket}/{key}");
    read(s3, target, &id).await?.ok_or_else(|| gone(&id))
}

pub async fn read(s3: &aws_sdk_s3::Client, _target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let Some((bucket, key)) = split(id) else { return Ok(None) };
    let head = match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(head) => head,
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(None),
        Err(e) => return Err(api("HeadObject", e)),
    };
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("bucket".into(), json!(bucket));
    attrs.insert("key".into(), json!(key));
    attrs.insert("content_type".into(), json!(head.content_type()));
    attrs.insert("etag".into(), json!(head.e_tag().unwrap_or_default().trim_matches('"')));
    if head.content_length().unwrap_or(0) <= READ_WHOLE {
        let object = match s3.get_object().bucket(bucket).key(key).send().await {
            Ok(object) => object,
            Err(e) if code(&e).as_deref() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(api("GetObject", e)),
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| ProviderError::Api { operation: "GetObject".into(), message: e.to_string() })?
            .into_bytes();
        // Only text is compared as content; binary objects by ETag.
        if let Ok(content) = String::from_utf8(bytes.to_vec()) {
            attrs.insert("content".into(), json!(content));
        }
    }
    Ok(Some(Remote { id: id.into(), attrs }))
}

/// A new content or type: the object is written again (same id).
pub async fn update(
    s3: &aws_sdk_s3::Client,
    target: Target<'_>,
    id: &str,
    _before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let Some((bucket, key)) = split(id) else { return Err(gone(id)) };
    put(s3, bucket, key, after).await?;
    read(s3, target, id).await?.ok_or_else(|| gone(id))
}

pub async fn delete(s3: &aws_sdk_s3::Client, id: &str) -> Result<(), ProviderError> {
    let Some((bucket, key)) = split(id) else { return Ok(()) };
    match s3.delete_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(()),
        Err(e) if code(&e).as_deref() == Some("NoSuchBucket") => Ok(()),
        Err(e) => Err(api("DeleteObject", e)),
    }
}

fn gone(id: &str) -> ProviderError {
    ProviderError::Api { operation: "PutObject".into(), message: format!("{id} cannot be read back") }
}
