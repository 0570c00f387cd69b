//! The environment a run works on (`--env NAME` or `K8SINFRA_ENV`): set
//! once at start-up, read wherever the state's place or the inputs are
//! worked out. `None` is the environment called `default`, whose state is
//! where a configuration without environments keeps it.

use std::sync::OnceLock;

static CURRENT: OnceLock<Option<String>> = OnceLock::new();

/// Record the run's environment, refusing a name that could not be part
/// of a file name or an S3 key as it is.
pub fn set(name: Option<&str>) -> Result<(), String> {
    if let Some(name) = name {
        let fine = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !fine {
            return Err(format!(
                "--env {name:?}: an environment name is 1 to 64 lower-case letters, digits, `-` or `_`"
            ));
        }
    }
    // `--env default` is the environment a run without `--env` works on.
    let _ = CURRENT.set(name.filter(|n| *n != "default").map(str::to_string));
    Ok(())
}

/// The environment named for this run, if any.
pub fn current() -> Option<&'static str> {
    CURRENT.get().and_then(Option::as_deref)
}
