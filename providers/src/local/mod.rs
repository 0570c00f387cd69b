//! The local provider: things made on this machine and kept only in the
//! state, as sensitive values — a cluster's certificate authority, its
//! certificates, and bootstrap tokens. Nothing here calls a cloud: create
//! generates, delete forgets, and read finds what the state holds.

mod pki;
mod token;

use k8sinfra_engine::config::{Config, ProviderSettings};
use k8sinfra_engine::provider::{Attrs, BoxFuture, ProviderError, Remote, Target};
use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_engine::Provider;
use k8sinfra_lang::{Diagnostics, Type, Value};

pub struct Local {
    schemas: Vec<ResourceSchema>,
    settings: BlockSchema,
}

impl Local {
    #[must_use]
    pub fn new() -> Self {
        Local { schemas: schemas(), settings: BlockSchema::new("local", Vec::new()) }
    }
}

impl Default for Local {
    fn default() -> Self {
        Self::new()
    }
}

fn validity(default_days: f64) -> AttrSchema {
    AttrSchema::optional("validity_days", Type::Number)
        .forces_new()
        .default(Value::Number(default_days))
        .describe("How long the certificate is valid, from now")
}

fn schemas() -> Vec<ResourceSchema> {
    let pem = |name: &'static str, what: &'static str| AttrSchema::computed(name, Type::String).describe(what);
    vec![
        ResourceSchema::new("tls_ca", "A certificate authority: an ECDSA P-256 key and its self-signed certificate")
            .attr(AttrSchema::required("common_name", Type::String).forces_new().describe("The subject's CN"))
            .attr(AttrSchema::optional("organization", Type::String).forces_new().describe("The subject's O"))
            .attr(validity(3650.0))
            .attr(AttrSchema::computed("id", Type::String).describe("The certificate's serial number"))
            .attr(pem("cert_pem", "The certificate, PEM"))
            .attr(pem("key_pem", "The private key, PKCS#8 PEM").sensitive())
            .attr(pem(
                "public_key_hash",
                "`sha256:` and the hex SHA-256 of the public key info: kubeadm's `--discovery-token-ca-cert-hash`",
            )),
        ResourceSchema::new("tls_certificate", "A key and a certificate signed by a `tls_ca`")
            .attr(AttrSchema::required("ca_cert_pem", Type::String).forces_new().describe("The CA's `cert_pem`"))
            .attr(
                AttrSchema::required("ca_key_pem", Type::String)
                    .forces_new()
                    .sensitive()
                    .describe("The CA's `key_pem`; sensitive"),
            )
            .attr(
                AttrSchema::required("common_name", Type::String)
                    .forces_new()
                    .describe("The subject's CN (a Kubernetes user name)"),
            )
            .attr(
                AttrSchema::optional("organization", Type::String)
                    .forces_new()
                    .describe("The subject's O (a Kubernetes group: `system:masters` makes an admin)"),
            )
            .attr(
                AttrSchema::optional("names", Type::list(Type::String))
                    .forces_new()
                    .default(Value::List(Vec::new()))
                    .describe("Subject alternative names: DNS names and IP addresses"),
            )
            .attr(
                AttrSchema::optional("usage", Type::String)
                    .forces_new()
                    .default(Value::String("client".into()))
                    .describe("client, server or both"),
            )
            .attr(validity(365.0))
            .attr(AttrSchema::computed("id", Type::String).describe("The certificate's serial number"))
            .attr(pem("cert_pem", "The certificate, PEM"))
            .attr(pem("key_pem", "The private key, PKCS#8 PEM").sensitive()),
        ResourceSchema::new("bootstrap_token", "A kubeadm bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`)")
            .attr(AttrSchema::computed("id", Type::String).describe("The token's public half"))
            .attr(AttrSchema::computed("token", Type::String).sensitive().describe("`ID.SECRET`; sensitive")),
    ]
}

impl Provider for Local {
    fn name(&self) -> &'static str {
        "local"
    }

    fn schemas(&self) -> &[ResourceSchema] {
        &self.schemas
    }

    fn settings(&self) -> &BlockSchema {
        &self.settings
    }

    fn check(&self, _: &Config, _: &mut Diagnostics) {}

    fn can_apply(&self, type_name: &str) -> bool {
        self.schemas.iter().any(|s| s.type_name == type_name)
    }

    fn connect<'a>(&'a self, _: &'a ProviderSettings) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }

    /// What the state holds is all there is: the resource exists, with
    /// the attributes last recorded.
    fn read<'a>(&'a self, _: Target<'a>, id: &'a str) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(async move { Ok(Some(Remote { id: id.into(), attrs: Attrs::new() })) })
    }

    /// A create either finished and was recorded, or made nothing.
    fn find<'a>(&'a self, _: Target<'a>) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }

    fn create<'a>(&'a self, target: Target<'a>, attrs: &'a Attrs) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(async move {
            let made = match target.type_name {
                "tls_ca" => pki::authority(attrs),
                "tls_certificate" => pki::certificate(attrs),
                "bootstrap_token" => token::generate(),
                other => {
                    return Err(ProviderError::Unsupported(
                        other.into(),
                        "tls_ca, tls_certificate, bootstrap_token".into(),
                    ))
                }
            };
            made.map_err(|message| ProviderError::Api { operation: format!("create {}", target.address), message })
        })
    }

    /// Every settable attribute forces a new resource, so nothing changes
    /// in place; what was made stays as it was.
    fn update<'a>(
        &'a self,
        _: Target<'a>,
        id: &'a str,
        before: &'a Attrs,
        after: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        let mut attrs = before.clone();
        attrs.extend(after.iter().map(|(k, v)| (k.clone(), v.clone())));
        Box::pin(async move { Ok(Remote { id: id.into(), attrs }) })
    }

    fn delete<'a>(&'a self, _: Target<'a>, _: &'a str, _: &'a Attrs) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests;
