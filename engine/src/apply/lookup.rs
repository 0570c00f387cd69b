//! Lookups read at plan time: every configured resource of a lookup type
//! (`ResourceSchema::lookup`: an existing VPC, the region's zones) is
//! found again with its provider's `look_up` from its configured
//! attributes, and put into the state the plan is made against. The plan
//! then knows its values (what refers to an existing VPC plans with its
//! id, not "known after apply"), shows a changed result as drift, and
//! the apply records it.

use futures_util::StreamExt as _;

use crate::config::Config;
use crate::plan::resolve;
use crate::provider::{Attrs, ProviderError, Providers};
use crate::state::{ResourceState, State};

/// Lookups read side by side.
const AT_ONCE: usize = 8;

/// Look up every lookup of `config` whose query is known and record what
/// each found in `state`; the addresses of those whose query is not known
/// yet are returned. One may name another lookup (a subnet in a VPC looked
/// up): the caller evaluates the configuration again with what was found,
/// and calls again. A query still unknown when no lookup is left to help it
/// names something the plan makes, which a lookup cannot wait for.
pub async fn look_up_all(
    providers: &Providers,
    config: &Config,
    state: &mut State,
) -> Result<Vec<String>, ProviderError> {
    let mut queries = Vec::new();
    let mut waiting = Vec::new();
    'lookups: for r in &config.resources {
        let Some(schema) = providers.schema(&r.addr.type_name).filter(|s| s.lookup) else { continue };
        let Some(provider) = providers.for_type(&r.addr.type_name) else { continue };
        let mut query = Attrs::new();
        for attr in schema.attrs.iter().filter(|a| a.settable()) {
            // The query is what the configuration writes (and defaults):
            // not what an earlier plan found and the evaluation filled in
            // from the state, or the lookup would find that forever.
            let written = r.spans.attrs.contains_key(attr.name);
            if !written && attr.default.is_none() {
                continue;
            }
            let Some(value) = r.attrs.get(attr.name) else { continue };
            match resolve(value, state) {
                Some(serde_json::Value::Null) => {}
                Some(json) => {
                    query.insert(attr.name.to_string(), json);
                }
                None => {
                    waiting.push(r.addr.to_string());
                    continue 'lookups;
                }
            }
        }
        queries.push((r.addr.to_string(), r.addr.type_name.clone(), provider, r.provider.clone(), query));
    }
    let reads = queries.iter().map(|(address, type_name, provider, alias, query)| async move {
        let found = provider.look_up(type_name, alias, query).await;
        (address, type_name, alias, query, found)
    });
    let mut reads = futures_util::stream::iter(reads).buffered(AT_ONCE);
    while let Some((address, type_name, alias, query, found)) = reads.next().await {
        let found = found?;
        // The query is kept over what was found (a tag filter is not all
        // the tags): the plan compares the configuration's query with it,
        // and finds nothing to do.
        let mut attrs = found.attrs;
        attrs.extend(query.clone());
        let created = state.resources.get(address.as_str()).and_then(|r| r.created);
        state.resources.insert(
            address.clone(),
            ResourceState {
                type_name: type_name.clone(),
                id: found.id,
                attrs,
                dependencies: Vec::new(),
                sensitive: Default::default(),
                created,
                provider: alias.clone(),
            },
        );
    }
    Ok(waiting)
}

/// The error for lookups whose query stays unknown: it depends on what
/// the plan makes.
#[must_use]
pub fn unknowable(addresses: &[String]) -> ProviderError {
    ProviderError::Api {
        operation: format!("lookup {}", addresses.join(", ")),
        message: "its query is not known before apply: a lookup finds what exists, so it cannot depend on what \
                  the plan makes"
            .into(),
    }
}

#[cfg(test)]
#[path = "lookup_tests.rs"]
mod tests;
