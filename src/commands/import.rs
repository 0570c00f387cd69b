//! `k8sinfra import ADDRESS ID`: take a resource that exists in the cloud
//! under k8sinfra's management. It is read by its id and recorded at an
//! address the configuration declares; nothing in the cloud changes. The
//! next plan shows how it differs from its declaration.

use k8sinfra_engine::provider::Target;
use k8sinfra_engine::state::ResourceState;

use super::session::{self, report};
use super::state::change;
use crate::cli::ImportArgs;
use crate::report::Output;
use k8sinfra_lang::Diag;

use crate::refusal::Refusal;

pub fn run(args: &ImportArgs, out: &Output) -> bool {
    let Some(session) = session::open(&args.config, out, false) else { return false };
    let Some(declared) = session.config.resources.iter().find(|r| r.addr.to_string() == args.address) else {
        let addresses: Vec<String> = session.config.resources.iter().map(|r| r.addr.to_string()).collect();
        let hint = k8sinfra_lang::suggest::help(&args.address, addresses.iter().map(String::as_str))
            .unwrap_or_else(|| "declare it in the configuration first".into());
        out.error(Diag::global(Refusal::Undeclared { address: args.address.clone(), hint }));
        return false;
    };
    let type_name = declared.addr.type_name.clone();
    let dependencies: Vec<String> = declared.depends_on.iter().map(ToString::to_string).collect();
    let sensitive = (*declared.sensitive).clone();
    let alias = declared.provider.clone();
    let declared = session.config.resources.iter().map(|r| (r.addr.to_string(), r.addr.type_name.clone())).collect();
    let access = session::StateAccess { backend: session.backend, runtime: session.runtime, declared };
    let providers = session.providers;
    change(&access, args.lock, out, |state| {
        if let Some(r) = state.resources.get(&args.address) {
            out.error(Diag::global(Refusal::AlreadyInState { address: args.address.clone(), id: r.id.clone() }));
            return false;
        }
        let target = Target {
            type_name: &type_name,
            address: &args.address,
            lineage: &state.lineage,
            since: None,
            expected_id: None,
            not_id: None,
            token: None,
            alias: &alias,
        };
        let Some(provider) = providers.for_type(&type_name) else { return false };
        let key = if alias.is_empty() { provider.name().to_string() } else { format!("{}.{alias}", provider.name()) };
        let settings = session.config.providers.get(&key).cloned().unwrap_or_default();
        let read = access.runtime.block_on(async {
            provider.connect(&settings).await?;
            provider.read(target, &args.id).await
        });
        match read {
            Ok(Some(remote)) => {
                out.stderr(&format!("imported {} ({})\n", args.address, remote.id));
                let resource = ResourceState {
                    type_name: type_name.clone(),
                    id: remote.id,
                    attrs: remote.attrs,
                    dependencies,
                    sensitive: sensitive.clone(),
                    created: None,
                    provider: alias.clone(),
                };
                state.resources.insert(args.address.clone(), resource);
                true
            }
            Ok(None) => {
                out.error(Diag::global(Refusal::NotFound { type_name: type_name.clone(), id: args.id.clone() }));
                false
            }
            Err(e) => {
                report(e, out);
                false
            }
        }
    })
}
