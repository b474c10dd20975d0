"""render.yaml (docs/OPERATIONS.md "Render.com"): web from the Dockerfile with a pre-deploy migrate and a health
check, one scheduler worker, a PostgreSQL database, environment groups, no secret values."""

from __future__ import annotations

import yaml

from tests.deploy.test_entrypoint import ROOT


def test_render_blueprint_shape():
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    services = {s["name"]: s for s in blueprint["services"]}
    web, worker = services["aremko-web"], services["aremko-scheduler"]
    assert web["type"] == "web" and web["runtime"] == "docker" and web["dockerfilePath"] == "./Dockerfile"
    assert web["preDeployCommand"] == "/app/docker-entrypoint.sh migrate" and web["healthCheckPath"] == "/readyz"
    assert web["dockerCommand"].endswith(" web") and worker["dockerCommand"].endswith(" scheduler")
    assert worker["type"] == "worker" and worker["numInstances"] == 1
    assert "migrate" not in worker["dockerCommand"]
    (database,) = blueprint["databases"]
    groups = {g["name"]: g["envVars"] for g in blueprint["envVarGroups"]}
    for service in (web, worker):
        env = {e.get("key") or e.get("fromGroup"): e for e in service["envVars"]}
        assert env["DATABASE_URL"]["fromDatabase"] == {"name": database["name"], "property": "connectionString"}
        assert set(groups) <= set(env)
    secrets = {e["key"]: e for e in groups["aremko-secrets"]}
    assert secrets["SECRET_KEY"] == {"key": "SECRET_KEY", "generateValue": True}
    assert all("value" not in e for e in secrets.values())  # generated or asked for, never written here
