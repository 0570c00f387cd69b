//! S3 buckets and objects: schemas, and the calls by type.

pub mod bucket;
mod object;

use futures_util::StreamExt as _;
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Stored, Target};
use k8sinfra_engine::schema::{AttrSchema, ResourceSchema};
use k8sinfra_lang::{Type, Value};

use super::{id, reference, tags};

pub fn schemas() -> Vec<ResourceSchema> {
    vec![
        ResourceSchema::new("s3_bucket", "An S3 bucket")
            .id_is("name")
            .attr(AttrSchema::required("name", Type::String).forces_new().describe("Globally unique bucket name"))
            .attr(
                AttrSchema::optional("versioning", Type::Bool)
                    .default(Value::Bool(false))
                    .describe("Keep every version of each object"),
            )
            .attr(
                AttrSchema::optional("encryption", Type::String)
                    .default(Value::String("AES256".into()))
                    .describe("Server-side encryption: AES256 or aws:kms"),
            )
            .attr(
                AttrSchema::optional("block_public_access", Type::Bool)
                    .default(Value::Bool(true))
                    .describe("Block public access to the bucket"),
            )
            .attr(
                AttrSchema::optional("force_destroy", Type::Bool)
                    .default(Value::Bool(false))
                    .describe("Delete objects when the bucket is destroyed"),
            )
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("arn", Type::String).describe("The bucket's ARN")),
        ResourceSchema::new("s3_object", "An object in a bucket, from inline text or a file")
            .attr(AttrSchema::required("bucket", reference("s3_bucket")).forces_new().describe("The bucket"))
            .attr(AttrSchema::required("key", Type::String).forces_new().describe("Object key: its path in the bucket"))
            .attr(AttrSchema::optional("content", Type::String).describe("Inline content; or use `source`"))
            .attr(
                AttrSchema::optional("source", Type::String)
                    .describe("Path of a file to upload, relative to the folder k8sinfra runs in"),
            )
            .attr(AttrSchema::optional("content_type", Type::String).describe("MIME type, e.g. application/json"))
            .attr(id())
            .attr(AttrSchema::computed("etag", Type::String).describe("Entity tag of the stored object")),
    ]
}

pub async fn read(s3: &aws_sdk_s3::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    match target.type_name {
        "s3_bucket" => bucket::read(s3, target, id).await,
        _ => object::read(s3, target, id).await,
    }
}

/// Buckets whose settings S3 shows read at once per bucket.
const BUCKETS_AT_ONCE: usize = 8;

/// Objects in bulk (`object::read_many`). Buckets S3 shows one bucket and
/// one setting per call: their tags, and the settings the configuration
/// writes (`bucket::Wanted`), eight buckets at a time.
pub async fn read_many(
    s3: &aws_sdk_s3::Client,
    type_name: &str,
    stored: &[Stored<'_>],
) -> Result<Option<Vec<Option<Remote>>>, ProviderError> {
    match type_name {
        "s3_object" => Ok(Some(object::read_many(s3, stored).await?)),
        "s3_bucket" => {
            // Collected first: a lazy map would put its closure in the
            // future's type, which then is not `Send` for every lifetime.
            let reads: Vec<_> = stored
                .iter()
                .map(|one| bucket::read_wanted(s3, one.target.clone(), one.id, bucket::Wanted::of(one)))
                .collect();
            let read: Vec<Result<Option<Remote>, ProviderError>> =
                futures_util::stream::iter(reads).buffered(BUCKETS_AT_ONCE).collect().await;
            Ok(Some(read.into_iter().collect::<Result<_, _>>()?))
        }
        _ => Ok(None),
    }
}

/// What an interrupted create made: a bucket (see `bucket::find`); an
/// object's put is adopted by the put that follows, its key being its
/// identity.
pub async fn find(s3: &aws_sdk_s3::Client, target: Target<'_>) -> Result<Option<Remote>, ProviderError> {
    match target.type_name {
        "s3_bucket" => bucket::find(s3, target).await,
        _ => Ok(None),
    }
}

pub async fn create(s3: &aws_sdk_s3::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    match target.type_name {
        "s3_bucket" => bucket::create(s3, target, attrs).await,
        _ => object::create(s3, target, attrs).await,
    }
}

pub async fn update(
    s3: &aws_sdk_s3::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    match target.type_name {
        "s3_bucket" => bucket::update(s3, target, id, before, after).await,
        _ => object::update(s3, target, id, before, after).await,
    }
}

pub async fn delete(s3: &aws_sdk_s3::Client, target: Target<'_>, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    match target.type_name {
        "s3_bucket" => {
            let force = attrs.get("force_destroy").and_then(serde_json::Value::as_bool).unwrap_or(false);
            bucket::delete(s3, id, force).await
        }
        _ => object::delete(s3, id).await,
    }
}
