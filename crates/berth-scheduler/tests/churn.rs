//! A `Cluster` kept as a long-lived scheduler cache: pods removed, pods starting to
//! terminate, nodes tainted or cordoned between cycles. After any such change the cluster
//! must decide exactly as one built afresh from what is left.

use std::collections::BTreeMap;

use berth_scheduler::{
    AffinityTerm, Cluster, Decision, HostPort, LabelSelector, NodeInfo, PodInfo, Profile,
    Requirement, Resources, SpreadConstraint, State, Taint, schedule,
};
use proptest::prelude::*;

fn node(name: &str, zone: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{kubernetes.io/hostname: {name}, topology.kubernetes.io/zone: {zone}}}\nstatus:\n  allocatable: {{cpu: '8', memory: 32Gi, pods: '110'}}\n"
    )
}

fn pod(name: &str, node: &str, labels: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {labels}\nspec:\n  nodeName: {node}\n  containers:\n  - name: a\n    image: a:1\n    resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}\n{extra}"
    )
}

fn cluster(docs: &[String]) -> Cluster {
    let (objs, errs) = berth_manifest::load_objects("c.yaml", &docs.join("---\n"));
    assert!(errs.is_empty(), "{errs:?}");
    Cluster::from_objects(&objs)
}

fn pod_info(yaml: &str) -> PodInfo {
    let (p, errs) = berth_manifest::load_objects("p.yaml", yaml);
    assert!(errs.is_empty(), "{errs:?}");
    PodInfo::from_object(&p[0])
}

fn decide(cluster: &Cluster, pod: &PodInfo) -> Decision {
    schedule(cluster, pod, &Profile::default(), &mut State::new(7))
}

fn reasons<'a>(d: &'a Decision, node: &str) -> &'a [String] {
    &d.nodes
        .iter()
        .find(|n| *n.name == *node)
        .expect("node")
        .reasons
}

fn feasible(d: &Decision, node: &str) -> bool {
    d.nodes
        .iter()
        .find(|n| *n.name == *node)
        .expect("node")
        .feasible
}

/// Binds `yaml` (a pod) to its `nodeName` and returns its index.
fn bind(c: &mut Cluster, yaml: &str) -> usize {
    let p = pod_info(yaml);
    let n = c
        .node_index(p.node_name.as_deref().expect("nodeName"))
        .expect("node exists");
    c.bind(p, n);
    c.pods.len() - 1
}

const HARD_ZONE_SPREAD: &str = "  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}\n";
const SOFT_ZONE_SPREAD: &str = "  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}\n";
const ANTI_WEB_ON_HOST: &str = "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}\n";

#[test]
fn removing_a_bound_pod_restores_the_node_totals_and_the_next_decision() {
    let base = vec![
        node("a1", "a"),
        node("b1", "b"),
        pod("w1", "a1", "{app: web}", ""),
    ];
    let probe = pod_info(&pod(
        "p",
        "''",
        "{app: web}",
        "    ports: [{containerPort: 80, hostPort: 8080}]\n",
    ));
    let mut c = cluster(&base);
    decide(&c, &probe);
    let big = pod("big", "a1", "{app: web}", "").replace(
        "cpu: 100m, memory: 128Mi}}",
        "cpu: '6', memory: 20Gi, nvidia.com/gpu: '1'}}\n    ports: [{containerPort: 80, hostPort: 8080}]",
    );
    let idx = bind(&mut c, &big);
    let d = decide(&c, &probe);
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't have free ports for the requested pod ports"]
    );
    let count = c.pods.len();

    c.remove_pod(idx);

    let never = cluster(&base);
    assert_eq!(c.nodes, never.nodes, "totals, ports, pod lists");
    assert_eq!(c.namespace_pods, never.namespace_pods);
    assert_eq!(decide(&c, &probe), decide(&never, &probe));
    // A tombstone keeps the other indexes valid.
    assert_eq!(c.pods.len(), count);
    assert!(c.pods[idx].removed);
    assert_eq!(c.pods[idx].node_name, None);
    assert_eq!(c.pods[0].name, "w1");
}

