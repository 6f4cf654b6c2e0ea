//! Whole cycles over small clusters, each mirroring a documented upstream behaviour.

use berth_scheduler::{Cluster, Decision, PodInfo, Profile, State, schedule};

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

fn run(docs: &[String], incoming: &str) -> Decision {
    let (objs, errs) = berth_manifest::load_objects("c.yaml", &docs.join("---\n"));
    assert!(errs.is_empty(), "{errs:?}");
    let cluster = Cluster::from_objects(&objs);
    let (p, errs) = berth_manifest::load_objects("p.yaml", incoming);
    assert!(errs.is_empty(), "{errs:?}");
    let pod = PodInfo::from_object(&p[0]);
    schedule(&cluster, &pod, &Profile::default(), &mut State::new(7))
}

fn reasons<'a>(d: &'a Decision, node: &str) -> &'a [String] {
    &d.nodes
        .iter()
        .find(|n| *n.name == *node)
        .expect("node")
        .reasons
}

fn normalized(d: &Decision, node: &str, plugin: &str) -> i64 {
    d.nodes
        .iter()
        .find(|n| *n.name == *node)
        .expect("node")
        .score(plugin)
        .expect("scored")
        .normalized
}

#[test]
fn hard_spread_filters_the_fuller_zone() {
    // podtopologyspread/filtering.go: skew = count(domain) + self - globalMin > maxSkew fails.
    let docs = vec![
        node("a1", "a"),
        node("b1", "b"),
        pod("w1", "a1", "{app: web}", ""),
        pod("w2", "a1", "{app: web}", ""),
    ];
    let incoming = pod(
        "w3",
        "''",
        "{app: web}",
        "  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}\n",
    );
    let d = run(&docs, &incoming);
    // zone a: 2 + 1 - 0 = 3 > 1; zone b: 0 + 1 - 0 = 1.
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't match pod topology spread constraints"]
    );
    assert_eq!(d.selected.as_deref(), Some("b1"));
}

#[test]
fn a_node_without_the_topology_label_is_unresolvable() {
    let mut n = node("x1", "a");
    n = n.replace(", topology.kubernetes.io/zone: a", "");
    let incoming = pod(
        "w",
        "''",
        "{app: web}",
        "  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}\n",
    );
    let d = run(&[n, node("a1", "a")], &incoming);
    assert_eq!(
        reasons(&d, "x1"),
        ["node(s) didn't match pod topology spread constraints (missing required label)"]
    );
}

#[test]
fn soft_spread_scores_emptier_zones_higher() {
    // scoring.go: one soft zone constraint, maxSkew 1, zone a holds 3 matching pods and b 1;
    // weight ln(2+2); raw a = round(3*1.386) = 4, b = round(1.386) = 1;
    // normalized a = 100*(4+1-4)/4 = 25, b = 100*(4+1-1)/4 = 100.
    let docs = vec![
        node("a1", "a"),
        node("b1", "b"),
        pod("w1", "a1", "{app: web}", ""),
        pod("w2", "a1", "{app: web}", ""),
        pod("w3", "a1", "{app: web}", ""),
        pod("w4", "b1", "{app: web}", ""),
    ];
    let incoming = pod(
        "w5",
        "''",
        "{app: web}",
        "  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}\n",
    );
    let d = run(&docs, &incoming);
    assert_eq!(normalized(&d, "a1", "PodTopologySpread"), 25);
    assert_eq!(normalized(&d, "b1", "PodTopologySpread"), 100);
}

#[test]
fn required_anti_affinity_keeps_replicas_off_a_shared_host() {
    // interpodaffinity/filtering.go: the incoming pod's required anti-affinity.
    let docs = vec![
        node("a1", "a"),
        node("a2", "a"),
        pod("w1", "a1", "{app: web}", ""),
    ];
    let incoming = pod(
        "w2",
        "''",
        "{app: web}",
        "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}\n",
    );
    let d = run(&docs, &incoming);
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't match pod anti-affinity rules"]
    );
    assert_eq!(d.selected.as_deref(), Some("a2"));
}

#[test]
fn an_existing_pods_anti_affinity_also_repels_the_newcomer() {
    // interpodaffinity/filtering.go: existing pods' required anti-affinity is checked too.
    let docs = vec![
        node("a1", "a"),
        node("b1", "b"),
        pod(
            "db",
            "a1",
            "{app: db}",
            "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}\n",
        ),
    ];
    let d = run(&docs, &pod("w", "''", "{app: web}", ""));
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't satisfy existing pods anti-affinity rules"]
    );
}

