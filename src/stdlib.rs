//! The standard library of modules, embedded in the binary so that
//! `"stdlib/NAME"` resolves from any folder. Every file under `stdlib/` is
//! listed here (a test keeps this list and the folder in step).

pub const FILES: &[(&str, &str)] = &[("network.k8sinfra", include_str!("../stdlib/network.k8sinfra"))];
