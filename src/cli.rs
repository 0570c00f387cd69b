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
                  security groups, instances, volumes, DNS, load balancers, buckets, a whole Kubernetes cluster — \
                  and makes the cloud match them.\n\n\
                  validate checks a configuration without touching anything; plan reads what exists and shows \
                  what apply would change (save it with --out for review); apply carries the plan out, asking \
                  first, in dependency order and in parallel, keeping every step in the state (local, or in S3 \
                  with a lock); destroy deletes everything the state holds.\n\n\
                  Every verb takes the configuration's folder as DIR (default: the current folder; --dir DIR \
                  works too). Start with: k8sinfra init DIR; k8sinfra plan DIR; k8sinfra apply DIR.",
    propagate_version = true
)]
pub struct Cli {
    /// When to colour output (`auto` honours NO_COLOR and whether stderr is a terminal).
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// Print one JSON document on stdout (the result and the diagnostics), for editors and CI tools.
    #[arg(long, global = true)]
    pub json: bool,

    /// The environment to work on: its own state and lock, `env.name` in
    /// the configuration, and `vars/NAME.vars` read first. Without it, the
    /// environment is `default`.
    #[arg(long, global = true, env = "K8SINFRA_ENV", value_name = "NAME")]
    pub env: Option<String>,

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
    /// Environments: `env list` shows those that have a state.
    Env(EnvArgs),
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(subcommand)]
    pub command: EnvCommand,
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// The environments that have a state, the current one marked with `*`.
    List {
        /// Folder of the configuration.
        #[arg(default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
}

/// `--deny-warnings`, on the verbs that check a configuration.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct LintArgs {
    /// Fail (exit 1) on warnings too: security-lint findings not accepted
    /// with `lifecycle { accept = { RULE = "why" } }`. For CI.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// What a plan is asked beyond the configuration, on `plan` and `apply`
/// (and `--target` on `destroy`).
#[derive(Debug, Clone, Default, Args)]
pub struct RequestArgs {
    /// Replace this resource although nothing changed (an instance, or
    /// every instance of a resource; a rolling member in its group's
    /// turn). Repeatable.
    #[arg(long, value_name = "ADDRESS")]
    pub replace: Vec<String>,

    /// Plan only this resource (or module call) and what it depends on;
    /// on `destroy`, it and what depends on it. Repeatable. For repairs,
    /// not routine work: the rest waits for a plan without it.
    #[arg(long, value_name = "ADDRESS")]
    pub target: Vec<String>,

    /// Change nothing in the cloud: show the drift refresh finds, and on
    /// `apply` write it into the state.
    #[arg(long)]
    pub refresh_only: bool,
}

impl RequestArgs {
    #[must_use]
    pub fn to_request(&self) -> k8sinfra_engine::plan::Request {
        k8sinfra_engine::plan::Request {
            replace: self.replace.clone(),
            targets: self.target.clone(),
            refresh_only: self.refresh_only,
        }
    }
}

/// `--call-stats`, on the verbs that call AWS.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct StatsArgs {
    /// Print the AWS API calls the run made on stderr at the end: per
    /// resource type and operation, calls, attempts and time.
    /// `K8SINFRA_CALL_STATS=1` (or `true`, `yes`, `on`) turns it on too;
    /// `0`, `false`, `no`, `off` or empty leave it off.
    #[arg(long, env = "K8SINFRA_CALL_STATS", value_parser = clap::builder::FalseyValueParser::new())]
    pub call_stats: bool,
}