#[test]
fn removing_a_pod_with_required_anti_affinity_makes_its_node_feasible_again() {
    let base = vec![node("a1", "a"), node("b1", "b")];
    let probe = pod_info(&pod("w", "''", "{app: web}", ""));
    let mut c = cluster(&base);
    decide(&c, &probe);
    let guard = bind(
        &mut c,
        &pod(
            "db",
            "a1",
            "{app: db}",
            "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}\n",
        ),
    );
    let d = decide(&c, &probe);
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't satisfy existing pods anti-affinity rules"]
    );

    c.remove_pod(guard);

    let d = decide(&c, &probe);
    assert!(feasible(&d, "a1"));
    assert!(c.affinity_pods.values().all(Vec::is_empty));
    assert_eq!(d, decide(&cluster(&base), &probe));
}

#[test]
fn removing_the_pod_an_anti_affine_newcomer_avoids_makes_its_node_feasible_again() {
    let base = vec![node("a1", "a"), node("a2", "a")];
    let probe = pod_info(&pod("w", "''", "{app: web}", ANTI_WEB_ON_HOST));
    let mut c = cluster(&base);
    decide(&c, &probe);
    let old = bind(&mut c, &pod("old", "a1", "{app: web}", ""));
    assert_eq!(
        reasons(&decide(&c, &probe), "a1"),
        ["node(s) didn't match pod anti-affinity rules"]
    );

    c.remove_pod(old);

    let d = decide(&c, &probe);
    assert!(feasible(&d, "a1"));
    assert_eq!(d, decide(&cluster(&base), &probe));
}

#[test]
fn removing_a_spread_counted_pod_changes_the_skew() {
    // Zone a holds 2 web pods, zone b 1: a = 2 + 1 - 1 = 2 > maxSkew 1.
    let base = vec![
        node("a1", "a"),
        node("b1", "b"),
        pod("w1", "b1", "{app: web}", ""),
        pod("w2", "a1", "{app: web}", ""),
    ];
    let hard = pod_info(&pod("w", "''", "{app: web}", HARD_ZONE_SPREAD));
    let soft = pod_info(&pod("w", "''", "{app: web}", SOFT_ZONE_SPREAD));
    let mut c = cluster(&base);
    let w3 = bind(&mut c, &pod("w3", "a1", "{app: web}", ""));
    let before_soft = decide(&c, &soft);
    assert_eq!(
        reasons(&decide(&c, &hard), "a1"),
        ["node(s) didn't match pod topology spread constraints"]
    );

    c.remove_pod(w3);

    // a = 1 + 1 - 1 = 1.
    let never = cluster(&base);
    let d = decide(&c, &hard);
    assert!(feasible(&d, "a1"));
    assert_eq!(d, decide(&never, &hard));
    let after_soft = decide(&c, &soft);
    assert_ne!(after_soft, before_soft, "zone a scores higher once emptier");
    assert_eq!(after_soft, decide(&never, &soft));
    assert_eq!(
        *c.matching_per_node("shop", &hard.spread[0].selector)
            .borrow(),
        [1, 1]
    );
}

