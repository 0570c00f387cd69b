//! `dns_zone`: CreateHostedZone (public, or private to one VPC), its tags
//! and comment, GetHostedZone, and DeleteHostedZone — which first clears
//! record sets left in the zone, since Route53 refuses to delete a zone
//! that still holds any.
//!
//! Route53 spells zone ids `/hostedzone/Z…`; the id kept in state is the
//! bare `Z…`, and every id AWS returns is stripped to that form.

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZone, HostedZoneConfig, ResourceRecordSet, RrType, Tag, TagResourceType,
    Vpc, VpcRegion,
};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::attrs::text;
use super::super::errors::{api, code, create_once_answered, message, retry_while, Once};
use super::super::tags::{owned_tags, removed_tag_keys, tags_json};

/// The prefix Route53 puts before zone ids.
const PREFIX: &str = "/hostedzone/";

/// Route53's limit on a CallerReference.
const REFERENCE_MAX: usize = 128;

/// Room kept at the end of a CallerReference for the timestamp that makes
/// it unique (nanoseconds since the epoch fit in 20 digits).
const STAMP_WIDTH: usize = 20;

/// ChangeTagsForResource takes at most ten tags to add, and ten keys to
/// remove, per call.
const TAG_BATCH: usize = 10;

/// The region a private zone's VPC is in when the client names none.
const DEFAULT_REGION: &str = "us-east-1";

/// Errors Route53 answers while an earlier change to the zone is still
/// being applied, or when it throttles; both pass if tried again.
fn transient(code: &str) -> bool {
    matches!(code, "PriorRequestNotComplete" | "Throttling" | "ThrottlingException")
}

/// A zone id without Route53's `/hostedzone/` prefix.
fn bare(id: &str) -> &str {
    id.strip_prefix(PREFIX).unwrap_or(id)
}

/// What every CallerReference of this resource starts with. Crash recovery
/// (`find`) recognises the zone by it, as zones carry their tags only after
/// a second call that a crash may cut off. Cut short so the timestamp still
/// fits in Route53's 128 characters.
fn reference_prefix(target: &Target<'_>) -> String {
    let full = format!("k8sinfra/{}/{}/", target.lineage, target.address);
    truncate(&full, REFERENCE_MAX - STAMP_WIDTH).to_string()
}

/// A CallerReference unique to this request: Route53 treats a repeated one
/// as a retry of the earlier request.
fn caller_reference(target: &Target<'_>) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    truncate(&format!("{}{nanos}", reference_prefix(target)), REFERENCE_MAX).to_string()
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut at = max;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[..at]
}

pub async fn create(r53: &aws_sdk_route53::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let vpc = text(attrs, "vpc");
    let config = HostedZoneConfig::builder()
        .set_comment(text(attrs, "comment").map(str::to_string))
        .private_zone(vpc.is_some())
        .build();
    // Made once: AWS de-duplicates by caller reference, moto does not.
    let reference = caller_reference(&target);
    let once = aws_sdk_route53::config::Builder::default()
        .retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled());
    let (id, answer) = create_once_answered(
        "CreateHostedZone",
        Once::Find(|| async { Ok(find(r53, target.clone()).await?.map(|r| r.id)) }),
        || {
            r53.create_hosted_zone()
                .name(text(attrs, "name").unwrap_or_default())
                .caller_reference(&reference)
                .hosted_zone_config(config.clone())
                .set_vpc(vpc.map(|id| private_vpc(r53, id)))
                .customize()
                .config_override(once.clone())
                .send()
        },
        |out| bare(out.hosted_zone().map(|z| z.id()).unwrap_or_default()).to_string(),
    )
    .await?;
    let tags = owned_tags(&target, attrs);
    change_tags(r53, &id, &tags, &[]).await?;
    // The answer (name, comment, name servers) and the tags just set are
    // all a read would say.
    if let Some(zone) = answer.as_ref().and_then(|a| a.hosted_zone()) {
        let name_servers = answer.as_ref().and_then(|a| a.delegation_set()).map(|d| d.name_servers());
        let tags = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        return Ok(remote(&target, &id, zone, vpc, name_servers.unwrap_or_default(), tags));
    }
    read(r53, target, &id).await?.ok_or_else(|| gone("CreateHostedZone", &id))
}

/// The VPC a private zone answers in, in the client's region.
fn private_vpc(r53: &aws_sdk_route53::Client, id: &str) -> Vpc {
    let region = r53.config().region().map_or_else(|| DEFAULT_REGION.to_string(), ToString::to_string);
    Vpc::builder().vpc_id(id).vpc_region(VpcRegion::from(region.as_str())).build()
}

