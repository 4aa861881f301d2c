"""Turn the configured input entries into a sorted list of WARC/WET file paths."""

from __future__ import annotations

import gzip
import posixpath
from collections.abc import Iterable

import fsspec

from curate.config import ConfigError, InputConfig

_LISTING_SUFFIXES = (".paths", ".paths.gz", ".txt", ".txt.gz")
_REMOTE_PREFIXES = ("s3://", "gs://", "http://", "https://", "hdfs://", "abfs://")


def is_remote(path: str) -> bool:
    return path.startswith(_REMOTE_PREFIXES)


def _read_listing(path: str, base_url: str | None) -> list[str]:
    with fsspec.open(path, "rb") as fh:
        data = fh.read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    out = []
    for line in data.decode("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if base_url and "://" not in line and not line.startswith("/"):
            line = base_url.rstrip("/") + "/" + line
        out.append(line)
    return out


def _expand(entry: str) -> list[str]:
    if any(ch in entry for ch in "*?["):
        fs, _ = fsspec.core.url_to_fs(entry)
        matches = fs.glob(entry)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if protocol in ("file", "local"):
            return sorted(matches)
        return sorted(f"{protocol}://{m}" for m in matches)
    return [entry]


def resolve_inputs(cfg: InputConfig, source: str = "config") -> list[str]:
    """Expand globs and listings; check local files exist. Raises ConfigError naming the entry."""
    paths: list[str] = []
    for entry in cfg.paths:
        expanded = _expand(entry)
        if not expanded:
            raise ConfigError(f"{source}: key 'input.paths': {entry!r} matches no file")
        for p in expanded:
            if p.endswith(_LISTING_SUFFIXES):
                if not is_remote(p) and not fsspec.filesystem("file").exists(p):
                    raise ConfigError(f"{source}: key 'input.paths': listing {p!r} not found")
                paths.extend(_read_listing(p, cfg.base_url))
            else:
                paths.append(p)
    missing = [p for p in paths if not is_remote(p) and not fsspec.filesystem("file").isfile(p)]
    if missing:
        raise ConfigError(
            f"{source}: key 'input.paths': {len(missing)} input file(s) not found, "
            f"first: {missing[0]!r}"
        )
    paths = sorted(set(paths))
    _check_unique_names(paths, source)
    if cfg.limit is not None:
        paths = paths[: cfg.limit]
    return paths


def _check_unique_names(paths: Iterable[str], source: str) -> None:
    # Document ids hash the file's base name (stable across mounts and URL schemes), so
    # two inputs with the same base name would give colliding ids.
    seen: dict[str, str] = {}
    for p in paths:
        name = posixpath.basename(p)
        if name in seen:
            raise ConfigError(
                f"{source}: key 'input.paths': two inputs share the file name {name!r} "
                f"({seen[name]!r} and {p!r}); document ids would collide"
            )
        seen[name] = p
