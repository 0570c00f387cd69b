//! `dns_record`: one record set in a hosted zone — values with a TTL, or
//! an alias to a classic load balancer — created with CREATE (so a record
//! set someone else made is refused, not overwritten and later deleted;
//! `allow_overwrite` takes it over with UPSERT), changed with UPSERT, read
//! back with ListResourceRecordSets, and deleted with exactly the values
//! read, as Route53 requires.
//!
//! Its id is `{zone}_{name}_{type}`: Route53 has no id of its own for a
//! record set, and these three name it within the account.

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeInfo, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::{json, Map, Value};

use super::super::errors::{api, code, message, retry_while, wait_for, Poll};

const OPERATION: &str = "ChangeResourceRecordSets";

/// The prefix Route53 puts before zone ids.
const PREFIX: &str = "/hostedzone/";

/// How long a change may take to be INSYNC (Terraform: 30 min). Route53
/// usually syncs within a minute.
const SYNC_CHECKS: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Record sets listed from the one looked for: it comes first when it
/// exists, the rest only guard against Route53 ordering differently.
const LOOKAHEAD: i32 = 10;

/// Record sets per page when a whole zone is listed (Route53's most).
const PAGE: i32 = 300;

/// The longest string one TXT value may hold; longer values are written as
/// several strings, which DNS clients join.
const TXT_CHUNK: usize = 255;

const DEFAULT_TTL: i64 = 300;

/// Digits ELB appends to a load balancer's name in its DNS name, at least.
const ELB_SUFFIX_DIGITS: usize = 6;

/// Errors Route53 answers while an earlier change to the zone is still
/// being applied, or when it throttles; both pass if tried again.
fn transient(code: &str) -> bool {
    matches!(code, "PriorRequestNotComplete" | "Throttling" | "ThrottlingException")
}

/// A zone id without Route53's `/hostedzone/` prefix.
fn bare(id: &str) -> &str {
    id.strip_prefix(PREFIX).unwrap_or(id)
}

fn text<'a>(attrs: &'a Attrs, name: &str) -> &'a str {
    attrs.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn record_id(zone: &str, name: &str, kind: &str) -> String {
    format!("{zone}_{name}_{kind}")
}

/// Zone, name and type from an id. Zone ids and types hold no `_` but
/// names may (`_acme-challenge.example.com`), so the zone ends at the first
/// `_` and the type starts after the last.
fn parse_id(id: &str) -> Result<(&str, &str, &str), ProviderError> {
    id.split_once('_')
        .and_then(|(zone, rest)| rest.rsplit_once('_').map(|(name, kind)| (zone, name, kind)))
        .filter(|(zone, name, kind)| !zone.is_empty() && !name.is_empty() && !kind.is_empty())
        .ok_or_else(|| ProviderError::Api {
            operation: "ListResourceRecordSets".into(),
            message: format!("`{id}` is not a record id (zone_name_type)"),
        })
}

pub async fn create(
    r53: &aws_sdk_route53::Client,
    elb: &aws_sdk_elasticloadbalancing::Client,
    target: Target<'_>,
    attrs: &Attrs,
) -> Result<Remote, ProviderError> {
    let zone = bare(text(attrs, "zone"));
    let name = text(attrs, "name").trim_end_matches('.');
    let kind = text(attrs, "type").to_ascii_uppercase();
    let overwrite = attrs.get("allow_overwrite").and_then(Value::as_bool).unwrap_or(false);
    let action = if overwrite { ChangeAction::Upsert } else { ChangeAction::Create };
    write(r53, elb, zone, name, &kind, attrs, action).await?;
    let id = record_id(zone, name, &kind);
    read(r53, target, &id).await?.ok_or_else(|| gone(&id))
}