pub async fn read(
    r53: &aws_sdk_route53::Client,
    target: Target<'_>,
    id: &str,
) -> Result<Option<Remote>, ProviderError> {
    let id = bare(id);
    let out = match r53.get_hosted_zone().id(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("NoSuchHostedZone") => return Ok(None),
        Err(e) => return Err(api("GetHostedZone", e)),
    };
    let Some(zone) = out.hosted_zone() else { return Ok(None) };
    let tags = r53
        .list_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(id)
        .send()
        .await
        .map_err(|e| api("ListTagsForResource", e))?;
    let tags = tags.resource_tag_set().map(|s| s.tags()).unwrap_or_default();
    let name_servers = out.delegation_set().map(|d| d.name_servers()).unwrap_or_default();
    let vpc = out.vpcs().first().and_then(Vpc::vpc_id);
    let tags = tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
    Ok(Some(remote(&target, id, zone, vpc, name_servers, tags)))
}

/// A zone as the state keeps it.
fn remote<'a>(
    target: &Target<'_>,
    id: &str,
    zone: &HostedZone,
    vpc: Option<&str>,
    name_servers: &[String],
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Remote {
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("name".into(), json!(zone.name().trim_end_matches('.')));
    attrs.insert("comment".into(), json!(zone.config().and_then(HostedZoneConfig::comment)));
    attrs.insert("vpc".into(), json!(vpc));
    attrs.insert("name_servers".into(), json!(name_servers));
    attrs.insert("tags".into(), tags_json(target, tags));
    Remote { id: id.into(), attrs }
}

/// The zone a crashed run created for this address and lineage, recognised
/// by its CallerReference. Every page is read: the zone can be anywhere in
/// the account's list.
pub async fn find(r53: &aws_sdk_route53::Client, target: Target<'_>) -> Result<Option<Remote>, ProviderError> {
    let prefix = reference_prefix(&target);
    let mut marker: Option<String> = None;
    loop {
        let out = r53.list_hosted_zones().set_marker(marker).send().await.map_err(|e| api("ListHostedZones", e))?;
        if let Some(zone) = out.hosted_zones().iter().find(|z| z.caller_reference().starts_with(&prefix)) {
            let id = bare(zone.id()).to_string();
            return read(r53, target, &id).await;
        }
        match out.next_marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_string()),
            _ => return Ok(None),
        }
    }
}

pub async fn update(
    r53: &aws_sdk_route53::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let id = bare(id);
    let comment = text(after, "comment");
    if text(before, "comment") != comment {
        r53.update_hosted_zone_comment()
            .id(id)
            .set_comment(comment.map(str::to_string))
            .send()
            .await
            .map_err(|e| api("UpdateHostedZoneComment", e))?;
    }
    retag(r53, id, &target, before, after).await?;
    read(r53, target, id).await?.ok_or_else(|| gone("UpdateHostedZoneComment", id))
}

/// Bring the zone's tags from `before` to `after`: keys no longer present
/// are removed, new and changed ones written.
async fn retag(
    r53: &aws_sdk_route53::Client,
    id: &str,
    target: &Target<'_>,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    let old = owned_tags(target, before);
    let new = owned_tags(target, after);
    let removed = removed_tag_keys(target, before, after);
    let added: Vec<(String, String)> = new.into_iter().filter(|pair| !old.contains(pair)).collect();
    change_tags(r53, id, &added, &removed).await
}

/// Add (or overwrite) and remove tags, in batches of Route53's size.
async fn change_tags(
    r53: &aws_sdk_route53::Client,
    id: &str,
    added: &[(String, String)],
    removed: &[String],
) -> Result<(), ProviderError> {
    for keys in removed.chunks(TAG_BATCH) {
        r53.change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(id)
            .set_remove_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| api("ChangeTagsForResource", e))?;
    }
    for pairs in added.chunks(TAG_BATCH) {
        let tags: Vec<Tag> = pairs.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        r53.change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(id)
            .set_add_tags(Some(tags))
            .send()
            .await
            .map_err(|e| api("ChangeTagsForResource", e))?;
    }
    Ok(())
}

