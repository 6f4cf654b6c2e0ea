//! `berth release`: start a Release in the cluster of the kubeconfig (or print it with
//! `--dry-run`), show where Releases are as a bar per group, record a user's request
//! (`approve`, `pause`, `resume`, `rollback`) and print a Release's history.
//!
//! The cluster calls and the checks that refuse a request that does not fit a release's
//! state live in `berth_operator::verbs`; this module parses, connects and prints.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use berth_model::release::{Release, ReleaseGate, ReleasePhase, ReleaseSpec, ReleaseStage};
use berth_operator::verbs::{self, UserRequest};
use clap::{Args, Subcommand, ValueEnum};
use kube::ResourceExt;

use crate::Outcome;
use crate::inputs::read_inputs;
use crate::render::Format;

/// `berth release` and its verbs.
#[derive(Args)]
pub struct ReleaseArgs {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Subcommand)]
enum Verb {
    /// Start a release of Applications to a version (`--dry-run` prints the Release instead).
    Start(StartArgs),
    /// Show where Releases are: one bar per group, the phase, what the release waits for.
    Status(StatusArgs),
    /// Open a manual gate: the one the release waits at, or a later one with `--group`.
    Approve(ApproveArgs),
    /// Freeze a release where it is.
    Pause(NameArgs),
    /// Go on with a paused release.
    Resume(NameArgs),
    /// Take every app of a release back to its old version now, without gates.
    Rollback(NameArgs),
    /// Print every step a release took, with its time and reason.
    History(HistoryArgs),
}

/// Which cluster and namespace, kubectl's way.
#[derive(Args, Clone)]
struct ClusterArgs {
    /// Namespace of the Releases and Applications.
    #[arg(long, short = 'n', default_value = "default")]
    namespace: String,
    /// Path to the kubeconfig (default: `$KUBECONFIG`, then `~/.kube/config`, then the
    /// in-cluster service account).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long)]
    context: Option<String>,
}

#[derive(Args)]
struct StartArgs {
    /// The Applications to release together (in lockstep).
    #[arg(required = true)]
    apps: Vec<String>,
    /// The version to release.
    #[arg(long)]
    version: String,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Name of the Release (default: the first app and the version).
    #[arg(long)]
    name: Option<String>,
    /// Groups (default: the Application's `release.groups`).
    #[arg(long)]
    groups: Option<u32>,
    /// The gate between groups: `interval=10m` or `manual` (default: the Application's).
    #[arg(long)]
    gate: Option<String>,
    /// A group not ready this long after it started stops the release (e.g. `10m`).
    #[arg(long)]
    progress_deadline: Option<String>,
    /// Print the Release (for `kubectl apply -f -`) instead of creating it.
    #[arg(long)]
    dry_run: bool,
    /// Output format of `--dry-run`.
    #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
    output: Format,
}

/// How `status` and `history` print.
#[derive(Clone, Copy, ValueEnum)]
enum Shown {
    /// For people.
    Text,
    /// The Release objects as YAML.
    Yaml,
    /// The Release objects as JSON.
    Json,
}

#[derive(Args)]
struct StatusArgs {
    /// Releases by name, or by an app they release (the newest); all of the namespace when
    /// none is named.
    names: Vec<String>,
    /// Read Releases from files instead (`kubectl get release -o yaml` output, `-` for stdin).
    #[arg(short = 'f', long = "filename", conflicts_with = "names")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Shown::Text)]
    output: Shown,
}

#[derive(Args)]
struct NameArgs {
    /// The Release (or an app it releases).
    name: String,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Args)]
struct ApproveArgs {
    /// The Release (or an app it releases).
    name: String,
    /// Approve the gate after this group ahead of time (default: the gate the release
    /// waits at).
    #[arg(long)]
    group: Option<u32>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Args)]
struct HistoryArgs {
    /// The Release (or an app it releases).
    name: String,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Shown::Text)]
    output: Shown,
}

/// `berth release`.
pub fn release(args: &ReleaseArgs) -> Result<Outcome> {
    match &args.verb {
        Verb::Start(a) => start(a),
        Verb::Status(a) if !a.files.is_empty() => status_from_files(&a.files, a.output),
        Verb::Status(a) => on_cluster(&a.cluster, |c, ns| status(c, ns, &a.names, a.output)),
        Verb::Approve(a) => on_cluster(&a.cluster, |c, ns| {
            ask(c, ns, &a.name, UserRequest::Approve(a.group))
        }),
        Verb::Pause(a) => on_cluster(&a.cluster, |c, ns| ask(c, ns, &a.name, UserRequest::Pause)),
        Verb::Resume(a) => on_cluster(&a.cluster, |c, ns| ask(c, ns, &a.name, UserRequest::Resume)),
        Verb::Rollback(a) => on_cluster(&a.cluster, |c, ns| {
            ask(c, ns, &a.name, UserRequest::Rollback)
        }),
        Verb::History(a) => on_cluster(&a.cluster, |c, ns| history(c, ns, &a.name, a.output)),
    }
}

