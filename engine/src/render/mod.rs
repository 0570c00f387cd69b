//! Rendering plans for people. Renderers read a plan; they never compute
//! one.

mod text;

pub use text::{plan_text, resource_text, summary};