pub async fn delete(r53: &aws_sdk_route53::Client, id: &str, force: bool) -> Result<(), ProviderError> {
    let id = bare(id);
    if delete_zone(r53, id).await? {
        return Ok(());
    }
    // The zone still holds record sets that no `dns_record` of this
    // configuration manages (those were deleted before the zone): made by
    // hand, by external-dns, by certificate validation. They are someone's;
    // only `force_destroy` deletes them.
    let foreign = foreign_sets(r53, id).await?;
    if !force {
        let named: Vec<String> =
            foreign.iter().take(5).map(|s| format!("{} {}", s.name(), s.r#type().as_str())).collect();
        let more = if foreign.len() > named.len() {
            format!(" and {} more", foreign.len() - named.len())
        } else {
            String::new()
        };
        return Err(ProviderError::Api {
            operation: "DeleteHostedZone".into(),
            message: format!(
                "{id} holds {} record set(s) k8sinfra does not manage ({}{more}); delete them, or set \
                 `force_destroy = true` on the zone to delete them with it",
                foreign.len(),
                named.join(", ")
            ),
        });
    }
    for batch in batches(foreign) {
        delete_sets(r53, id, batch).await?;
    }
    if delete_zone(r53, id).await? {
        return Ok(());
    }
    Err(ProviderError::Api {
        operation: "DeleteHostedZone".into(),
        message: format!("{id} still holds record sets after they were deleted"),
    })
}

/// DeleteHostedZone: `true` when the zone is gone (or already was),
/// `false` when Route53 refuses because it still holds record sets.
async fn delete_zone(r53: &aws_sdk_route53::Client, id: &str) -> Result<bool, ProviderError> {
    retry_while("DeleteHostedZone", transient, || async {
        match r53.delete_hosted_zone().id(id).send().await {
            Ok(_) => Ok(true),
            Err(e) => match code(&e).as_deref() {
                Some("NoSuchHostedZone") => Ok(true),
                Some("HostedZoneNotEmpty") => Ok(false),
                _ => Err((code(&e), api("DeleteHostedZone", e))),
            },
        }
    })
    .await
}

/// Every record set but the apex NS and SOA, which Route53 made with the
/// zone and removes with it.
async fn foreign_sets(r53: &aws_sdk_route53::Client, id: &str) -> Result<Vec<ResourceRecordSet>, ProviderError> {
    let out = match r53.get_hosted_zone().id(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("NoSuchHostedZone") => return Ok(Vec::new()),
        Err(e) => return Err(api("GetHostedZone", e)),
    };
    let apex = out.hosted_zone().map(|z| normal(z.name())).unwrap_or_default();
    let sets = record_sets(r53, id).await?;
    Ok(sets
        .into_iter()
        .filter(|set| !(normal(set.name()) == apex && matches!(set.r#type(), RrType::Ns | RrType::Soa)))
        .collect())
}

/// Route53's limits on one ChangeResourceRecordSets request ("Quotas on
/// API requests", Route53 developer guide): 1,000 `ResourceRecord`
/// elements and 32,000 characters of `Value`s.
const BATCH_RECORDS: usize = 1000;
const BATCH_CHARACTERS: usize = 32_000;

/// What a record set counts against the limits: its values (an alias, one
/// record of no characters).
fn weight(set: &ResourceRecordSet) -> (usize, usize) {
    let records = set.resource_records();
    (records.len().max(1), records.iter().map(|r| r.value().len()).sum())
}

/// Record sets in batches within Route53's limits, in their order.
fn batches(sets: Vec<ResourceRecordSet>) -> Vec<Vec<ResourceRecordSet>> {
    let mut batches: Vec<Vec<ResourceRecordSet>> = Vec::new();
    let (mut records, mut characters) = (0, 0);
    for set in sets {
        let (r, c) = weight(&set);
        let full = records + r > BATCH_RECORDS || characters + c > BATCH_CHARACTERS;
        if batches.is_empty() || full {
            batches.push(Vec::new());
            (records, characters) = (0, 0);
        }
        records += r;
        characters += c;
        batches.last_mut().expect("a batch").push(set);
    }
    batches
}

/// Delete record sets, each with exactly the values read back, as Route53
/// requires.
async fn delete_sets(
    r53: &aws_sdk_route53::Client,
    id: &str,
    sets: Vec<ResourceRecordSet>,
) -> Result<(), ProviderError> {
    let changes = sets
        .into_iter()
        .map(|set| Change::builder().action(ChangeAction::Delete).resource_record_set(set).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("ChangeResourceRecordSets", &e))?;
    let batch = ChangeBatch::builder()
        .comment("k8sinfra: clearing the zone before deleting it (force_destroy)")
        .set_changes(Some(changes))
        .build()
        .map_err(|e| invalid("ChangeResourceRecordSets", &e))?;
    retry_while("ChangeResourceRecordSets", transient, || async {
        match r53.change_resource_record_sets().hosted_zone_id(id).change_batch(batch.clone()).send().await {
            Ok(_) => Ok(()),
            // A lost answer's repeat: the first one deleted them.
            Err(e) if code(&e).as_deref() == Some("InvalidChangeBatch") && message(&e).contains("not found") => Ok(()),
            Err(e) => Err((code(&e), api("ChangeResourceRecordSets", e))),
        }
    })
    .await
}

/// Every record set in the zone, following Route53's pagination.
async fn record_sets(r53: &aws_sdk_route53::Client, id: &str) -> Result<Vec<ResourceRecordSet>, ProviderError> {
    let mut sets = Vec::new();
    let (mut name, mut kind, mut identifier): (Option<String>, Option<RrType>, Option<String>) = (None, None, None);
    loop {
        let out = r53
            .list_resource_record_sets()
            .hosted_zone_id(id)
            .set_start_record_name(name)
            .set_start_record_type(kind)
            .set_start_record_identifier(identifier)
            .send()
            .await
            .map_err(|e| api("ListResourceRecordSets", e))?;
        sets.extend(out.resource_record_sets().iter().cloned());
        if !out.is_truncated() || out.next_record_name().is_none() {
            return Ok(sets);
        }
        name = out.next_record_name().map(str::to_string);
        kind = out.next_record_type().cloned();
        identifier = out.next_record_identifier().map(str::to_string);
    }
}

/// A DNS name for comparison: without the trailing dot, lower-case.
fn normal(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A request the SDK refused to build (a required field missing).
fn invalid(operation: &str, err: &dyn std::fmt::Display) -> ProviderError {
    ProviderError::Api { operation: operation.into(), message: err.to_string() }
}

fn gone(operation: &str, id: &str) -> ProviderError {
    ProviderError::Api { operation: operation.into(), message: format!("{id} disappeared while it was being changed") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(address: &str) -> Target<'_> {
        Target {
            type_name: "dns_zone",
            address,
            lineage: "0b7c4a7e-1f1e-4c55-9d7e-2b8e7f0c9a11",
            since: None,
            expected_id: None,
            not_id: None,
            token: None,
            alias: "",
        }
    }

    #[test]
    fn ids_lose_the_prefix() {
        assert_eq!(bare("/hostedzone/Z123"), "Z123");
        assert_eq!(bare("Z123"), "Z123");
    }

    #[test]
    fn caller_references_fit_and_are_recognised() {
        let short = target("dns_zone.main");
        let reference = caller_reference(&short);
        assert!(reference.starts_with(&reference_prefix(&short)));
        assert!(reference.starts_with("k8sinfra/0b7c4a7e-1f1e-4c55-9d7e-2b8e7f0c9a11/dns_zone.main/"));

        let address = format!("module.{}.dns_zone.main", "x".repeat(200));
        let long = target(&address);
        let reference = caller_reference(&long);
        assert!(reference.len() <= REFERENCE_MAX);
        assert!(reference.starts_with(&reference_prefix(&long)));
        assert!(reference.len() > reference_prefix(&long).len(), "the timestamp survives truncation");
    }
}

#[cfg(test)]
mod batch_tests {
    use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};

    use super::{batches, BATCH_CHARACTERS, BATCH_RECORDS};

    fn set(name: &str, values: &[&str]) -> ResourceRecordSet {
        let records = values.iter().map(|v| ResourceRecord::builder().value(*v).build().expect("record")).collect();
        ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Txt)
            .ttl(60)
            .set_resource_records(Some(records))
            .build()
            .expect("set")
    }

    #[test]
    fn batches_stay_within_route53s_limits_in_order() {
        // 1,500 one-value sets: two batches, 1,000 and 500.
        let sets: Vec<_> = (0..1500).map(|i| set(&format!("r{i}.example."), &["\"v\""])).collect();
        let split = batches(sets);
        assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 500]);
        assert_eq!(split[1][0].name(), "r1000.example.");

        // Long values: the characters decide (255-character strings, 3 each).
        let long = "x".repeat(255);
        let sets: Vec<_> = (0..100).map(|i| set(&format!("t{i}.example."), &[&long, &long, &long])).collect();
        let split = batches(sets);
        for batch in &split {
            let characters: usize = batch.iter().flat_map(|s| s.resource_records()).map(|r| r.value().len()).sum();
            let records: usize = batch.iter().map(|s| s.resource_records().len()).sum();
            assert!(characters <= BATCH_CHARACTERS && records <= BATCH_RECORDS);
        }
        assert_eq!(split.len(), 3, "76 500 characters in batches of at most 32 000");
        assert!(batches(Vec::new()).is_empty());
    }
}
