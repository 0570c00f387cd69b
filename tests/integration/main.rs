//! The integration suite, one binary for the whole workspace (every test
//! binary links everything, so there is exactly one):
//!
//! - `fixtures`: files under `tests/fixtures/errors` with the expected
//!   diagnostics written next to the offending line;
//! - `snapshots`: rendered diagnostics, as a user sees them (insta);
//! - `repository`: every `.k8sinfra` file in the repository parses, is
//!   formatted, and every example validates;
//! - `docs`: docs/resources.md's tables are the schemas';
//! - `documents`: `--json` documents and exit codes, from a state written
//!   by hand, no cloud;
//! - `boot`: the cluster's boot scripts run in a sandbox with recording stubs;
//! - `cli`: the binary as a user runs it: exit codes, hostile input, flags;
//! - `apply`: plan, apply and destroy against a moto server (`moto`);
//! - `balancers`: classic load balancers: a lost create answer adopted, a
//!   name someone else holds refused, rolling registration order;
//! - `credentials`: a named profile's keys and region, and no credentials;
//! - `environments`: `--env`, a state per environment, `env list`;
//! - `git_modules`: module sources in git, fetched by `init` and pinned;
//! - `hosts`: the chapter's security groups, key pair, instances and volume;
//! - `iam`: roles, inline policies, instance profiles and an instance's role;
//! - `local`: the local provider's types applied with no cloud: apply's
//!   documents, saved plans applied elsewhere, each environment's lock;
//! - `lookups`: existing VPCs, subnets, groups, zones, the region's zones;
//! - `reference`: the language reference's promises about files, inputs,
//!   module calls, `fmt` and diagnostics, through the binary, no cloud;
//! - `refresh`: one describe call per type, counted by a relay (`proxy`);
//! - `regions`: named provider blocks, resources and module instances in
//!   two regions;
//! - `requests`: `--replace`, `--target` and `--refresh-only` on moto;
//! - `secrets`: sensitive values never printed, in any form;
//! - `seed`: the seed chapter's whole infrastructure, state in S3;
//! - `settle`: every example, stdlib module and benchmark shape, applied,
//!   planned again to nothing and destroyed to nothing;
//! - `stacks`: one configuration reading another's outputs from its state;
//! - `state_s3`: the S3 backend against moto: init, locks, conditional writes;
//! - `like_aws`: the seed chapter and the kops cluster through the relay's
//!   AWS-behaviour layer (`aws_behaviour`), and the layer itself.

mod apply;
mod aws_behaviour;
mod balancers;
mod boot;
mod cli;
mod cluster;
mod credentials;
mod docs;
mod documents;
mod environments;
mod faults;
mod fixtures;
mod git_modules;
mod hosts;
mod iam;
mod kill;
mod like_aws;
mod lint;
mod local;
mod lookups;
mod moto;
mod planner;
mod properties;
mod proxy;
mod reference;
mod refresh;
mod regions;
mod repository;
mod requests;
mod secrets;
mod seed;
mod settle;
mod snapshots;
mod stacks;
mod state_s3;
mod support;
