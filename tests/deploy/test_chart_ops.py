"""The chart's optional operations parts (docs/OPERATIONS.md "Metrics", "Backups"): ServiceMonitor, PrometheusRule
with the five alerts, and the pg_dump CronJob with its volume; all off by default."""

from __future__ import annotations

import pytest

from tests.deploy.test_chart import CI_VALUES, by_kind, helm, helm_template, one  # noqa: F401  (fixture)

ON = (
    "--set",
    "metrics.serviceMonitor.enabled=true",
    "--set",
    "metrics.prometheusRule.enabled=true",
    "--set",
    "backup.enabled=true",
)


@pytest.fixture(scope="module")
def ops_docs(helm):  # noqa: F811
    return helm_template(helm, "-f", str(CI_VALUES), *ON)


def test_off_by_default(helm):  # noqa: F811
    docs = helm_template(helm, "-f", str(CI_VALUES))
    for kind in ("ServiceMonitor", "PrometheusRule", "CronJob"):
        assert not by_kind(docs, kind), kind


def test_service_monitor_scrapes_the_web_service_metrics(ops_docs, helm):  # noqa: F811
    monitor = one(ops_docs, "ServiceMonitor")
    service = one(ops_docs, "Service")
    labels = monitor["spec"]["selector"]["matchLabels"]
    assert labels.items() <= service["metadata"]["labels"].items() and labels["app.kubernetes.io/component"] == "web"
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics" and "authorization" not in endpoint
    with_token = helm_template(
        helm, "-f", str(CI_VALUES), *ON, "--set", "metrics.serviceMonitor.bearerTokenSecret.name=aremko-secrets"
    )
    auth = one(with_token, "ServiceMonitor")["spec"]["endpoints"][0]["authorization"]
    assert auth == {"type": "Bearer", "credentials": {"name": "aremko-secrets", "key": "METRICS_TOKEN"}}


def test_prometheus_rule_alerts(ops_docs):
    rules = {r["alert"]: r for r in one(ops_docs, "PrometheusRule")["spec"]["groups"][0]["rules"]}
    assert set(rules) == {
        "AremkoHigh5xxRate",
        "AremkoOutboxBacklog",
        "AremkoSchedulerHeartbeatMissing",
        "AremkoWebhooksFailing",
        "AremkoMediaDiskFilling",
    }
    assert 'status=~"5.."' in rules["AremkoHigh5xxRate"]["expr"]
    assert "aremko_outbox_backlog" in rules["AremkoOutboxBacklog"]["expr"]
    assert "aremko_scheduler_heartbeat_timestamp_seconds" in rules["AremkoSchedulerHeartbeatMissing"]["expr"]
    assert 'aremko_webhook_deliveries{namespace="default",status="FAILED"}' in rules["AremkoWebhooksFailing"]["expr"]
    assert 'persistentvolumeclaim="aremko-media"' in rules["AremkoMediaDiskFilling"]["expr"]
    for rule in rules.values():
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]


def test_backup_cronjob_dumps_with_the_secret_to_its_volume(ops_docs, helm):  # noqa: F811
    cron = one(ops_docs, "CronJob", "-backup")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid" and cron["spec"]["timeZone"] == "America/Santiago"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    script = container["args"][0]
    assert "pg_dump --format=custom" in script and '"$DATABASE_URL"' in script and "-mtime +14" in script
    assert container["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "aremko-secrets", "key": "DATABASE_URL"}
    assert {v["name"]: v for v in pod["volumes"]}["backup"]["persistentVolumeClaim"]["claimName"] == "aremko-backup"
    assert one(ops_docs, "PersistentVolumeClaim", "-backup")
    existing = helm_template(
        helm,
        "-f",
        str(CI_VALUES),
        *ON,
        "--set",
        "backup.persistence.existingClaim=nas-backups",
        "--set",
        "backup.uploadCommand=rclone copy $DUMP_FILE remote:aremko/",
    )
    assert not [d for d in by_kind(existing, "PersistentVolumeClaim") if d["metadata"]["name"].endswith("-backup")]
    pod = one(existing, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["volumes"][1]["persistentVolumeClaim"]["claimName"] == "nas-backups"
    assert "rclone copy $DUMP_FILE remote:aremko/" in pod["containers"][0]["args"][0]