/// Runs `work` against the cluster of `args` on a one-thread runtime (a CLI makes a few
/// calls, one after another).
fn on_cluster<F, Fut>(args: &ClusterArgs, work: F) -> Result<Outcome>
where
    F: FnOnce(kube::Client, String) -> Fut,
    Fut: std::future::Future<Output = Result<Outcome>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let client = connect(args).await?;
        work(client, args.namespace.clone()).await
    })
}

async fn connect(args: &ClusterArgs) -> Result<kube::Client> {
    use kube::config::{Config, KubeConfigOptions, Kubeconfig};
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match (&args.kubeconfig, &args.context) {
        (Some(path), _) => {
            let file = Kubeconfig::read_from(path)
                .with_context(|| format!("--kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .with_context(|| format!("--kubeconfig {}", path.display()))?
        }
        (None, Some(ctx)) => Config::from_kubeconfig(&options)
            .await
            .with_context(|| format!("--context {ctx}"))?,
        (None, None) => Config::infer().await.context(
            "no cluster to talk to: set KUBECONFIG, pass --kubeconfig, or run inside a pod",
        )?,
    };
    kube::Client::try_from(config).context("cannot build a client for the cluster")
}

/// The Release `name`, or else the newest one releasing an app of that name.
async fn find(client: &kube::Client, ns: &str, name: &str) -> Result<Release> {
    match verbs::get(client, ns, name).await {
        Ok(r) => Ok(r),
        Err(verbs::VerbError::NotFound { .. }) => {
            let all = verbs::list(client, ns).await?;
            all.into_iter()
                .filter(|r| r.spec.apps.iter().any(|a| a == name))
                .max_by_key(|r| (r.metadata.creation_timestamp.clone().map(|t| t.0), r.name_any()))
                .with_context(|| {
                    format!("no Release named {name}, and none releases an app {name}, in namespace {ns}")
                })
        }
        Err(e) => Err(e.into()),
    }
}

async fn ask(client: kube::Client, ns: String, name: &str, req: UserRequest) -> Result<Outcome> {
    let r = find(&client, &ns, name).await?;
    let (_, said) = verbs::request(&client, &ns, &r.name_any(), req).await?;
    println!("release.berth.dev/{} {said}", r.name_any());
    Ok(Outcome::Clean)
}

async fn status(
    client: kube::Client,
    ns: String,
    names: &[String],
    output: Shown,
) -> Result<Outcome> {
    let releases = if names.is_empty() {
        let mut all = verbs::list(&client, &ns).await?;
        all.sort_by_key(|r| r.name_any());
        all
    } else {
        let mut found = Vec::new();
        for n in names {
            found.push(find(&client, &ns, n).await?);
        }
        found
    };
    if releases.is_empty() {
        bail!(
            "no Release in namespace {ns}; start one with `berth release start APP --version V -n {ns}`"
        );
    }
    show(&releases, output)?;
    Ok(Outcome::Clean)
}

fn show(releases: &[Release], output: Shown) -> Result<()> {
    match output {
        Shown::Text => {
            for r in releases {
                print!("{}", describe(r));
            }
        }
        Shown::Json => {
            let v: Vec<_> = releases
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            match v.as_slice() {
                [one] => println!("{}", serde_json::to_string_pretty(one)?),
                _ => println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": v})
                    )?
                ),
            }
        }
        Shown::Yaml => {
            for r in releases {
                print!(
                    "---\n{}",
                    serde_saphyr::to_string(&serde_json::to_value(r)?)?
                );
            }
        }
    }
    Ok(())
}

async fn history(client: kube::Client, ns: String, name: &str, output: Shown) -> Result<Outcome> {
    let r = find(&client, &ns, name).await?;
    let entries = r
        .status
        .as_ref()
        .map(|s| s.history.clone())
        .unwrap_or_default();
    match output {
        Shown::Text => {
            println!(
                "release {ns}/{}: {} → {}",
                r.name_any(),
                r.spec.apps.join(", "),
                r.spec.version
            );
            if entries.is_empty() {
                println!("  no step yet (the operator has not started it)");
            }
            println!("{:<22} MESSAGE", "TIME");
            for h in &entries {
                println!("{:<22} {}", h.time, h.message);
            }
        }
        Shown::Json => println!("{}", serde_json::to_string_pretty(&entries)?),
        Shown::Yaml => print!(
            "{}",
            serde_saphyr::to_string(&serde_json::to_value(&entries)?)?
        ),
    }
    Ok(Outcome::Clean)
}

fn parse_gate(text: &str) -> Result<ReleaseGate> {
    if text == "manual" {
        return Ok(ReleaseGate {
            manual: Some(true),
            ..ReleaseGate::default()
        });
    }
    match text.strip_prefix("interval=") {
        Some(d) if berth_model::parse_duration(d).is_ok() => Ok(ReleaseGate {
            interval: Some(d.to_string()),
            ..ReleaseGate::default()
        }),
        Some(d) => bail!("--gate interval={d}: not a duration; write e.g. `interval=10m`"),
        None => bail!("--gate {text:?}: write `interval=10m` or `manual`"),
    }
}

