//! Certificates: a self-signed authority and certificates it signs, with
//! ECDSA P-256 keys (rcgen over ring). The serial number is the id.

use k8sinfra_engine::provider::{Attrs, Remote};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData as _,
};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

/// A new authority from `common_name`, `organization`, `validity_days`.
pub fn authority(attrs: &Attrs) -> Result<Remote, String> {
    let mut params = params(attrs, Vec::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate().map_err(text)?;
    let cert = params.self_signed(&key).map_err(text)?;
    let hash = ring::digest::digest(&ring::digest::SHA256, &key.subject_public_key_info());
    let mut made = made(&params, cert.pem(), &key);
    made.attrs.insert("public_key_hash".into(), json!(format!("sha256:{}", hex(hash.as_ref()))));
    Ok(made)
}

/// A certificate for `common_name` and `names`, signed by the authority
/// in `ca_cert_pem` / `ca_key_pem`, for client or server use.
pub fn certificate(attrs: &Attrs) -> Result<Remote, String> {
    let names: Vec<String> = attrs
        .get("names")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let mut params = params(attrs, names)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = match string(attrs, "usage").unwrap_or("client") {
        "client" => vec![ExtendedKeyUsagePurpose::ClientAuth],
        "server" => vec![ExtendedKeyUsagePurpose::ServerAuth],
        "both" => vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth],
        other => return Err(format!("`usage` is client, server or both, not `{other}`")),
    };
    params.use_authority_key_identifier_extension = true;
    let ca_key = KeyPair::from_pem(string(attrs, "ca_key_pem").unwrap_or_default())
        .map_err(|e| format!("`ca_key_pem` is not a private key: {e}"))?;
    let issuer = Issuer::from_ca_cert_pem(string(attrs, "ca_cert_pem").unwrap_or_default(), ca_key)
        .map_err(|e| format!("`ca_cert_pem` is not a certificate: {e}"))?;
    let key = KeyPair::generate().map_err(text)?;
    let cert = params.signed_by(&key, &issuer).map_err(text)?;
    Ok(made(&params, cert.pem(), &key))
}

/// Subject, validity and a random serial.
fn params(attrs: &Attrs, names: Vec<String>) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::new(names).map_err(|e| format!("a name is not valid: {e}"))?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, string(attrs, "common_name").unwrap_or_default());
    if let Some(organization) = string(attrs, "organization") {
        subject.push(DnType::OrganizationName, organization);
    }
    params.distinguished_name = subject;
    let days = attrs.get("validity_days").and_then(Value::as_f64).unwrap_or(365.0);
    if !(1.0..=36_500.0).contains(&days) {
        return Err(format!("`validity_days` must be from 1 to 36500, not {days}"));
    }
    // An hour's grace for clocks that run behind.
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days as i64);
    let mut serial = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| "the system's random source failed".to_string())?;
    serial[0] &= 0x7f; // positive, as DER integers must be
    params.serial_number = Some(serial.to_vec().into());
    Ok(params)
}

fn made(params: &CertificateParams, cert_pem: String, key: &KeyPair) -> Remote {
    let id = params.serial_number.as_ref().map(|s| hex(s.as_ref())).unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("cert_pem".into(), json!(cert_pem));
    attrs.insert("key_pem".into(), json!(key.serialize_pem()));
    Remote { id, attrs }
}

fn string<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(Value::as_str)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(e: rcgen::Error) -> String {
    e.to_string()
}
