//! `berth-operator`: runs the Release and Application controllers against the cluster of
//! the kubeconfig (or the in-cluster service account), with leader election, `/healthz` and
//! `/metrics`.
//!
//! Usage: `berth-operator [--metrics-addr ADDR] [--lease-namespace NS] [--lease-name NAME]
//! [--no-leader-election]`. The identity in the Lease and on Events is `$POD_NAME`, else
//! `$HOSTNAME`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use berth_model::Application;
use berth_operator::application;
use berth_operator::leader::Elector;
use berth_operator::metrics;
use berth_operator::reconcile::{Context, error_policy, reconcile, releases_for_deployment};
use berth_operator::release_crd::Release;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::{Controller, watcher};
use kube::{Api, Client};
use tokio::sync::watch;

/// How long a Lease lasts without renewal (client-go's default).
const LEASE_DURATION: Duration = Duration::from_secs(15);
/// How long the leader keeps leading without a successful renewal (client-go's default):
/// shorter than the Lease, so it stops before a follower may take over.
const RENEW_DEADLINE: Duration = Duration::from_secs(10);
/// How often the leader renews, and a follower tries (client-go's default).
const LEASE_RETRY: Duration = Duration::from_secs(2);

/// Command-line options.
struct Options {
    metrics_addr: String,
    lease_namespace: String,
    lease_name: String,
    leader_election: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
        let mut o = Options {
            metrics_addr: "0.0.0.0:8080".into(),
            lease_namespace: std::env::var("POD_NAMESPACE")
                .unwrap_or_else(|_| "berth-system".into()),
            lease_name: "berth-operator".into(),
            leader_election: true,
        };
        while let Some(arg) = args.next() {
            let mut value =
                |name: &str| args.next().with_context(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--metrics-addr" => o.metrics_addr = value("--metrics-addr")?,
                "--lease-namespace" => o.lease_namespace = value("--lease-namespace")?,
                "--lease-name" => o.lease_name = value("--lease-name")?,
                "--no-leader-election" => o.leader_election = false,
                other => bail!(
                    "unknown argument {other:?}; use --metrics-addr, --lease-namespace, --lease-name or --no-leader-election"
                ),
            }
        }
        Ok(o)
    }
}

