//! Opening the state backend a configuration names (its `backend` block,
//! or `.k8sinfra/state.json` beside it), and the lock every verb that
//! writes state holds while it runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8sinfra_engine::config::{self, Config};
use k8sinfra_engine::state::{self, Backend, BackendError, LockInfo};
use k8sinfra_lang::{Diag, Value};
use k8sinfra_providers::aws::state_s3::S3Backend;

use crate::report::Output;

/// The backend of `config`, whose files are in `dir`.
pub async fn open(config: &Config, dir: &Path) -> Result<Box<dyn Backend>, BackendError> {
    Ok(match &config.backend {
        config::Backend::LocalDefault => Box::new(state::LocalBackend::beside(dir)),
        config::Backend::Local { path } => Box::new(state::LocalBackend::at(dir.join(path))),
        config::Backend::S3 { bucket, key, region } => {
            let aws = config.providers.get("aws");
            let setting = |name: &str| aws.and_then(|a| a.values.get(name)).and_then(Value::as_str).map(String::from);
            let region = region.clone().or_else(|| setting("region"));
            Box::new(S3Backend::connect(bucket, key, region, setting("profile")).await?)
        }
    })
}

/// The folder a configuration argument names (a file's parent folder).
pub fn config_dir(path: &Path) -> PathBuf {
    if path.is_file() {
        path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        path.to_path_buf()
    }
}

/// How a verb takes the lock: `--lock` and `--lock-timeout`.
#[derive(Debug, Clone, Copy)]
pub struct Locking {
    pub enabled: bool,
    pub timeout: Duration,
}

/// The lock, if taken; `Err(())` after reporting why it could not be.
pub async fn lock(
    backend: &dyn Backend,
    operation: &str,
    locking: Locking,
    out: &Output,
) -> Result<Option<LockInfo>, ()> {
    if !locking.enabled {
        out.stderr("warning: running without the state lock (--lock=false); state writes are still conditional\n");
        return Ok(None);
    }
    match state::lock(backend, operation, locking.timeout).await {
        Ok((info, reclaimed)) => {
            if let Some(old) = reclaimed {
                out.stderr(&format!("warning: took over the lock of a run that is gone: {}\n", old.describe()));
            }
            Ok(Some(info))
        }
        Err(e) => {
            report(e, out);
            Err(())
        }
    }
}

/// Release the lock, saying so if that fails (the run's work is done).
pub async fn unlock(backend: &dyn Backend, lock: Option<LockInfo>, out: &Output) {
    if let Some(lock) = lock {
        if let Err(e) = backend.unlock(&lock).await {
            out.stderr(&format!("warning: the lock could not be released: {e}\nrun `k8sinfra force-unlock {}` once this run has ended\n", lock.id));
        }
    }
}

pub fn report(error: BackendError, out: &Output) {
    out.error(Diag::global(error));
}