pub async fn update(
    r53: &aws_sdk_route53::Client,
    elb: &aws_sdk_elasticloadbalancing::Client,
    target: Target<'_>,
    id: &str,
    _before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    // Zone, name and type force a new record, so the id still names it.
    let (zone, name, kind) = parse_id(id)?;
    write(r53, elb, zone, name, kind, after, ChangeAction::Upsert).await?;
    read(r53, target, id).await?.ok_or_else(|| gone(id))
}

/// Write the record set as `attrs` describe it, and wait until Route53's
/// name servers answer with it. A CREATE that finds the record set there
/// already is fine if it holds exactly what was asked (this create's own
/// answer lost on the way); anything else is someone's record.
async fn write(
    r53: &aws_sdk_route53::Client,
    elb: &aws_sdk_elasticloadbalancing::Client,
    zone: &str,
    name: &str,
    kind: &str,
    attrs: &Attrs,
    action: ChangeAction,
) -> Result<(), ProviderError> {
    let set = desired(elb, name, kind, attrs).await?;
    let batch = single_change(action, set.clone())?;
    let sent = retry_while(OPERATION, transient, || async {
        match r53.change_resource_record_sets().hosted_zone_id(zone).change_batch(batch.clone()).send().await {
            Ok(out) => Ok(Some(out.change_info().map(ChangeInfo::id).unwrap_or_default().to_string())),
            Err(e) if code(&e).as_deref() == Some("InvalidChangeBatch") && message(&e).contains("already exists") => {
                Ok(None)
            }
            Err(e) => Err((code(&e), api(OPERATION, e))),
        }
    })
    .await?;
    match sent {
        Some(change) => wait_insync(r53, &change).await,
        None => match current(r53, zone, name, kind).await? {
            Some(there) if same_set(&there, &set) => Ok(()),
            _ => Err(exists(name, kind)),
        },
    }
}

/// Whether two record sets hold the same: values (in any order) and TTL,
/// or the same alias target.
fn same_set(a: &ResourceRecordSet, b: &ResourceRecordSet) -> bool {
    let values = |s: &ResourceRecordSet| {
        let mut v: Vec<String> = s.resource_records().iter().map(|r| r.value().to_string()).collect();
        v.sort();
        v
    };
    let alias = |s: &ResourceRecordSet| {
        s.alias_target().map(|t| (t.hosted_zone_id().to_string(), normal(t.dns_name()), t.evaluate_target_health()))
    };
    values(a) == values(b) && alias(a) == alias(b) && (a.alias_target().is_some() || a.ttl() == b.ttl())
}

fn exists(name: &str, kind: &str) -> ProviderError {
    ProviderError::Api {
        operation: OPERATION.into(),
        message: format!(
            "a {kind} record set for {name} exists already and holds something else: this configuration did not \
             make it. Manage it here with `k8sinfra import ADDRESS ZONE_{name}_{kind}`, or set \
             `allow_overwrite = true` to take it over"
        ),
    }
}

/// A batch of one change.
fn single_change(action: ChangeAction, set: ResourceRecordSet) -> Result<ChangeBatch, ProviderError> {
    let change = Change::builder().action(action).resource_record_set(set).build().map_err(|e| invalid(&e))?;
    ChangeBatch::builder().changes(change).build().map_err(|e| invalid(&e))
}

/// The record set `attrs` describe: an alias when they name a load
/// balancer (Route53 takes no TTL or values with an alias), else values.
async fn desired(
    elb: &aws_sdk_elasticloadbalancing::Client,
    name: &str,
    kind: &str,
    attrs: &Attrs,
) -> Result<ResourceRecordSet, ProviderError> {
    let set = ResourceRecordSet::builder().name(name).r#type(RrType::from(kind));
    let set = match attrs.get("alias").and_then(Value::as_object) {
        Some(alias) => set.alias_target(alias_target(elb, alias).await?),
        None => {
            let ttl = attrs.get("ttl").and_then(Value::as_f64).map_or(DEFAULT_TTL, |t| t as i64);
            let txt = kind == "TXT";
            let records = values(attrs)
                .into_iter()
                .map(|v| ResourceRecord::builder().value(if txt { quote(&v) } else { v }).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(&e))?;
            set.ttl(ttl).set_resource_records(Some(records))
        }
    };
    set.build().map_err(|e| invalid(&e))
}

