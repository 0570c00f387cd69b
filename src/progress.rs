//! What an apply shows while it runs. On a terminal: a spinner line per
//! operation in flight with its elapsed time, and a line printed above
//! them as each one ends. Elsewhere (CI logs, pipes): one plain line when
//! an operation starts and one when it ends.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use k8sinfra_engine::apply::Event;

use crate::report::Output;

pub struct Progress<'o> {
    out: &'o Output,
    /// `None` when not drawing spinners.
    bars: Option<MultiProgress>,
    running: BTreeMap<String, ProgressBar>,
}

impl<'o> Progress<'o> {
    pub fn new(out: &'o Output) -> Self {
        let live = !out.json && std::io::stderr().is_terminal();
        let bars = live.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { out, bars, running: BTreeMap::new() }
    }

    pub fn event(&mut self, event: Event) {
        match event {
            Event::Started { address, action } => {
                let doing = format!("{address}: {}…", progressive(action.verb()));
                match &self.bars {
                    Some(bars) => {
                        let bar = bars.add(ProgressBar::new_spinner());
                        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                            bar.set_style(style);
                        }
                        bar.set_message(doing);
                        bar.enable_steady_tick(Duration::from_millis(120));
                        self.running.insert(address, bar);
                    }
                    None => self.out.stderr(&format!("{doing}\n")),
                }
            }
            // A spinner shows the time already; a log gets a line, as
            // Terraform's "Still creating... [30s elapsed]".
            Event::Still { address, action, elapsed } => {
                if self.bars.is_none() {
                    let elapsed = humantime::format_duration(Duration::from_secs(elapsed.as_secs()));
                    self.out.stderr(&format!("{address}: still {}… ({elapsed} elapsed)\n", progressive(action.verb())));
                }
            }
            Event::Finished { address, action, elapsed } => {
                let line = format!("{address}: {} ({:.1}s)", action.verb(), elapsed.as_secs_f64());
                self.ended(&address, &line);
            }
            Event::Failed { address, error, .. } => {
                let line = format!("{address}: failed: {error}");
                self.ended(&address, &line);
            }
            Event::Skipped { address, because } => {
                self.ended(&address, &format!("{address}: skipped, {because} failed"))
            }
        }
    }

    fn ended(&mut self, address: &str, line: &str) {
        if let Some(bar) = self.running.remove(address) {
            bar.finish_and_clear();
        }
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(line);
            }
            None => self.out.stderr(&format!("{line}\n")),
        }
    }
}

fn progressive(verb: &str) -> String {
    match verb {
        "created" => "creating".into(),
        "updated in place" => "updating".into(),
        "replaced" => "replacing".into(),
        "destroyed" => "destroying".into(),
        other => other.into(),
    }
}
