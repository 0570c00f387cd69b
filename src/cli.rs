//! The command-line interface: verbs, their arguments and the global flags.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "k8sinfra",
    version,
    about = "Declarative infrastructure for Kubernetes on AWS",
    long_about = "k8sinfra reads .k8sinfra files describing AWS infrastructure — VPCs, subnets, gateways, \
                  security groups, instances, volumes, DNS, load balancers, buckets — checks them, and shows \
                  their dependency graph.",
    propagate_version = true
)]
pub struct Cli {
    /// When to colour output (`auto` honours NO_COLOR and whether stderr is a terminal).
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// Print diagnostics as JSON on stdout, for editors and CI tools.
    #[arg(long, global = true)]
    pub json: bool,

    /// Fail (exit 1) on warnings too: security-lint findings not accepted
    /// with `lifecycle { accept = { RULE = "why" } }`. For CI.
    #[arg(long, global = true)]
    pub deny_warnings: bool,

    /// Print the AWS API calls the run made on stderr at the end: per
    /// resource type and operation, calls, attempts and time.
    #[arg(long, global = true, env = "K8SINFRA_CALL_STATS")]
    pub call_stats: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a configuration: syntax, references, types, networks. Touches nothing.
    Validate(ValidateArgs),
    /// Rewrite .k8sinfra files in the canonical style (comments are kept).
    Fmt(FmtArgs),
    /// Print the resource dependency graph in Graphviz DOT (with a saved plan's actions, given --plan).
    Graph(GraphArgs),
    /// Show what `apply` would change, after reading what exists.
    Plan(PlanArgs),
    /// Make the infrastructure match the configuration (or carry out a plan saved with `plan --out`).
    Apply(ApplyArgs),
    /// Delete everything the state holds.
    Destroy(ApplyArgs),
    /// Print the outputs recorded by the last apply.
    Output(OutputArgs),
    /// Show a plan saved with `plan --out`: as text, as a pull-request comment (markdown), or as JSON.
    Show(ShowArgs),
    /// Prepare the state backend: create the S3 bucket (versioned, encrypted, private) or the local folder.
    Init(InitArgs),
    /// Remove a state lock left by a run that died elsewhere. Takes the lock id the error showed.
    ForceUnlock(ForceUnlockArgs),
    /// List, show, forget or rename resources in the state. Touches nothing in the cloud.
    State(StateArgs),
    /// Bring an existing cloud resource under management at a declared address.
    Import(ImportArgs),
}

/// Where a configuration is and what its inputs are.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Folder of .k8sinfra files (or a single file).
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// Set an input: `--var name=value`. Repeatable; wins over files and environment.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Read inputs from a file of `name = value` lines. Repeatable.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Files or folders to format.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Change nothing; fail if any file is not formatted.
    #[arg(long)]
    pub check: bool,

    /// Show what would change as a unified diff.
    #[arg(long)]
    pub diff: bool,

    /// Also format files in subfolders.
    #[arg(long, short)]
    pub recursive: bool,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Colour each resource by what this saved plan (`plan --out`) does to it; resources it destroys are added.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
}

/// How a verb that writes state takes the lock.
#[derive(Debug, Clone, Copy, Args)]
pub struct LockArgs {
    /// Hold the state lock while running. `--lock=false` skips it; state writes stay conditional.
    #[arg(long = "lock", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub enabled: bool,

    /// Wait this long for a lock another run holds (`30s`, `5m`); by default fail at once.
    #[arg(long = "lock-timeout", default_value = "0s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Save the plan (JSON) for `k8sinfra show` and `k8sinfra apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub lock: LockArgs,

    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Plan from the state as stored, without reading the cloud first.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// Operations in flight at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,

    /// Plan from the state as stored, without reading the cloud first.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One output to print (its value alone, sensitive or not).
    pub name: Option<String>,

    /// Folder of the configuration whose state to read.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The id of the lock to remove, as the "locked" error showed it.
    pub lock_id: String,

    /// Folder of the configuration whose state is locked.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub command: StateCommand,

    /// Folder of the configuration whose state to use.
    #[arg(long, default_value = ".", global = true)]
    pub dir: PathBuf,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Every address in the state, with its cloud id.
    List,
    /// One resource's attributes as last read.
    Show { address: String },
    /// Forget resources: they keep running in the cloud, unmanaged.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Rename an address (after renaming a resource or moving it into a module).
    Mv {
        from: String,
        to: String,
        /// Move to an address the configuration does not declare (or of
        /// another type): the next plan will destroy it there.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The address declared in the configuration, e.g. vpc.main or subnet.private["us-east-1a"].
    pub address: String,

    /// The cloud's id of the resource (vpc-0abc…, a bucket name, a key pair name).
    pub id: String,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved with `k8sinfra plan --out FILE`.
    pub file: PathBuf,

    /// text for a terminal, markdown for a pull-request comment (split in parts under 65,000 characters), json for tools.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
}
