"""The mixture manifest: what a training loader needs, versioned and validated by
curate/mixture/manifest.schema.json, written last and atomically."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from curate import __version__
from curate.config import MixtureConfig
from curate.mixture import rehydration
from curate.mixture.weights import Weighting, plan
from curate.storage import Storage, join, parent, use

SCHEMA_VERSION = 3  # 2: tokenizer.kind; 3: row_groups[].clusters, mixture.rehydration
SCHEMA_PATH = Path(__file__).resolve().parent / "manifest.schema.json"


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def manifest_id(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest without its id: what a loader's state is tied to."""
    body = {k: v for k, v in manifest.items() if k != "id"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def weighting(cfg: MixtureConfig) -> Weighting:
    return Weighting(
        cfg.method, cfg.budget_tokens, cfg.max_epochs, cfg.on_exceed, cfg.alpha, cfg.weights,
        rehydration.resolve(cfg.rehydration),
    )  # fmt: skip


def epoch_tokens(info: dict[str, Any], weights: dict[int, int] | None) -> int:
    """Tokens of one pass over a domain: each document times its rehydration copies."""
    groups = [g for shard in info["shards"] for g in shard["row_groups"]]
    return sum(rehydration.epoch_size(weights, g["clusters"])[1] for g in groups)


def rehydration_table(mixture: dict[str, Any]) -> dict[int, int] | None:
    """A manifest's rehydration weights ([[size, copies], ...] in JSON) as a dict."""
    pairs = mixture.get("rehydration")
    return {int(k): int(v) for k, v in pairs} if pairs else None


def mixture_section(domains: dict[str, dict[str, Any]], w: Weighting) -> dict[str, Any]:
    """Weights over each domain's epoch tokens: its tokens, or with rehydration each
    document times its copies (so max_epochs caps passes over the rehydrated domain)."""
    sizes = {d: epoch_tokens(info, w.rehydration) for d, info in domains.items()}
    p = plan(sizes, w)
    warnings = [f"{d}: capped at {w.max_epochs} epochs" for d in p.capped]
    if w.budget and p.budget < w.budget:
        warnings.append(f"budget {w.budget:,} tokens cut to {p.budget:,} by the epoch caps")
    return {
        "method": w.method,
        "alpha": w.alpha if w.method == "temperature" else None,
        "manual_weights": w.manual if w.method == "manual" else None,
        "max_epochs": w.max_epochs,
        "on_exceed": w.on_exceed,
        "rehydration": [list(kv) for kv in sorted(w.rehydration.items())]
        if w.rehydration
        else None,
        "epoch_tokens": sizes,
        "budget_tokens": p.budget,
        "weights": p.weights,
        "planned_tokens": p.tokens,
        "epochs": p.epochs,
        "capped": p.capped,
        "warnings": warnings,
    }


def build_manifest(
    domains: dict[str, dict[str, Any]],
    tokenizer: dict[str, Any],
    cfg: MixtureConfig,
    producer: dict[str, Any],
) -> dict[str, Any]:
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "parent": None,
        "producer": {
            "name": "curate",
            "version": __version__,
            "git_commit": _git_commit(),
            **producer,
        },
        "tokenizer": tokenizer,
        "domains": domains,
        "mixture": mixture_section(domains, weighting(cfg)),
    }
    manifest["id"] = manifest_id(manifest)
    return manifest


class ManifestError(ValueError):
    """A manifest that is missing, not valid, or not the one its id says."""


def validate(manifest: dict[str, Any], source: str = "manifest") -> None:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if version != SCHEMA_VERSION:
        raise ManifestError(
            f"{source}: schema_version {version!r}, this curate reads {SCHEMA_VERSION}: "
            "rewrite it with `curate run CONFIG --from mixture`"
        )
    try:
        jsonschema.validate(manifest, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise ManifestError(f"{source}: {where}: {exc.message}") from None


def write_manifest(uri: str, manifest: dict[str, Any], st: Storage | None = None) -> None:
    uri = str(uri)
    validate(manifest, uri)
    (st or use(None)).write_json(uri, manifest)


def load_manifest(uri: str | Path, st: Storage | None = None) -> dict[str, Any]:
    uri = str(uri)
    st = st or use(None)
    if not st.is_file(uri):
        raise ManifestError(f"{uri}: no manifest there; give a run's output dir or a manifest file")
    try:
        manifest = st.read_json(uri)
    except ValueError as exc:
        raise ManifestError(f"{uri}: not JSON ({exc})") from None
    validate(manifest, uri)
    if manifest["id"] != manifest_id(manifest):
        raise ManifestError(f"{uri}: id does not match its content (edited by hand?)")
    return manifest


def remix(
    uri: str | Path, w: Weighting, output: str | None = None, st: Storage | None = None
) -> tuple[str, dict[str, Any]]:
    """A new manifest over the same shards with new weights; it records its parent."""
    uri = str(uri)
    first = load_manifest(uri, st)
    child = {k: v for k, v in first.items() if k != "id"}
    child["parent"] = {"path": uri.rsplit("/", 1)[-1], "id": first["id"]}
    child["mixture"] = mixture_section(first["domains"], w)
    child["id"] = manifest_id(child)
    target = str(output) if output else join(parent(uri), f"manifest-{child['id'][:12]}.json")
    write_manifest(target, child, st)
    return target, child