#[test]
fn the_first_pod_of_a_self_affine_group_may_go_anywhere() {
    // interpodaffinity/filtering.go: no pod matches the affinity yet and the pod matches its
    // own terms, so the affinity does not block it.
    let incoming = pod(
        "w",
        "''",
        "{app: web}",
        "  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}\n",
    );
    let d = run(&[node("a1", "a")], &incoming);
    assert_eq!(d.selected.as_deref(), Some("a1"));
    let other = incoming.replace("labels: {app: web}", "labels: {app: api}");
    let d = run(&[node("a1", "a")], &other);
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't match pod affinity rules"]
    );
}

#[test]
fn anti_affinity_from_other_namespaces_is_honoured() {
    // An existing pod's term can name namespaces (or select them by label); the incoming
    // pod of such a namespace must still see it.
    let named = pod(
        "guard",
        "a1",
        "{app: guard}",
        "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: kubernetes.io/hostname, namespaces: [shop], labelSelector: {matchLabels: {app: web}}}\n",
    )
    .replace("namespace: shop", "namespace: infra");
    let d = run(
        &[node("a1", "a"), node("a2", "a"), named],
        &pod("w", "''", "{app: web}", ""),
    );
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't satisfy existing pods anti-affinity rules"]
    );
    let by_label = pod(
        "guard",
        "a1",
        "{app: guard}",
        "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: kubernetes.io/hostname, namespaceSelector: {}, labelSelector: {matchLabels: {app: web}}}\n",
    )
    .replace("namespace: shop", "namespace: infra");
    let d = run(
        &[node("a1", "a"), node("a2", "a"), by_label],
        &pod("w", "''", "{app: web}", ""),
    );
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't satisfy existing pods anti-affinity rules"]
    );
}

#[test]
fn the_self_affinity_exception_still_needs_the_topology_key() {
    // interpodaffinity/filtering.go satisfyPodAffinity: a node without the term's key fails
    // before the first-pod exception is considered.
    let bare = node("x1", "a").replace(", topology.kubernetes.io/zone: a", "");
    let incoming = pod(
        "w",
        "''",
        "{app: web}",
        "  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}\n",
    );
    let d = run(&[bare, node("a1", "a")], &incoming);
    assert_eq!(
        reasons(&d, "x1"),
        ["node(s) didn't match pod affinity rules"]
    );
    assert_eq!(d.selected.as_deref(), Some("a1"));
}

#[test]
fn terminating_pods_still_repel_by_anti_affinity() {
    // Upstream counts every pod on the node, terminating ones included.
    let dying = pod("old", "a1", "{app: web}", "").replace(
        "  namespace: shop\n",
        "  namespace: shop\n  deletionTimestamp: '2026-11-24T00:00:00Z'\n",
    );
    let incoming = pod(
        "w",
        "''",
        "{app: web}",
        "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}\n",
    );
    let d = run(&[node("a1", "a"), node("a2", "a"), dying], &incoming);
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't match pod anti-affinity rules"]
    );
}

#[test]
fn pods_of_a_replicaset_spread_by_default_over_hosts() {
    // helper/spread.go DefaultSelector: the pod's controller's selector; with no constraints
    // of its own the pod gets the system defaults (hostname maxSkew 3, zone maxSkew 5).
    let owned = |name: &str, node_name: &str| {
        pod(name, node_name, "{app: web}", "").replace(
            "  namespace: shop\n",
            "  namespace: shop\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9, uid: u1, controller: true}]\n",
        )
    };
    let rs = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-7d9, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n".to_string();
    let docs = vec![
        node("a1", "a"),
        node("a2", "a"),
        rs,
        owned("w1", "a1"),
        owned("w2", "a1"),
    ];
    let d = run(&docs, &owned("w3", "''"));
    assert!(!d.skipped.contains(&"PodTopologySpread"), "{:?}", d.skipped);
    assert!(
        normalized(&d, "a2", "PodTopologySpread") > normalized(&d, "a1", "PodTopologySpread"),
        "the host without replicas scores higher"
    );
    assert_eq!(d.selected.as_deref(), Some("a2"));
}

#[test]
fn a_daemonset_pod_pinned_by_name_reports_the_prefilter_reason_elsewhere() {
    // The DaemonSet controller pins each pod with matchFields metadata.name; NodeAffinity's
    // PreFilter narrows the search, and kube-scheduler reports the other nodes as
    // "node(s) didn't satisfy plugin(s) [NodeAffinity]".
    let incoming = pod(
        "ds",
        "''",
        "{app: agent}",
        "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchFields: [{key: metadata.name, operator: In, values: [a2]}]\n",
    );
    let d = run(&[node("a1", "a"), node("a2", "a")], &incoming);
    assert_eq!(
        reasons(&d, "a1"),
        ["node(s) didn't satisfy plugin(s) [NodeAffinity]"]
    );
    assert_eq!(d.selected.as_deref(), Some("a2"));
}
