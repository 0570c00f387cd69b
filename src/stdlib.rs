//! The standard library of modules, embedded in the binary so that
//! `"stdlib/NAME"` resolves from any folder. Every file under `stdlib/` is
//! listed here (a test keeps this list and the folder in step).

pub const FILES: &[(&str, &str)] = &[
    ("cluster/fetch.sh", include_str!("../stdlib/cluster/fetch.sh")),
    ("cluster/install.sh", include_str!("../stdlib/cluster/install.sh")),
    ("cluster/main.k8sinfra", include_str!("../stdlib/cluster/main.k8sinfra")),
    ("cluster/master.sh", include_str!("../stdlib/cluster/master.sh")),
    ("cluster/node.sh", include_str!("../stdlib/cluster/node.sh")),
    ("network.k8sinfra", include_str!("../stdlib/network.k8sinfra")),
];
