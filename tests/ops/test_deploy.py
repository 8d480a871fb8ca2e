"""Containers, Kubernetes, Prometheus and Grafana files, checked statically (no Docker daemon or cluster here):
compose against the compose-spec JSON schema, manifests against the Kubernetes OpenAPI schemas
(kubernetes-validate), rules with `promtool check rules` when installed, and every metric named in the
rules and the dashboard must exist in the gateway's real /metrics output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
RULES = ROOT / "deploy" / "prometheus" / "lapor-gateway.rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "lapor-gateway.json"
K8S_VERSION = "1.30.0"


def test_compose_file_is_valid_compose_spec():
    out = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                          str(ROOT / "docker-compose.yml")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_compose_services_tell_the_truth():
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    svc = doc["services"]
    assert "--appendonly" in svc["redis"]["command"] and "yes" in svc["redis"]["command"]
    assert svc["worker"]["healthcheck"]["test"] == ["CMD", "lapor-gateway", "status", "--worker"]
    assert "8708/healthz" in " ".join(svc["gateway"]["healthcheck"]["test"])
    assert "9708" not in str(svc["gateway"]["ports"])  # metrics stay inside the compose network
    for name in ("gateway", "worker"):
        s = svc[name]
        assert s["env_file"][0]["path"] == ".env" and s["environment"]["LAPOR_REDIS_URL"].startswith("redis://redis")


def test_dockerfile_is_multi_stage_locked_and_pinned():
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.M)
    assert [stage for _img, stage in froms] == ["build", "runtime"]
    arg = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert arg and re.fullmatch(r"python:3\.11[\w.-]*@sha256:[0-9a-f]{64}", arg.group(1))
    assert all(img == "${PYTHON_IMAGE}" for img, _s in froms)
    assert "--require-hashes" in text and "COPY requirements.lock" in text
    assert re.search(r"^USER 10001$", text, re.M)
    # every COPY source of the build context exists and is not excluded by .dockerignore
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for src in re.findall(r"^COPY (?!--from)(.+?) \S+$", text, re.M):
        for part in src.split():
            assert (ROOT / part).exists(), part
            assert part not in ignored, part


def test_lock_file_satisfies_the_project_and_has_hashes():
    locked: dict[str, str] = {}
    text = (ROOT / "requirements.lock").read_text()
    for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.M):
        locked[m.group(1).lower().replace("_", "-")] = m.group(2)
    assert text.count("--hash=sha256:") >= len(locked) and "file://" not in text
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        req = Requirement(dep)
        name = req.name.lower().replace("_", "-")
        assert name in locked, f"{name} missing from requirements.lock (make lock)"
        assert req.specifier.contains(locked[name], prereleases=True), f"{name}=={locked[name]} vs {req.specifier}"


def manifests() -> list[tuple[str, dict]]:
    out = []
    for f in sorted(K8S.glob("*.yaml")):
        if f.name in ("redis-values.yaml", "kustomization.yaml"):
            continue
        out += [(f.name, d) for d in yaml.safe_load_all(f.read_text()) if d]
    return out


@pytest.mark.parametrize(("name", "doc"), manifests(), ids=lambda v: v if isinstance(v, str) else v.get("kind"))
def test_kubernetes_manifests_validate_against_the_api_schemas(name, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_shape():
    docs = {(d["kind"], d["metadata"]["name"]): d for _n, d in manifests()}
    gw = docs[("Deployment", "lapor-gateway")]["spec"]["template"]["spec"]["containers"][0]
    assert gw["readinessProbe"]["httpGet"]["path"] == "/readyz" and gw["livenessProbe"]["httpGet"]["path"] == "/healthz"
    wk = docs[("Deployment", "lapor-worker")]["spec"]["template"]["spec"]["containers"][0]
    assert wk["livenessProbe"]["exec"]["command"] == ["lapor-gateway", "status", "--worker"]
    assert ("PodDisruptionBudget", "lapor-gateway") in docs and ("PodDisruptionBudget", "lapor-worker") in docs
    secret = docs[("Secret", "lapor-gateway-secrets")]
    assert set(secret["stringData"]) <= {"LAPOR_" + n.upper() for n in _settings_fields()}
    config = docs[("ConfigMap", "lapor-gateway-config")]
    assert set(config["data"]) <= {"LAPOR_" + n.upper() for n in _settings_fields()}
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert all((K8S / r).exists() for r in kust["resources"])
    values = yaml.safe_load((K8S / "redis-values.yaml").read_text())
    assert "appendonly yes" in values["master"]["configuration"]


def _settings_fields() -> list[str]:
    from config.settings import Settings

    return list(Settings.model_fields)


def test_prometheus_rules_check():
    doc = yaml.safe_load(RULES.read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert rules and all({"alert", "expr", "labels", "annotations"} <= set(r) for r in rules)
    assert all(r["labels"]["severity"] in ("critical", "warning") for r in rules)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (apt-get install prometheus); structure checked above")
    out = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def _metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:lapor|process)_[a-z_]+)\b", expr))


async def test_every_metric_in_rules_and_dashboard_exists(gateway):
    await gateway.start_worker()
    status, body, _h = await gateway.get("/metrics")
    assert status == 200
    exposed = set(re.findall(r"^([a-z_]+)(?:\{| )", body.decode(), re.M))
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", body.decode(), re.M):  # families with no sample yet
        exposed |= {name, name + "_total"} if kind == "counter" else \
            {name + s for s in ("_bucket", "_count", "_sum")} if kind == "histogram" else {name}
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += [r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    used = set().union(*(_metric_names(e) for e in exprs))
    assert used and used <= exposed, used - exposed
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)) and dash["uid"] == "lapor-gateway"


def test_the_validator_catches_a_broken_manifest():
    import copy

    doc = copy.deepcopy(next(d for _n, d in manifests() if d["metadata"]["name"] == "lapor-worker"))
    doc["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["exec"]["commnd"] = ["x"]  # typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