#[test]
fn a_terminating_pod_leaves_the_spreading_counts_but_keeps_its_resources() {
    let base = vec![
        node("a1", "a"),
        node("b1", "b"),
        pod("w1", "b1", "{app: web}", ""),
    ];
    let hard = pod_info(&pod("w", "''", "{app: web}", HARD_ZONE_SPREAD));
    let anti = pod_info(&pod("w", "''", "{app: web}", ANTI_WEB_ON_HOST));
    let web = &hard.spread[0].selector;
    let mut c = cluster(&base);
    decide(&c, &hard);
    decide(&c, &anti);
    let w2 = bind(&mut c, &pod("w2", "a1", "{app: web}", ""));
    let w3 = bind(&mut c, &pod("w3", "a1", "{app: web}", ""));
    let a1 = c.nodes[0].clone();
    assert_eq!(*c.matching_per_node("shop", web).borrow(), [2, 1]);

    c.set_terminating(w2);
    c.set_terminating(w2);

    assert!(c.pods[w2].terminating);
    assert_eq!(*c.matching_per_node("shop", web).borrow(), [1, 1]);
    assert_eq!(*c.matching_per_node_all("shop", web).borrow(), [2, 1]);
    assert_eq!(c.nodes[0], a1, "resources, ports and pod list unchanged");
    // As if read from a snapshot where w2 carries a deletionTimestamp.
    let mut snapshot = base.clone();
    snapshot.push(pod("w2", "a1", "{app: web}", "").replace(
        "  namespace: shop\n",
        "  namespace: shop\n  deletionTimestamp: '2026-11-24T00:00:00Z'\n",
    ));
    snapshot.push(pod("w3", "a1", "{app: web}", ""));
    let snapshot = cluster(&snapshot);
    let d = decide(&c, &hard);
    assert!(feasible(&d, "a1"), "a = 1 + 1 - 1");
    assert_eq!(d, decide(&snapshot, &hard));
    // Anti-affinity still sees it: it is still on the node.
    assert_eq!(decide(&c, &anti), decide(&snapshot, &anti));
    assert!(!feasible(&decide(&c, &anti), "a1"));

    // Removing a terminating pod then drops only the terminating-included count.
    c.remove_pod(w2);
    c.remove_pod(w3);
    assert_eq!(*c.matching_per_node("shop", web).borrow(), [0, 1]);
    assert_eq!(*c.matching_per_node_all("shop", web).borrow(), [0, 1]);
    assert_eq!(c.nodes, cluster(&base).nodes);
}

#[test]
fn removing_an_unbound_or_already_removed_pod_changes_nothing() {
    let docs = vec![
        node("a1", "a"),
        pod("w1", "a1", "{app: web}", ""),
        pod("pending", "''", "{app: web}", ""),
    ];
    let mut c = cluster(&docs);
    let probe = pod_info(&pod("w", "''", "{app: web}", HARD_ZONE_SPREAD));
    decide(&c, &probe);
    let pending = c
        .pods
        .iter()
        .position(|p| p.name == "pending")
        .expect("kept");
    let snapshot = |c: &Cluster| {
        (
            c.nodes.clone(),
            c.pods.clone(),
            c.namespace_pods.clone(),
            c.affinity_pods.clone(),
        )
    };
    let before = snapshot(&c);

    c.remove_pod(pending);
    c.remove_pod(c.pods.len() + 3);
    assert_eq!(snapshot(&c), before);

    let w1 = c.pods.iter().position(|p| p.name == "w1").expect("bound");
    c.remove_pod(w1);
    let once = snapshot(&c);
    c.remove_pod(w1);
    c.set_terminating(w1);
    assert_eq!(snapshot(&c), once);
    assert_eq!(decide(&c, &probe), decide(&cluster(&docs[..1]), &probe));
}

#[test]
fn other_pods_keep_their_indexes_and_list_entries_through_removals() {
    let mut c = cluster(&[node("a1", "a"), node("b1", "b")]);
    let guard = |name: &str, node: &str| {
        pod(
            name,
            node,
            "{app: db}",
            "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: kubernetes.io/hostname, namespaces: [shop, infra], labelSelector: {matchLabels: {app: db}}}\n",
        )
    };
    let ids: Vec<usize> = [("d0", "a1"), ("d1", "a1"), ("d2", "b1"), ("d3", "a1")]
        .iter()
        .map(|(n, on)| bind(&mut c, &guard(n, on)))
        .collect();

    // The first entry of every list goes; the last is swapped into its place.
    c.remove_pod(ids[0]);
    // The moved pod must be found where it now sits.
    c.remove_pod(ids[3]);

    for (i, name) in ["d0", "d1", "d2", "d3"].iter().enumerate() {
        assert_eq!(c.pods[ids[i]].name, *name);
    }
    let sorted = |mut v: Vec<(usize, usize)>| {
        v.sort_unstable();
        v
    };
    let live = vec![(ids[1], 0), (ids[2], 1)];
    assert_eq!(sorted(c.namespace_pods["shop"].clone()), live);
    assert_eq!(sorted(c.affinity_pods["shop"].clone()), live);
    assert_eq!(sorted(c.affinity_pods["infra"].clone()), live);
    assert_eq!(c.nodes[0].pods, [ids[1]]);
    assert_eq!(c.nodes[1].pods, [ids[2]]);
    c.remove_pod(ids[1]);
    c.remove_pod(ids[2]);
    assert!(c.namespace_pods["shop"].is_empty());
    assert!(c.affinity_pods.values().all(Vec::is_empty));
    assert_eq!(c.nodes[0].pod_count + c.nodes[1].pod_count, 0);
}

