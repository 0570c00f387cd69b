//! `look_up_all` against the test kit's lookup: what goes into a query
//! (written and defaulted attributes, not what an earlier lookup filled
//! in), lookups that name another found in rounds, and a lookup that names
//! something the plan makes left waiting.

use super::look_up_all;
use crate::state::State;
use crate::testkit::{configuration, kit};

const CONFIGURATION: &str = r#"
existing_thing base {
  name = "base"
}

existing_thing child {
  name = existing_thing.base.region
}

box made {
  name = "made"
}

existing_thing unmade {
  name = box.made.arn
}
"#;

#[test]
fn lookups_are_found_in_rounds_by_what_the_configuration_writes() {
    let kit = kit();
    let providers = kit.providers();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut state = State::new();

    // Round one: `base` is found; `child` waits for its id, `unmade` for
    // a resource the plan makes.
    let config = configuration(CONFIGURATION, &providers, &state);
    let waiting = runtime.block_on(look_up_all(&providers, &config, &mut state)).expect("looked up");
    assert_eq!(waiting, ["existing_thing.child", "existing_thing.unmade"]);
    assert_eq!(kit.queries.lock().expect("queries").clone(), [r#"{"name":"base","tier":"gold"}"#]);
    let base = &state.resources["existing_thing.base"];
    assert_eq!((base.id.as_str(), base.type_name.as_str()), ("found-base", "existing_thing"));
    // What was found, with the query over it.
    assert_eq!(base.attrs["region"], "r1");
    assert_eq!(base.attrs["tier"], "gold");

    // Round two, evaluated with what round one found: `child` is asked for
    // by `base`'s region, and `base` by its written query alone, not by the
    // region it was found in.
    let config = configuration(CONFIGURATION, &providers, &state);
    kit.queries.lock().expect("queries").clear();
    let waiting = runtime.block_on(look_up_all(&providers, &config, &mut state)).expect("looked up");
    assert_eq!(waiting, ["existing_thing.unmade"]);
    let mut queries = kit.queries.lock().expect("queries").clone();
    queries.sort();
    assert_eq!(queries, [r#"{"name":"base","tier":"gold"}"#, r#"{"name":"r1","tier":"gold"}"#]);
    assert_eq!(state.resources["existing_thing.child"].id, "found-r1");
    assert!(!state.resources.contains_key("box.made"), "a resource is not looked up");
}