fn values(attrs: &Attrs) -> Vec<String> {
    attrs
        .get("records")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// An alias to the load balancer named in the block: Route53 wants its DNS
/// name and the hosted zone ELB answers it from.
async fn alias_target(
    elb: &aws_sdk_elasticloadbalancing::Client,
    alias: &Map<String, Value>,
) -> Result<AliasTarget, ProviderError> {
    let name = alias.get("load_balancer").and_then(Value::as_str).unwrap_or_default();
    let out = elb
        .describe_load_balancers()
        .load_balancer_names(name)
        .send()
        .await
        .map_err(|e| api("DescribeLoadBalancers", e))?;
    let Some(balancer) = out.load_balancer_descriptions().first() else {
        return Err(ProviderError::Api {
            operation: "DescribeLoadBalancers".into(),
            message: format!("load balancer `{name}` not found"),
        });
    };
    AliasTarget::builder()
        .dns_name(balancer.dns_name().unwrap_or_default())
        // The local emulator leaves CanonicalHostedZoneNameID out (and does
        // not check it); AWS always sends it.
        .hosted_zone_id(balancer.canonical_hosted_zone_name_id().unwrap_or_default())
        .evaluate_target_health(alias.get("evaluate_health").and_then(Value::as_bool).unwrap_or(false))
        .build()
        .map_err(|e| invalid(&e))
}

/// Wait until the change reaches all of Route53's name servers. The local
/// emulator reports INSYNC at once, and answers GetChange for any id, so
/// this waiting is for real AWS.
async fn wait_insync(r53: &aws_sdk_route53::Client, change: &str) -> Result<(), ProviderError> {
    if change.is_empty() {
        return Ok(());
    }
    wait_for(OPERATION, SYNC_CHECKS, || async {
        let out = r53.get_change().id(change).send().await.map_err(|e| api("GetChange", e))?;
        Ok(match out.change_info().map(ChangeInfo::status) {
            Some(ChangeStatus::Insync) => Poll::Ready(()),
            Some(other) => Poll::Waiting(other.as_str().to_string()),
            None => Poll::Waiting("unreported".into()),
        })
    })
    .await
}

pub async fn read(
    r53: &aws_sdk_route53::Client,
    _target: Target<'_>,
    id: &str,
) -> Result<Option<Remote>, ProviderError> {
    let (zone, name, kind) = parse_id(id)?;
    Ok(current(r53, zone, name, kind).await?.map(|set| remote(id, &set)))
}

/// Read `ids`, in order (`None` for the gone), listing each zone's record
/// sets once instead of looking each up. A zone is listed a page (300
/// sets) at a time, and only for as many pages as it has records to
/// read: past that, looking them up one by one is cheaper, so a huge zone
/// with a few of ours costs no more than before.
pub async fn read_many(r53: &aws_sdk_route53::Client, ids: &[&str]) -> Result<Vec<Option<Remote>>, ProviderError> {
    let mut by_zone: std::collections::BTreeMap<&str, Vec<(usize, &str, &str)>> = Default::default();
    for (at, id) in ids.iter().enumerate() {
        let (zone, name, kind) = parse_id(id)?;
        by_zone.entry(zone).or_default().push((at, name, kind));
    }
    let mut read: Vec<Option<Remote>> = vec![None; ids.len()];
    for (zone, wanted) in by_zone {
        let listed = list_zone(r53, zone, wanted.len()).await?;
        for (at, name, kind) in wanted {
            let set = match &listed {
                Listing::Gone => None,
                Listing::Whole(sets) => sets.iter().find(|s| same(s, name, kind)).cloned(),
                Listing::TooLong => current(r53, zone, name, kind).await?,
            };
            read[at] = set.map(|set| remote(ids[at], &set));
        }
    }
    Ok(read)
}

/// A zone's record sets, as far as they were listed.
enum Listing {
    Whole(Vec<ResourceRecordSet>),
    /// More pages than `pages` allowed.
    TooLong,
    Gone,
}

async fn list_zone(r53: &aws_sdk_route53::Client, zone: &str, pages: usize) -> Result<Listing, ProviderError> {
    let mut sets = Vec::new();
    let mut start: Option<(String, RrType, Option<String>)> = None;
    for _ in 0..pages {
        let mut call = r53.list_resource_record_sets().hosted_zone_id(zone).max_items(PAGE);
        if let Some((name, kind, identifier)) = start.take() {
            call = call.start_record_name(name).start_record_type(kind).set_start_record_identifier(identifier);
        }
        let out = match call.send().await {
            Ok(out) => out,
            Err(e) if code(&e).as_deref() == Some("NoSuchHostedZone") => return Ok(Listing::Gone),
            Err(e) => return Err(api("ListResourceRecordSets", e)),
        };
        sets.extend(out.resource_record_sets().iter().cloned());
        match (out.is_truncated(), out.next_record_name(), out.next_record_type()) {
            (true, Some(name), Some(kind)) => {
                start = Some((name.to_string(), kind.clone(), out.next_record_identifier().map(str::to_string)));
            }
            _ => return Ok(Listing::Whole(sets)),
        }
    }
    Ok(Listing::TooLong)
}

/// Whether `set` is the record set named `name` of type `kind`.
fn same(set: &ResourceRecordSet, name: &str, kind: &str) -> bool {
    normal(set.name()) == normal(name) && set.r#type().as_str() == kind
}

/// A record set as the state keeps it.
fn remote(id: &str, set: &ResourceRecordSet) -> Remote {
    let (zone, name, kind) = parse_id(id).unwrap_or_default();
    let txt = kind == "TXT";
    let mut records: Vec<String> =
        set.resource_records().iter().map(|r| if txt { unquote(r.value()) } else { r.value().to_string() }).collect();
    records.sort();
    let alias = set.alias_target().map_or(
        Value::Null,
        |a| json!({ "load_balancer": load_balancer_name(a.dns_name()), "evaluate_health": a.evaluate_target_health() }),
    );
    // The name as configured: Route53's spelling (trailing dot, lower case,
    // `\052` for `*`) matched it already.
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("zone".into(), json!(zone));
    attrs.insert("name".into(), json!(name));
    attrs.insert("type".into(), json!(kind));
    attrs.insert("ttl".into(), json!(set.ttl()));
    attrs.insert("records".into(), json!(records));
    attrs.insert("alias".into(), alias);
    attrs.insert("fqdn".into(), json!(name));
    Remote { id: id.into(), attrs }
}

/// The record set as Route53 holds it; `None` when it, or its zone, does
/// not exist.
async fn current(
    r53: &aws_sdk_route53::Client,
    zone: &str,
    name: &str,
    kind: &str,
) -> Result<Option<ResourceRecordSet>, ProviderError> {
    let out = match r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(name)
        .start_record_type(RrType::from(kind))
        .max_items(LOOKAHEAD)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("NoSuchHostedZone") => return Ok(None),
        Err(e) => return Err(api("ListResourceRecordSets", e)),
    };
    Ok(out.resource_record_sets().iter().find(|s| same(s, name, kind)).cloned())
}