#[test]
fn taints_and_cordons_changed_in_place_apply_to_the_next_cycle() {
    let base = vec![
        node("a1", "a"),
        node("b1", "b"),
        pod("w1", "b1", "{app: web}", ""),
    ];
    // A spread that honours taints: the tainted node drops out of the domains as well.
    let honour =
        HARD_ZONE_SPREAD.replace("DoNotSchedule,", "DoNotSchedule, nodeTaintsPolicy: Honor,");
    let probe = pod_info(&pod("w", "''", "{app: web}", &honour));
    let mut c = cluster(&base);
    assert!(feasible(&decide(&c, &probe), "a1"));

    c.nodes[0].unschedulable = true;
    assert_eq!(
        reasons(&decide(&c, &probe), "a1"),
        ["node(s) were unschedulable"]
    );
    c.nodes[0].unschedulable = false;
    c.nodes[0].taints.push(Taint {
        key: "maintenance".into(),
        value: String::new(),
        effect: "NoSchedule".into(),
    });
    let d = decide(&c, &probe);
    assert_eq!(reasons(&d, "a1"), ["node(s) had untolerated taint(s)"]);

    let mut tainted = base.clone();
    tainted[0] = tainted[0].replace(
        "status:",
        "spec:\n  taints: [{key: maintenance, effect: NoSchedule}]\nstatus:",
    );
    assert_eq!(d, decide(&cluster(&tainted), &probe));
    // With a1 left out of the domains, zone b alone is the minimum: b = 1 + 1 - 1 fits.
    assert!(feasible(&d, "b1"));
}

// ---- Random churn against a fresh build ----

const NAMESPACES: [&str; 2] = ["ns-0", "ns-1"];
const NODES: usize = 5;

/// What a generated pod looks like.
#[derive(Debug, Clone)]
struct Spec {
    ns: usize,
    app: usize,
    tier: usize,
    cpu: i64,
    gpu: i64,
    port: Option<i64>,
    affinity: u8,
    terminating: bool,
}

#[derive(Debug, Clone)]
enum Op {
    Bind(Spec, usize),
    /// A pod pushed without a node (as `from_objects` keeps pending pods).
    Pending(Spec),
    Remove(usize),
    Terminate(usize),
    /// Read (and so cache) one selector's counts mid-way.
    Count(usize, usize, bool),
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..NAMESPACES.len(),
        0usize..3,
        0usize..2,
        0i64..4,
        0i64..2,
        prop::option::weighted(0.3, 8080i64..8082),
        0u8..4,
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(ns, app, tier, cpu, gpu, port, affinity, terminating)| Spec {
                ns,
                app,
                tier,
                cpu,
                gpu,
                port,
                affinity,
                terminating,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (spec(), 0..NODES).prop_map(|(s, n)| Op::Bind(s, n)),
        1 => spec().prop_map(Op::Pending),
        3 => (0usize..64).prop_map(Op::Remove),
        2 => (0usize..64).prop_map(Op::Terminate),
        1 => (0..NAMESPACES.len(), 0usize..64, any::<bool>())
            .prop_map(|(ns, s, all)| Op::Count(ns, s, all)),
    ]
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn selectors() -> Vec<LabelSelector> {
    let by = |pairs: &[(&str, &str)]| LabelSelector {
        match_labels: labels(pairs),
        match_expressions: vec![],
    };
    vec![
        by(&[("app", "app-0")]),
        by(&[("app", "app-1")]),
        by(&[("app", "app-2"), ("tier", "t1")]),
        by(&[("tier", "t0")]),
        LabelSelector::default(),
        LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![Requirement {
                key: "app".into(),
                operator: "NotIn".into(),
                values: vec!["app-0".into()],
            }],
        },
    ]
}

