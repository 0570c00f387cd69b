//! `k8sinfra init` fetches the git modules and prepares the state
//! backend; `k8sinfra force-unlock`
//! removes a lock whose holder died where this host cannot tell.

use super::backend::report;
use super::session::open_state;
use crate::cli::{ForceUnlockArgs, InitArgs};
use crate::report::Output;

pub fn run(args: &InitArgs, out: &Output) -> bool {
    if !super::modules::install(&args.config.dir, args.upgrade, out) {
        return false;
    }
    let Some(access) = open_state(&args.config.dir, out) else { return false };
    match access.runtime.block_on(access.backend.init()) {
        Ok(done) => {
            for line in done {
                out.stderr(&format!("  {line}\n"));
            }
            out.success(&format!("State backend ready: {}", access.backend.location()));
            true
        }
        Err(e) => {
            report(e, out);
            false
        }
    }
}

pub fn force_unlock(args: &ForceUnlockArgs, out: &Output) -> bool {
    let Some(access) = open_state(&args.dir, out) else { return false };
    match access.runtime.block_on(access.backend.force_unlock(&args.lock_id)) {
        Ok(lock) => {
            out.success(&format!("Removed the lock on {}: {}", access.backend.location(), lock.describe()));
            true
        }
        Err(e) => {
            report(e, out);
            false
        }
    }
}
