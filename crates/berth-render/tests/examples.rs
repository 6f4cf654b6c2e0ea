//! Golden output of every example in `examples/`: a change to rendered manifests shows up
//! as a snapshot diff to review.

use std::path::Path;

use berth_model::load_applications;

fn render_example(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("example exists");
    let (apps, diags) = load_applications(file, &text);
    assert!(diags.is_empty(), "{file}: {diags:#?}");
    assert_eq!(apps.len(), 1, "{file}");
    let objects = berth_render::render(&apps[0], None).expect("renders");
    berth_render::to_yaml(&objects).expect("serializes")
}

#[test]
fn core_jvm_api_renders_guaranteed_slow_start_and_connection_drain() {
    insta::assert_snapshot!(render_example("order-api.yaml"));
}

#[test]
fn standard_frontend_renders_overcommitted_with_spot_preference() {
    insta::assert_snapshot!(render_example("web-frontend.yaml"));
}

#[test]
fn batch_worker_renders_without_ingress_and_with_absolute_cpu_target() {
    insta::assert_snapshot!(render_example("report-worker.yaml"));
}

#[test]
fn rendering_is_deterministic() {
    for f in ["order-api.yaml", "web-frontend.yaml", "report-worker.yaml"] {
        assert_eq!(render_example(f), render_example(f), "{f}");
    }
}

#[test]
fn printed_yaml_reads_back_to_exactly_the_rendered_objects() {
    for f in ["order-api.yaml", "web-frontend.yaml", "report-worker.yaml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(f);
        let text = std::fs::read_to_string(&path).expect("example exists");
        let (apps, _) = load_applications(f, &text);
        let objects = berth_render::render(&apps[0], None).expect("renders");
        let yaml = berth_render::to_yaml(&objects).expect("serializes");
        let (read, errors) = berth_manifest::load_objects("rendered.yaml", &yaml);
        assert!(errors.is_empty(), "{f}: {errors:?}");
        let want: Vec<_> = objects.iter().map(|o| o.to_json().expect("json")).collect();
        let got: Vec<_> = read.iter().map(|o| o.node.to_json()).collect();
        assert_eq!(got, want, "{f}");
    }
}

#[test]
fn a_custom_metric_target_renders_a_pods_metric_and_keeps_the_tier_budget() {
    let text = "apiVersion: berth.dev/v1alpha1\nkind: Application\nmetadata: {name: rec}\nspec:\n  image: r.example.com/rec:1.0.0\n  tier: standard\n  productLine: ads\n  owner: t\n  ports: [{name: http, port: 8080}]\n  resources: {cpu: \"1\", memory: 1Gi}\n  scaling: {minReplicas: 3, metric: {name: http_requests_per_second, targetAverage: \"150\"}}\n";
    let (apps, diags) = load_applications("rec.yaml", text);
    assert!(diags.is_empty(), "{diags:#?}");
    let objects = berth_render::render(&apps[0], None).expect("renders");
    let json: Vec<_> = objects.iter().map(|o| o.to_json().expect("json")).collect();
    let hpa = json
        .iter()
        .find(|o| o["kind"] == "HorizontalPodAutoscaler")
        .expect("an HPA");
    assert_eq!(hpa["spec"]["metrics"][0]["type"], "Pods");
    assert_eq!(
        hpa["spec"]["metrics"][0]["pods"]["metric"]["name"],
        "http_requests_per_second"
    );
    assert_eq!(
        hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"],
        "150"
    );
    // Standard tier target 80 → keep 85%; at 3 replicas ceil(2.55)=3 leaves no disruption,
    // so the budget is written as maxUnavailable 15% (ceil(0.45)=1).
    let pdb = json
        .iter()
        .find(|o| o["kind"] == "PodDisruptionBudget")
        .expect("a PDB");
    assert_eq!(pdb["spec"]["maxUnavailable"], "15%");
}