fn empty_cluster() -> Cluster {
    let mut c = Cluster::default();
    for i in 0..NODES {
        let mut n = NodeInfo::new(
            &format!("n{i}"),
            Resources {
                milli_cpu: 8_000,
                memory: 32 << 30,
                scalars: BTreeMap::from([("nvidia.com/gpu".to_string(), 2)]),
                ..Default::default()
            },
        );
        n.labels
            .insert("kubernetes.io/hostname".into(), n.name.to_string());
        // The last node has no zone: spreading must leave it out the same way in both.
        if i + 1 < NODES {
            n.labels
                .insert("topology.kubernetes.io/zone".into(), format!("z{}", i % 2));
        }
        c.nodes.push(n);
    }
    c
}

fn make_pod(i: usize, s: &Spec) -> PodInfo {
    let ns = NAMESPACES[s.ns];
    let mut p = PodInfo::new(
        ns,
        &format!("p{i}"),
        Resources {
            milli_cpu: s.cpu * 250,
            memory: 256 << 20,
            scalars: if s.gpu > 0 {
                BTreeMap::from([("nvidia.com/gpu".to_string(), s.gpu)])
            } else {
                BTreeMap::new()
            },
            ..Default::default()
        },
    );
    p.labels = labels(&[
        ("app", &format!("app-{}", s.app)),
        ("tier", &format!("t{}", s.tier)),
    ]);
    if let Some(port) = s.port {
        p.host_ports.push(HostPort {
            ip: "0.0.0.0".into(),
            protocol: "TCP".into(),
            port,
        });
    }
    let term = |namespaces: Vec<String>, namespace_selector, key: &str| AffinityTerm {
        selector: Some(LabelSelector {
            match_labels: labels(&[("app", &format!("app-{}", s.app))]),
            match_expressions: vec![],
        }),
        namespaces,
        namespace_selector,
        topology_key: key.into(),
    };
    match s.affinity {
        1 => p
            .affinity
            .required_anti
            .push(term(vec![], None, "kubernetes.io/hostname")),
        2 => p.affinity.preferred.push((
            10,
            term(
                NAMESPACES.iter().map(|n| n.to_string()).collect(),
                None,
                "topology.kubernetes.io/zone",
            ),
        )),
        3 => p.affinity.required_anti.push(term(
            vec![],
            Some(LabelSelector::default()),
            "topology.kubernetes.io/zone",
        )),
        _ => {}
    }
    p.terminating = s.terminating;
    p
}

/// A node's totals, its ports (sorted) and its pods by name (sorted).
type NodeView = (Resources, Resources, usize, Vec<HostPort>, Vec<String>);

/// Everything the caches hold, by pod name (indexes differ between the two clusters).
#[derive(Debug, PartialEq)]
struct View {
    nodes: Vec<NodeView>,
    namespace_pods: BTreeMap<String, Vec<(String, usize)>>,
    affinity_pods: BTreeMap<String, Vec<(String, usize)>>,
    counts: Vec<(Vec<i64>, Vec<i64>)>,
}

