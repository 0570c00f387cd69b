//! Rendering plans for people: text for the terminal, markdown for a
//! pull-request comment. Renderers read a plan; they never compute one.
//! (The JSON form is the plan's own serialization, `Plan::to_json`.)

mod markdown;
#[cfg(test)]
pub(crate) mod sample;
mod text;

pub use markdown::{plan_markdown, PART_LIMIT};
#[cfg(test)]
pub(crate) use sample::plan as sample_plan;
pub use text::{plan_text, resource_text, summary};
