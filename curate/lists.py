"""Word and domain lists named by filter settings, read through the storage layer (local
folders and object storage alike) by the stage that computes signals; the filters
themselves never open a file.

- ``X_file``: one list file (an entry a line, ``#`` comments) merged into the list ``X``;
- ``X_files``: ``{language: list file}`` merged into the per-language lists ``X``;
- ``url_filter.ut1_dir``: a copy of the UT1 blacklists (``<category>/domains``), whose
  ``ut1_categories`` are merged into ``blocked_domains``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from curate.config import FILTERS, Config, ConfigError, StorageConfig
from curate.storage import Storage, join
from filters.url import parse_list


def ut1_file(root: str, category: str) -> str:
    return join(root, category, "domains")


def ut1_categories(st: Storage, root: str) -> list[str]:
    """The categories present under a UT1 copy: folders holding a ``domains`` file."""
    base = root.rstrip("/") + "/"
    found = {e.uri[len(base) :].split("/")[0] for e in st.list(root, recursive=True)
             if e.uri.endswith("/domains")}  # fmt: skip
    return sorted(found)


def list_files(cfg: Config) -> list[tuple[str, str]]:
    """Every list file the settings name, as (setting, path)."""
    out = []
    for name in FILTERS:
        for key, value in getattr(cfg.quality, name).model_dump().items():
            if key.endswith("_file") and value:
                out.append((f"quality.{name}.{key}", value))
            elif key.endswith("_files"):
                out += [(f"quality.{name}.{key}.{lang}", p) for lang, p in value.items()]
    url = cfg.quality.url_filter
    if url.ut1_dir:
        out += [(f"quality.url_filter.ut1_categories ({c})", ut1_file(url.ut1_dir, c))
                for c in url.ut1_categories]  # fmt: skip
    return out


def check_lists(cfg: Config, st: Storage) -> None:
    """Every named list exists: checked before Spark starts (a failed task otherwise)."""
    for setting, path in list_files(cfg):
        if st.is_file(path):
            continue
        hint = ""
        if "ut1_categories" in setting:
            present = ut1_categories(st, cfg.quality.url_filter.ut1_dir or "")
            hint = f"; {cfg.quality.url_filter.ut1_dir} has: {', '.join(present) or 'none'}"
        raise ConfigError(f"{setting}: no list file {path}{hint}")


def filter_fields(cfg: Config, st: Storage, name: str) -> dict[str, Any]:
    """A filter's settings with the lists its files name merged in."""
    fields = getattr(cfg.quality, name).model_dump()
    for key, value in list(fields.items()):
        if key.endswith("_file") and value:
            listed = key.removesuffix("_file")
            fields[listed] = (*fields[listed], *parse_list(st.read_text(value)))
        elif key.endswith("_files"):
            listed = key.removesuffix("_files")
            merged = {lang: tuple(words) for lang, words in fields[listed].items()}
            for lang, path in value.items():
                merged[lang] = (*merged.get(lang, ()), *parse_list(st.read_text(path)))
            fields[listed] = merged
    if name == "url_filter" and fields["ut1_dir"]:
        for category in fields["ut1_categories"]:
            uri = ut1_file(fields["ut1_dir"], category)
            domains = _ut1_domains(st.cfg.model_dump_json(), uri)
            fields["blocked_domains"] = (*fields["blocked_domains"], *domains)
    return fields


@lru_cache(maxsize=8)
def _ut1_domains(storage_json: str, uri: str) -> tuple[str, ...]:
    """A UT1 category's domains, read once per process (the adult list has millions)."""
    return parse_list(Storage(StorageConfig.model_validate_json(storage_json)).read_text(uri))