fn view(c: &Cluster) -> View {
    let name = |i: usize| {
        let p = &c.pods[i];
        assert!(!p.removed, "a removed pod is still listed");
        p.name.clone()
    };
    let lists = |m: &std::collections::HashMap<String, Vec<(usize, usize)>>| {
        m.iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| {
                let mut v: Vec<(String, usize)> = v.iter().map(|&(p, n)| (name(p), n)).collect();
                v.sort();
                (k.clone(), v)
            })
            .collect()
    };
    View {
        nodes: c
            .nodes
            .iter()
            .map(|n| {
                let mut ports = n.used_ports.clone();
                ports.sort();
                let mut pods: Vec<String> = n.pods.iter().map(|&p| name(p)).collect();
                pods.sort();
                (
                    n.requested.clone(),
                    n.non_zero_requested.clone(),
                    n.pod_count,
                    ports,
                    pods,
                )
            })
            .collect(),
        namespace_pods: lists(&c.namespace_pods),
        affinity_pods: lists(&c.affinity_pods),
        counts: NAMESPACES
            .iter()
            .flat_map(|ns| {
                selectors().into_iter().map(move |s| {
                    (
                        c.matching_per_node(ns, &s).borrow().clone(),
                        c.matching_per_node_all(ns, &s).borrow().clone(),
                    )
                })
            })
            .collect(),
    }
}

/// An incoming pod that every cached aggregate bears on.
fn probe() -> PodInfo {
    let mut p = make_pod(
        usize::MAX,
        &Spec {
            ns: 0,
            app: 0,
            tier: 1,
            cpu: 1,
            gpu: 1,
            port: Some(8080),
            affinity: 1,
            terminating: false,
        },
    );
    let sel = selectors();
    for (hard, key, s) in [
        (true, "topology.kubernetes.io/zone", &sel[0]),
        (false, "kubernetes.io/hostname", &sel[3]),
    ] {
        p.spread.push(SpreadConstraint {
            max_skew: 1,
            topology_key: key.into(),
            hard,
            selector: s.clone(),
            min_domains: 1,
            honor_node_affinity: true,
            honor_node_taints: false,
        });
    }
    p.affinity.preferred.push((
        5,
        AffinityTerm {
            selector: Some(sel[1].clone()),
            namespaces: vec![],
            namespace_selector: Some(LabelSelector::default()),
            topology_key: "topology.kubernetes.io/zone".into(),
        },
    ));
    p
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Deterministic: the same cases on every run and machine.
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0062_6572_7468),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever sequence of binds, removals and terminations, the incremental caches equal
    /// those of a cluster built afresh from the surviving pods, and so do the decisions.
    #[test]
    fn random_churn_leaves_the_caches_equal_to_a_fresh_build(
        ops in proptest::collection::vec(op(), 0..60),
        warm in any::<bool>(),
    ) {
        let sel = selectors();
        let mut c = empty_cluster();
        if warm {
            // Counts cached before any pod, so every change goes through the increments.
            view(&c);
            schedule(&c, &probe(), &Profile::default(), &mut State::new(1));
        }
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Bind(s, n) => c.bind(make_pod(i, s), *n),
                Op::Pending(s) => c.pods.push(make_pod(i, s)),
                Op::Remove(k) if !c.pods.is_empty() => c.remove_pod(k % c.pods.len()),
                Op::Terminate(k) if !c.pods.is_empty() => c.set_terminating(k % c.pods.len()),
                Op::Count(ns, s, all) => {
                    let s = &sel[s % sel.len()];
                    if *all {
                        c.matching_per_node_all(NAMESPACES[*ns], s);
                    } else {
                        c.matching_per_node(NAMESPACES[*ns], s);
                    }
                }
                Op::Remove(_) | Op::Terminate(_) => {}
            }
        }
        for p in &c.pods {
            prop_assert!(!p.removed || p.node_name.is_none());
        }

        let mut fresh = empty_cluster();
        for p in c.pods.iter().filter(|p| !p.removed) {
            match p.node_name.as_deref() {
                Some(n) => fresh.bind(p.clone(), fresh.node_index(n).expect("node")),
                None => fresh.pods.push(p.clone()),
            }
        }
        prop_assert_eq!(view(&c), view(&fresh));
        let probe = probe();
        prop_assert_eq!(
            schedule(&c, &probe, &Profile::default(), &mut State::new(3)),
            schedule(&fresh, &probe, &Profile::default(), &mut State::new(3))
        );
    }
}
