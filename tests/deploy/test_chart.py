"""Helm chart `charts/aremko`, rendered offline with the pinned helm binary (scripts/get_helm.py) and checked as
documents (spec deployment.md §5). `scripts/chart-check.sh` adds `helm lint --strict` and kubernetes-validate."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from tests.deploy.test_entrypoint import ROOT

CHART = ROOT / "charts" / "aremko"
CI_VALUES = CHART / "ci" / "values-ci.yaml"
SECRET_KEYS = {
    "SECRET_KEY",
    "DATABASE_URL",
    "FLOW_API_KEY",
    "FLOW_SECRET_KEY",
    "REDVOISS_USERNAME",
    "REDVOISS_PASSWORD",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "AUTOMATION_API_KEY",
    "SMS_INBOUND_TOKEN",
    "DEEPSEEK_API_KEY",
    "ADMIN_PASSWORD",
    "POSTGRES_PASSWORD",
}


@pytest.fixture(scope="module")
def helm():
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "get_helm.py")], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def helm_template(helm, *args, ok=True):
    out = subprocess.run([helm, "template", "aremko", str(CHART), *args], capture_output=True, text=True, timeout=60)
    if not ok:
        return out
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def one(docs, kind, name_suffix=""):
    found = [d for d in by_kind(docs, kind) if d["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, (kind, name_suffix, [d["metadata"]["name"] for d in found])
    return found[0]


@pytest.fixture(scope="module")
def ci_docs(helm):
    return helm_template(helm, "-f", str(CI_VALUES))


@pytest.fixture(scope="module")
def pg_docs(helm):
    return helm_template(
        helm,
        "--set",
        "existingSecret=aremko-secrets",
        "--set",
        "postgresql.enabled=true",
        "--set",
        "web.autoscaling.enabled=false",
        "--set",
        "web.replicaCount=1",
    )


def pod_specs(docs):
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def test_every_part_of_the_spec_is_rendered(ci_docs, pg_docs):
    kinds = sorted(d["kind"] for d in ci_docs)
    assert kinds == sorted(
        [
            "ConfigMap",
            "Deployment",
            "Deployment",
            "Job",
            "Service",
            "Ingress",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "ServiceAccount",
            "PersistentVolumeClaim",
        ]
    )
    assert one(pg_docs, "StatefulSet", "-postgresql") and one(pg_docs, "Service", "-postgresql")


def test_no_secret_is_ever_rendered(ci_docs, pg_docs):
    for docs in (ci_docs, pg_docs):
        assert not by_kind(docs, "Secret")
    text = yaml.safe_dump_all(ci_docs + pg_docs)
    assert "replace-with" not in text and "password=" not in text.lower()


def test_rendering_without_existing_secret_fails(helm):
    out = helm_template(helm, ok=False)
    assert out.returncode != 0
    assert "existingSecret es obligatorio" in out.stderr


def test_every_pod_is_non_root_with_a_read_only_root_filesystem_and_resources(ci_docs, pg_docs):
    specs = list(pod_specs(ci_docs)) + list(pod_specs(pg_docs))
    assert len(specs) == 3 + 4  # web, scheduler, migrate; again with the bundled PostgreSQL
    for name, spec in specs:
        sc = spec["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] == sc["runAsGroup"] == sc["fsGroup"] == 10001, name
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        tmp = {v["name"]: v for v in spec["volumes"]}["tmp"]
        assert tmp == {"name": "tmp", "emptyDir": {}}, name
        for container in spec["containers"]:
            csc = container["securityContext"]
            assert csc["readOnlyRootFilesystem"] is True and csc["allowPrivilegeEscalation"] is False, name
            assert csc["capabilities"] == {"drop": ["ALL"]}, name
            for part in ("requests", "limits"):
                assert set(container["resources"][part]) == {"cpu", "memory"}, name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name


def test_web_deployment_probes_rollout_and_environment(ci_docs):
    web = one(ci_docs, "Deployment", "-web")
    assert "replicas" not in web["spec"]  # the HPA owns the count
    assert web["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["web"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    startup, live, ready = container["startupProbe"], container["livenessProbe"], container["readinessProbe"]
    assert startup["httpGet"]["path"] == "/healthz" and startup["periodSeconds"] == 2
    assert startup["failureThreshold"] == 30
    assert live["httpGet"]["path"] == "/healthz" and live["periodSeconds"] == 20
    assert ready["httpGet"]["path"] == "/readyz" and ready["periodSeconds"] == 10 and ready["failureThreshold"] == 3
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SCHEDULER_ENABLED"] == "false" and env["MEDIA_ROOT"] == "/data/media"
    assert container["envFrom"] == [
        {"configMapRef": {"name": "aremko-config"}},
        {"secretRef": {"name": "aremko-secrets"}},
    ]
    volumes = {v["name"]: v for v in web["spec"]["template"]["spec"]["volumes"]}
    assert volumes["media"]["persistentVolumeClaim"] == {"claimName": "aremko-media"}
    assert re.fullmatch(r"[0-9a-f]{64}", web["spec"]["template"]["metadata"]["annotations"]["checksum/config"])


def test_config_change_rolls_the_pods(helm, ci_docs):
    changed = helm_template(helm, "-f", str(CI_VALUES), "--set", "config.LOG_LEVEL=DEBUG")
    before = one(ci_docs, "Deployment", "-web")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    after = one(changed, "Deployment", "-web")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert before != after
    assert one(changed, "ConfigMap")["data"]["LOG_LEVEL"] == "DEBUG"


def test_configmap_holds_only_set_non_secret_values(ci_docs):
    data = one(ci_docs, "ConfigMap")["data"]
    assert data["SESSION_COOKIE_SECURE"] == "true" and data["PROXY_FIX_X_FOR"] == "1"
    assert data["LOG_FORMAT"] == "json" and data["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert data["TRUSTED_HOSTS"] == "reservas.example.cl,localhost"  # the probes send Host: localhost
    assert not SECRET_KEYS & set(data)
    assert all(v != "" for v in data.values())
    env_example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert set(data) <= env_example  # every key is a variable of deployment.md §2


def test_replicas_are_rendered_without_autoscaling_and_the_pdb_needs_two(helm):
    one_replica = helm_template(
        helm, "--set", "existingSecret=s", "--set", "web.autoscaling.enabled=false", "--set", "web.replicaCount=1"
    )
    assert one(one_replica, "Deployment", "-web")["spec"]["replicas"] == 1
    assert not by_kind(one_replica, "HorizontalPodAutoscaler") and not by_kind(one_replica, "PodDisruptionBudget")
    three = helm_template(
        helm, "--set", "existingSecret=s", "--set", "web.autoscaling.enabled=false", "--set", "web.replicaCount=3"
    )
    assert one(three, "Deployment", "-web")["spec"]["replicas"] == 3
    assert one(three, "PodDisruptionBudget")["spec"]["minAvailable"] == 1


def test_scheduler_is_exactly_one_recreated_pod_without_hpa_pdb_or_service(helm, ci_docs):
    scheduler = one(ci_docs, "Deployment", "-scheduler")
    assert scheduler["spec"]["replicas"] == 1 and scheduler["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = scheduler["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["scheduler"]
    assert {"name": "SCHEDULER_ENABLED", "value": "false"} in container["env"]
    probe = " ".join(container["livenessProbe"]["exec"]["command"])
    assert "/tmp/scheduler-heartbeat" in probe and "< 180" in probe
    assert "readinessProbe" not in container and "ports" not in container
    hpa = one(ci_docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "aremko-web"
    pdb_selector = one(ci_docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]
    assert pdb_selector["app.kubernetes.io/component"] == "web"
    assert all(s["spec"]["selector"]["app.kubernetes.io/component"] == "web" for s in by_kind(ci_docs, "Service"))
    scaled = helm_template(
        helm, "-f", str(CI_VALUES), "--set", "web.autoscaling.enabled=false", "--set", "web.replicaCount=5"
    )
    assert one(scaled, "Deployment", "-scheduler")["spec"]["replicas"] == 1
    refused = helm_template(helm, "-f", str(CI_VALUES), "--set", "scheduler.replicaCount=3", ok=False)
    assert refused.returncode != 0 and "replicaCount" in refused.stderr  # not a value (schema)
    off = helm_template(helm, "-f", str(CI_VALUES), "--set", "scheduler.enabled=false")
    assert not [d for d in by_kind(off, "Deployment") if d["metadata"]["name"].endswith("-scheduler")]


def test_migration_job_is_a_hook_with_secret_and_inline_environment(ci_docs, pg_docs):
    job = one(ci_docs, "Job", "-migrate")
    notes = job["metadata"]["annotations"]
    assert notes["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert notes["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    assert job["spec"]["backoffLimit"] == 1 and job["spec"]["activeDeadlineSeconds"] == 600
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never" and "serviceAccountName" not in spec  # hooks run before the chart's SA
    (container,) = spec["containers"]
    assert container["args"] == ["migrate"]
    assert container["envFrom"] == [{"secretRef": {"name": "aremko-secrets"}}]  # not the ConfigMap
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["APP_ENV"] == "production" and env["PUBLIC_BASE_URL"] == "https://reservas.example.cl"
    bundled = one(pg_docs, "Job", "-migrate")["metadata"]["annotations"]
    assert bundled["helm.sh/hook"] == "post-install,pre-upgrade"  # the bundled database exists only after install


def test_migrations_never_run_on_web_or_scheduler_start(ci_docs):
    for name, spec in pod_specs(ci_docs):
        for container in spec["containers"]:
            if not name.endswith("-migrate"):
                assert container["args"] != ["migrate"] and "command" not in container, name


def test_bundled_postgresql_takes_its_password_from_the_existing_secret(pg_docs):
    sts = one(pg_docs, "StatefulSet", "-postgresql")
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "aremko-secrets", "key": "POSTGRES_PASSWORD"}
    }
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "8Gi"
    assert one(pg_docs, "Deployment", "-web")["spec"]["replicas"] == 1


def test_ingress_allows_imports_of_25_mb_and_tls(ci_docs):
    ingress = one(ci_docs, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "25m"
    # the ingress buffers whole requests and responses (review H2); timeouts above gunicorn's --timeout 60
    prefix = "nginx.ingress.kubernetes.io/"
    assert {k[len(prefix) :]: v for k, v in annotations.items() if k.startswith(prefix)}.items() >= {
        "proxy-request-buffering": "on",
        "proxy-buffering": "on",
        "proxy-http-version": "1.1",
        "proxy-connect-timeout": "5",
        "proxy-send-timeout": "60",
        "proxy-read-timeout": "75",
    }.items()
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"][0]["hosts"] == ["reservas.example.cl"]
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path["backend"]["service"] == {"name": "aremko", "port": {"name": "http"}}


def test_media_uses_an_existing_claim_when_given(helm):
    docs = helm_template(helm, "-f", str(CI_VALUES), "--set", "media.persistence.existingClaim=fotos")
    assert not by_kind(docs, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in one(docs, "Deployment", "-web")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["media"]["persistentVolumeClaim"] == {"claimName": "fotos"}
    default = helm_template(helm, "--set", "existingSecret=s")
    volumes = {v["name"]: v for v in one(default, "Deployment", "-web")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["media"] == {"name": "media", "emptyDir": {}}


def _walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, str(i)))
    else:
        yield path, node


def test_values_yaml_holds_no_secret_values():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    looks_secret = re.compile(r"secret|password|passwd|token|api_?key|credential|private", re.I)
    for path, value in _walk(values):
        if any(looks_secret.search(part) for part in path):
            assert value in ("", None, False, True), path  # existingSecret names a Secret; it is empty here
    assert not SECRET_KEYS & set(values["config"])
    assert values["existingSecret"] == ""


def test_schema_types_the_values(helm):
    for bad in (
        "web.replicaCount=0",
        "web.autoscaling.enabled=maybe",
        "service.port=70000",
        "config.SECRET_KEY=x",
        "config.FLOW_MODE=on",
    ):
        out = helm_template(helm, "--set", "existingSecret=s", "--set", bad, ok=False)
        assert out.returncode != 0 and "schema" in out.stderr, bad


def test_notes_print_the_url_and_the_secret_keys(helm):
    out = subprocess.run(
        [helm, "install", "aremko", str(CHART), "-f", str(CI_VALUES), "--dry-run=client"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    notes = out.stdout.split("NOTES:", 1)[1]
    assert "https://reservas.example.cl/" in notes
    assert "required: SECRET_KEY, DATABASE_URL" in notes and "AUTOMATION_API_KEY" in notes


def test_ingress_annotations_override_the_buffering_defaults_and_the_service_stays_cluster_ip(helm):
    docs = helm_template(
        helm,
        "-f",
        str(CI_VALUES),
        "--set-string",
        "ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-read-timeout=120",
    )
    annotations = one(docs, "Ingress")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "120"
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "on"
    assert one(docs, "Service")["spec"]["type"] == "ClusterIP"
    refused = helm_template(helm, "-f", str(CI_VALUES), "--set", "service.type=LoadBalancer", ok=False)
    assert refused.returncode != 0 and "/service/type" in refused.stderr