/// Where a configuration is and what its inputs are.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Folder of .k8sinfra files (or a single file).
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,

    /// The folder, as a flag: the same as DIR.
    #[arg(long = "dir", value_name = "DIR", conflicts_with = "dir")]
    pub dir_flag: Option<PathBuf>,

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

    #[command(flatten)]
    pub lint: LintArgs,
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

    /// Plan from the state as stored, reading nothing from the cloud (the
    /// images it would launch are not checked either; apply checks them).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,

    #[command(flatten)]
    pub request: RequestArgs,

    #[command(flatten)]
    pub lint: LintArgs,

    #[command(flatten)]
    pub stats: StatsArgs,
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

    #[command(flatten)]
    pub request: RequestArgs,

    #[command(flatten)]
    pub lint: LintArgs,

    #[command(flatten)]
    pub stats: StatsArgs,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One output to print (its value alone, sensitive or not).
    pub name: Option<String>,

    /// Folder of the configuration whose state to read (after NAME, or as --dir).
    #[arg(value_name = "DIR")]
    pub dir_arg: Option<PathBuf>,

    /// Folder of the configuration whose state to read.
    #[arg(long, default_value = ".", conflicts_with = "dir_arg")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Resolve every git module's reference again and pin what it names
    /// now (without it, the commits k8sinfra.lock.json pins are kept).
    #[arg(long)]
    pub upgrade: bool,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The id of the lock to remove, as the "locked" error showed it.
    pub lock_id: String,

    /// Folder of the configuration whose state is locked (or as --dir).
    #[arg(value_name = "DIR")]
    pub dir_arg: Option<PathBuf>,

    /// Folder of the configuration whose state is locked.
    #[arg(long, default_value = ".", conflicts_with = "dir_arg")]
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
    List {
        /// Folder of the configuration (or as --dir).
        #[arg(value_name = "DIR")]
        dir_arg: Option<PathBuf>,
    },
    /// One resource's attributes as last read.
    Show {
        address: String,
        /// Folder of the configuration (or as --dir).
        #[arg(value_name = "DIR")]
        dir_arg: Option<PathBuf>,
    },
    /// Forget resources: they keep running in the cloud, unmanaged.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Rename an address (after renaming a resource or moving it into a module).
    Mv {
        from: String,
        to: String,
        /// Folder of the configuration (or as --dir).
        #[arg(value_name = "DIR")]
        dir_arg: Option<PathBuf>,
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

    #[command(flatten)]
    pub stats: StatsArgs,
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

impl Cli {
    /// The folder given as `--dir` or as a positional DIR, in the one field
    /// each verb reads.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        match &mut self.command {
            Command::Validate(a) => a.config.settle(),
            Command::Graph(a) => a.config.settle(),
            Command::Plan(a) => a.config.settle(),
            Command::Apply(a) | Command::Destroy(a) => a.config.settle(),
            Command::Init(a) => a.config.settle(),
            Command::Import(a) => a.config.settle(),
            Command::Output(a) => {
                if let Some(dir) = a.dir_arg.take() {
                    a.dir = dir;
                }
            }
            Command::ForceUnlock(a) => {
                if let Some(dir) = a.dir_arg.take() {
                    a.dir = dir;
                }
            }
            Command::State(a) => {
                let given = match &mut a.command {
                    StateCommand::List { dir_arg }
                    | StateCommand::Show { dir_arg, .. }
                    | StateCommand::Mv { dir_arg, .. } => dir_arg.take(),
                    StateCommand::Rm { .. } => None,
                };
                if let Some(dir) = given {
                    a.dir = dir;
                }
            }
            Command::Fmt(_) | Command::Show(_) | Command::Env(_) => {}
        }
        self
    }

    /// `--deny-warnings` and `--call-stats`, on the verbs that take them.
    #[must_use]
    pub fn run_flags(&self) -> (LintArgs, StatsArgs) {
        match &self.command {
            Command::Validate(a) => (a.lint, StatsArgs::default()),
            Command::Plan(a) => (a.lint, a.stats),
            Command::Apply(a) | Command::Destroy(a) => (a.lint, a.stats),
            Command::Import(a) => (LintArgs::default(), a.stats),
            _ => (LintArgs::default(), StatsArgs::default()),
        }
    }
}

impl ConfigArgs {
    fn settle(&mut self) {
        if let Some(dir) = self.dir_flag.take() {
            self.dir = dir;
        }
    }
}