pub async fn delete(r53: &aws_sdk_route53::Client, id: &str) -> Result<(), ProviderError> {
    let (zone, name, kind) = parse_id(id)?;
    let Some(set) = current(r53, zone, name, kind).await? else { return Ok(()) };
    let batch = single_change(ChangeAction::Delete, set)?;
    retry_while(OPERATION, transient, || async {
        match r53.change_resource_record_sets().hosted_zone_id(zone).change_batch(batch.clone()).send().await {
            Ok(_) => Ok(()),
            // Deleted meanwhile, by hand or with its zone: done.
            Err(e) if code(&e).as_deref() == Some("NoSuchHostedZone") => Ok(()),
            Err(e) if code(&e).as_deref() == Some("InvalidChangeBatch") && message(&e).contains("not found") => Ok(()),
            Err(e) => Err((code(&e), api(OPERATION, e))),
        }
    })
    .await
}

/// A DNS name for comparison: escapes decoded, without the trailing dot,
/// lower-case.
fn normal(name: &str) -> String {
    unescape(name).trim_end_matches('.').to_ascii_lowercase()
}

/// A name with Route53's escapes decoded: it writes some characters as `\`
/// and three octal digits (`\052` for `*`).
fn unescape(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match octal(&bytes[i..]) {
            Some(decoded) => {
                out.push(decoded);
                i += 4;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte a `\ooo` escape at the start of `bytes` stands for.
fn octal(bytes: &[u8]) -> Option<u8> {
    let [b'\\', digits @ ..] = bytes.get(..4)? else { return None };
    let value = digits.iter().try_fold(0u16, |n, &d| match d {
        b'0'..=b'7' => Some(n * 8 + u16::from(d - b'0')),
        _ => None,
    })?;
    u8::try_from(value).ok()
}

/// A TXT value as Route53 takes it: quoted, `"` and `\` escaped, split
/// into strings of at most 255 bytes. A value the user quoted already is
/// sent as written.
fn quote(value: &str) -> String {
    if value.starts_with('"') {
        return value.to_string();
    }
    chunks(value, TXT_CHUNK)
        .into_iter()
        .map(|c| format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `value` in pieces of at most `max` bytes, cut on character boundaries.
fn chunks(value: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = value;
    while rest.len() > max {
        let mut at = max;
        while !rest.is_char_boundary(at) {
            at -= 1;
        }
        let (head, tail) = rest.split_at(at);
        pieces.push(head);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

/// A TXT value as written before `quote`: Route53 holds one or more quoted
/// strings with `\"`, `\\` and `\ooo` escapes, which are joined and
/// decoded. Anything not in that form is returned as it is.
fn unquote(value: &str) -> String {
    if !value.starts_with('"') {
        return value.to_string();
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut inside = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (inside, b) {
            (false, b'"') => inside = true,
            (false, b' ') => {}
            (false, _) => return value.to_string(),
            (true, b'"') => inside = false,
            (true, b'\\') => {
                if let Some(decoded) = octal(&bytes[i..]) {
                    out.push(decoded);
                    i += 4;
                    continue;
                }
                let Some(&next) = bytes.get(i + 1) else { return value.to_string() };
                out.push(next);
                i += 1;
            }
            (true, _) => out.push(b),
        }
        i += 1;
    }
    if inside {
        return value.to_string();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The name of the classic load balancer an alias points at, from the DNS
/// name Route53 keeps. ELB names a load balancer's endpoint
/// `<name>-<number>.<region>.elb.amazonaws.com`, with `internal-` before
/// an internal one's (and Route53 may add `dualstack.`); the local emulator
/// uses `<name>.<region>.elb.amazonaws.com`. So: the first label, without
/// a `-<digits>` suffix of six or more digits and then without `internal-`.
/// Limits: a name that itself ends in `-` and six or more digits, or an
/// internet-facing one that starts with `internal-`, reads back
/// differently, as does a name with capitals (DNS names are lower-case).
/// Asking ELB would be exact, but reading has only the Route53 client.
fn load_balancer_name(dns: &str) -> String {
    let dns = dns.strip_prefix("dualstack.").unwrap_or(dns);
    let label = dns.split('.').next().unwrap_or_default();
    match label.rsplit_once('-') {
        Some((name, number)) if number.len() >= ELB_SUFFIX_DIGITS && number.bytes().all(|b| b.is_ascii_digit()) => {
            name.strip_prefix("internal-").unwrap_or(name).to_string()
        }
        _ => label.to_string(),
    }
}

/// A request the SDK refused to build (a required field missing).
fn invalid(err: &dyn std::fmt::Display) -> ProviderError {
    ProviderError::Api { operation: OPERATION.into(), message: err.to_string() }
}

fn gone(id: &str) -> ProviderError {
    ProviderError::Api { operation: OPERATION.into(), message: format!("{id} cannot be read back after the change") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ttl: i64, values: &[&str]) -> ResourceRecordSet {
        let mut set = ResourceRecordSet::builder().name("www.example.com.").r#type(RrType::A).ttl(ttl);
        for v in values {
            set = set.resource_records(ResourceRecord::builder().value(*v).build().expect("record"));
        }
        set.build().expect("set")
    }

    #[test]
    fn a_create_that_meets_a_record_set_takes_it_only_if_it_holds_what_was_asked() {
        // Our own CREATE, answered but the answer lost: the same, in any order.
        assert!(same_set(&set(300, &["192.0.2.1", "192.0.2.2"]), &set(300, &["192.0.2.2", "192.0.2.1"])));
        // Someone else's: other values, or another TTL.
        assert!(!same_set(&set(300, &["192.0.2.1"]), &set(300, &["198.51.100.7"])));
        assert!(!same_set(&set(60, &["192.0.2.1"]), &set(300, &["192.0.2.1"])));
        let message = exists("www.example.com", "A").to_string();
        assert!(message.contains("k8sinfra import") && message.contains("allow_overwrite = true"), "{message}");
    }

    #[test]
    fn ids_round_trip_with_underscores_in_names() {
        assert_eq!(parse_id("Z123_public.k8s-devops.net_A").ok(), Some(("Z123", "public.k8s-devops.net", "A")));
        assert_eq!(
            parse_id("Z1__acme-challenge.k8s-devops.net_TXT").ok(),
            Some(("Z1", "_acme-challenge.k8s-devops.net", "TXT"))
        );
        assert!(parse_id("Z1").is_err());
        assert!(parse_id("Z1_A").is_err());
        assert_eq!(record_id(bare("/hostedzone/Z9"), "www.example.com", "CNAME"), "Z9_www.example.com_CNAME");
    }

    #[test]
    fn txt_values_read_back_as_written() {
        for value in ["v=spf1 include:_spf.example.com ~all", "say \"hi\" \\ bye", "", "café"] {
            assert_eq!(unquote(&quote(value)), value);
        }
        let long = "k".repeat(600);
        let quoted = quote(&long);
        assert_eq!(quoted.matches("\" \"").count(), 2, "split into three strings");
        assert_eq!(unquote(&quoted), long);
        assert_eq!(quote("\"already\""), "\"already\"");
        assert_eq!(unquote("\"caf\\303\\251\""), "café");
        assert_eq!(unquote("not quoted"), "not quoted");
    }

    #[test]
    fn names_compare_as_route53_spells_them() {
        assert_eq!(normal("\\052.Example.com."), "*.example.com");
        assert_eq!(normal("public.k8s-devops.net"), "public.k8s-devops.net");
    }

    #[test]
    fn load_balancer_names_come_from_dns_names() {
        assert_eq!(load_balancer_name("public-elb-1234567890.us-east-1.elb.amazonaws.com."), "public-elb");
        assert_eq!(load_balancer_name("dualstack.public-elb-1234567890.us-east-1.elb.amazonaws.com."), "public-elb");
        assert_eq!(load_balancer_name("internal-api-987654321.us-east-1.elb.amazonaws.com."), "api");
        assert_eq!(load_balancer_name("public-elb.us-east-1.elb.amazonaws.com"), "public-elb");
        assert_eq!(load_balancer_name("web-2.us-east-1.elb.amazonaws.com"), "web-2");
    }
}
