"""Turn the configured input entries into a sorted list of WARC/WET file URIs, through the
storage layer (local paths, s3://, gs://, hdfs://, http(s):// listings)."""

from __future__ import annotations

import gzip
import posixpath
from collections.abc import Iterable

from curate.config import ConfigError, InputConfig
from curate.storage import Storage, StorageError, absolute, is_local, use

_LISTING_SUFFIXES = (".paths", ".paths.gz", ".txt", ".txt.gz")


def _read_listing(st: Storage, path: str, base_url: str | None) -> list[str]:
    data = st.read_bytes(path)
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


def _expand(st: Storage, entry: str) -> list[str]:
    entry = absolute(entry) if is_local(entry) else entry
    if any(ch in entry for ch in "*?["):
        return sorted(st.glob(entry))
    return [entry]


def resolve_inputs(
    cfg: InputConfig, source: str = "config", st: Storage | None = None
) -> list[str]:
    """Expand globs and listings; check local files exist (remote ones are read by the
    executors). Raises ConfigError naming the entry."""
    st = st or use(None)
    # Inputs given on the command line are named by their flag, not by a config key.
    source = source if source.startswith("--") else f"{source}: key 'input.paths'"
    paths: list[str] = []
    for entry in cfg.paths:
        try:
            expanded = _expand(st, entry)
        except StorageError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        if not expanded:
            raise ConfigError(f"{source}: {entry!r} matches no file")
        for p in expanded:
            if p.endswith(_LISTING_SUFFIXES):
                try:
                    paths.extend(_read_listing(st, p, cfg.base_url))
                except (OSError, StorageError):
                    raise ConfigError(f"{source}: listing {p!r} not found") from None
            else:
                paths.append(p)
    # Local files are all checked; of remote ones the first, which finds a wrong
    # endpoint, bucket or credentials before Spark starts (a crawl lists 90,000 files).
    missing = [p for p in paths if is_local(p) and not st.is_file(p)]
    remote = [p for p in paths if not is_local(p)]
    if remote:
        try:
            if not st.is_file(remote[0]):
                missing.append(remote[0])
        except StorageError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    if missing:
        raise ConfigError(
            f"{source}: {len(missing)} input file(s) not found, first: {missing[0]!r}"
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
                f"{source}: two inputs share the file name {name!r} "
                f"({seen[name]!r} and {p!r}); document ids would collide"
            )
        seen[name] = p