fn start(a: &StartArgs) -> Result<Outcome> {
    if let Some(d) = &a.progress_deadline {
        berth_model::parse_duration(d).map_err(|e| anyhow::anyhow!("--progress-deadline: {e}"))?;
    }
    if a.groups == Some(0) {
        bail!("--groups: a release has at least 1 group");
    }
    let gate = a.gate.as_deref().map(parse_gate).transpose()?;
    let name = a.name.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            a.apps[0],
            berth_model::version_key(&a.apps[0], &a.version)
        )
    });
    let mut r = Release::new(
        &name,
        ReleaseSpec {
            apps: a.apps.clone(),
            version: a.version.clone(),
            groups: a.groups,
            gate,
            progress_deadline: a.progress_deadline.clone(),
            paused: false,
            rollback: false,
            approvals: Vec::new(),
        },
    );
    r.metadata.namespace = Some(a.cluster.namespace.clone());
    if !a.dry_run {
        return on_cluster(&a.cluster, |client, ns| async move {
            let created = verbs::create(&client, &ns, &r).await?;
            println!(
                "release.berth.dev/{} created: {} → {} (follow it with `berth release status {} -n {ns}`)",
                created.name_any(),
                created.spec.apps.join(", "),
                created.spec.version,
                created.name_any()
            );
            Ok(Outcome::Clean)
        });
    }
    let mut v = serde_json::to_value(&r)?;
    if let Some(m) = v.as_object_mut() {
        // A new object has no status; kubectl would refuse `status: null`.
        m.remove("status");
    }
    match a.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&v)?),
        Format::Yaml => print!("---\n{}", serde_saphyr::to_string(&v)?),
    }
    Ok(Outcome::Clean)
}

/// One Release as text.
pub fn describe(r: &Release) -> String {
    let mut out = String::new();
    let name = r.metadata.name.as_deref().unwrap_or("(unnamed)");
    let ns = r.metadata.namespace.as_deref().unwrap_or("default");
    let _ = writeln!(
        out,
        "release {ns}/{name}: {} → {}",
        r.spec.apps.join(", "),
        r.spec.version
    );
    let Some(st) = r.status.as_ref().filter(|s| s.phase.is_some()) else {
        let _ = writeln!(out, "  not started yet (no status from the operator)");
        return out;
    };
    let phase = st.phase.map_or("?", |p| p.as_str());
    let stage = match st.stage {
        Some(ReleaseStage::Surge) => "new pods surging",
        Some(ReleaseStage::Shrink) => "old pods stopping",
        None => "",
    };
    let groups = st.groups.len().max(1);
    let _ = writeln!(
        out,
        "  phase {phase}, group {} of {groups}{}",
        st.group,
        if stage.is_empty() || !matches!(st.phase, Some(ReleasePhase::Progressing)) {
            String::new()
        } else {
            format!(" ({stage})")
        }
    );
    for (i, g) in st.groups.iter().enumerate() {
        let k = i as u32 + 1;
        let (bar, what) = if g.ready.is_some() {
            (
                "##########",
                format!("done {}", g.ready.as_deref().unwrap_or("")),
            )
        } else if g.started.is_some() {
            let half = if st.stage == Some(ReleaseStage::Shrink) {
                "#######---"
            } else {
                "###-------"
            };
            (
                half,
                format!("moving since {}", g.started.as_deref().unwrap_or("")),
            )
        } else {
            ("----------", "waiting".to_string())
        };
        let gate = match &g.gate_passed {
            Some(t) => format!("; gate passed {t}"),
            None if g.ready.is_some() && k < groups as u32 => "; gate closed".into(),
            None => String::new(),
        };
        let _ = writeln!(out, "  group {k} [{bar}] {what}{gate}");
    }
    if let Some(last) = st.history.last() {
        let _ = writeln!(out, "  last: {} ({})", last.message, last.time);
    }
    for c in &st.conditions {
        if c.status == "True" {
            let _ = writeln!(out, "  {}: {}", c.type_, c.message);
        }
    }
    out
}

fn status_from_files(files: &[PathBuf], output: Shown) -> Result<Outcome> {
    let mut releases = Vec::new();
    for input in read_inputs(files)? {
        let text = berth_manifest::decode_text(&input.name, &input.bytes)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (objects, errors) = berth_manifest::load_objects(&input.name, text);
        if let Some(e) = errors.first() {
            bail!("{e}");
        }
        for o in objects.iter().filter(|o| o.kind() == "Release") {
            let r: Release = serde_json::from_value(o.node.to_json_present())
                .with_context(|| format!("{}: not a Release berth can read", input.name))?;
            releases.push(r);
        }
    }
    if releases.is_empty() {
        bail!(
            "no Release in the input; pipe `kubectl get release NAME -o yaml` into `berth release status -f -`"
        );
    }
    show(&releases, output)?;
    Ok(Outcome::Clean)
}