/// Resolves when leadership is lost; never when the sender is gone unused.
async fn lost(mut rx: watch::Receiver<bool>) {
    if rx.wait_for(|l| *l).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// SIGTERM (what the kubelet sends) or Ctrl-C.
async fn terminated() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            // Without a SIGTERM handler, Ctrl-C still stops us.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Keeps renewing the Lease this replica holds; flips `lost` when no renewal has
/// succeeded for the renew deadline (before the Lease lapses and someone else may lead).
async fn lead(elector: Arc<Elector>, lost: watch::Sender<bool>) {
    let mut last_ok = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(LEASE_RETRY).await;
        // A renewal that hangs must not outlive the deadline.
        let left = RENEW_DEADLINE.saturating_sub(last_ok.elapsed());
        match tokio::time::timeout(left, elector.try_lead(Timestamp::now())).await {
            Ok(Ok(true)) => last_ok = tokio::time::Instant::now(),
            Ok(Ok(false)) => {
                tracing::error!("another replica took the Lease");
                let _ = lost.send(true);
                return;
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot renew the Lease"),
            Err(_) => tracing::warn!("renewing the Lease timed out"),
        }
        if last_ok.elapsed() >= RENEW_DEADLINE {
            tracing::error!("the Lease was not renewed in time");
            let _ = lost.send(true);
            return;
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();
    let options = Options::parse(std::env::args().skip(1))?;
    let identity = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "berth-operator".into());
    let client = Client::try_default()
        .await
        .context("connecting to the cluster (kubeconfig or in-cluster service account)")?;

    // Bound before anything else so that a taken port fails the start, not a task.
    let listener = tokio::net::TcpListener::bind(&options.metrics_addr)
        .await
        .with_context(|| format!("binding {}", options.metrics_addr))?;
    let ctx = Arc::new(Context::new(client.clone(), Some(identity.clone())));

    let controller = Controller::new(
        Api::<Release>::all(client.clone()),
        watcher::Config::default(),
    );
    let store = controller.store();
    let scrape_store = store.clone();
    let scrape_metrics = ctx.metrics.clone();
    // Served before the election: a follower is alive and ready to take over, and its
    // readiness probe must say so (a follower that never turns ready blocks the operator's
    // own rollouts and node drains under its disruption budget).
    tokio::spawn(metrics::serve(listener, move || {
        let releases = scrape_store.state();
        scrape_metrics.render(
            releases
                .iter()
                .map(|r| r.status.as_ref().and_then(|s| s.phase).map(|p| p.as_str())),
        )
    }));

    let (lost_tx, lost_rx) = watch::channel(false);
    let mut leading: Option<Arc<Elector>> = None;
    if options.leader_election {
        let elector = Elector::new(
            client.clone(),
            &options.lease_namespace,
            &options.lease_name,
            &identity,
            LEASE_DURATION,
        );
        tracing::info!(lease = %options.lease_name, %identity, "waiting to lead");
        loop {
            let attempt = tokio::select! {
                r = elector.try_lead(Timestamp::now()) => r,
                () = terminated() => return Ok(()),
            };
            match attempt {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot take the Lease"),
            }
            tokio::select! {
                () = tokio::time::sleep(LEASE_RETRY) => {}
                () = terminated() => return Ok(()),
            }
        }
        tracing::info!("leading");
        let elector = Arc::new(elector);
        leading = Some(elector.clone());
        tokio::spawn(lead(elector, lost_tx));
    }

    let lost_check = lost_rx.clone();
    let releases = controller
        .watches(
            Api::<Deployment>::all(client.clone()),
            // Only berth's Deployments, by label existence.
            watcher::Config::default().labels(berth_render::APP_LABEL),
            move |d| releases_for_deployment(&store.state(), &d),
        )
        .shutdown_on_signal()
        .graceful_shutdown_on(lost(lost_rx.clone()))
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|result| async move {
            match result {
                Ok((release, _)) => tracing::debug!(%release, "reconciled"),
                Err(e) => tracing::warn!(error = %e, "Release controller"),
            }
        });
    let applications = Controller::new(
        Api::<Application>::all(client.clone()),
        watcher::Config::default(),
    )
    .watches(
        Api::<Deployment>::all(client.clone()),
        watcher::Config::default().labels(berth_render::APP_LABEL),
        |d| application::application_for_deployment(&d),
    )
    // A release that starts or ends changes what the Application's status says.
    .watches(
        Api::<Release>::all(client.clone()),
        watcher::Config::default(),
        |r| application::applications_for_release(&r),
    )
    .shutdown_on_signal()
    .graceful_shutdown_on(lost(lost_rx))
    .run(application::reconcile, application::error_policy, ctx)
    .for_each(|result| async move {
        match result {
            Ok((app, _)) => tracing::debug!(%app, "reconciled"),
            Err(e) => tracing::warn!(error = %e, "Application controller"),
        }
    });
    tokio::join!(releases, applications);
    if *lost_check.borrow() {
        // A non-zero exit restarts the pod, which then campaigns again like any follower.
        bail!("lost the leader Lease; stopped reconciling");
    }
    // A clean stop hands the Lease over now rather than after it expires.
    if let Some(elector) = leading
        && let Err(e) = elector.step_down().await
    {
        tracing::warn!(error = %e, "cannot release the Lease; it expires on its own");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Options> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn options_take_flags_and_name_the_ones_they_do_not_know() {
        let o =
            parse(&["--metrics-addr", "127.0.0.1:9000", "--no-leader-election"]).expect("valid");
        assert_eq!(o.metrics_addr, "127.0.0.1:9000");
        assert!(!o.leader_election);
        assert_eq!(o.lease_name, "berth-operator");
        let err = parse(&["--port", "1"]).err().expect("refused").to_string();
        assert!(err.contains("unknown argument \"--port\""), "{err}");
        let err = parse(&["--lease-name"]).err().expect("refused").to_string();
        assert_eq!(err, "--lease-name needs a value");
    }
}
