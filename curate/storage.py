"""The one storage layer: every file a run reads or writes, addressed by URI.

``/local/path`` and ``file://...`` are local; ``s3://bucket/key`` (any S3-compatible endpoint),
``gs://``, ``hdfs://`` and ``abfs://`` go through pyarrow's native filesystems; ``http(s)://``
inputs are read through fsspec. Spark-free: the driver, the executors and the loader use it
alike. A ``Storage`` holds only its settings, so it pickles into executor closures and opens
its filesystems there.

Object stores have no rename: files that must appear whole are written once, under a name
no reader looks at until a marker written last lists it (see ``curate.runner``). Local
writes of fixed names go through a temporary name and ``os.replace``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import posixpath
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from curate.config import ConfigError, StorageConfig

_WILDCARDS = "*?["


class StorageError(OSError):
    """A read or write that failed, with the URI at fault in the message (one line: the
    filesystem's own text is folded)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass(frozen=True)
class FileEntry:
    uri: str
    size: int


def is_local(uri: str | os.PathLike) -> bool:
    uri = os.fspath(uri)
    return "://" not in uri or uri.startswith("file://")


def join(base: str, *parts: str) -> str:
    """``base`` and ``parts`` joined with ``/`` (URIs and local paths alike)."""
    out = os.fspath(base).rstrip("/")
    for part in parts:
        if part:
            out = f"{out}/{part.strip('/')}"
    return out


def parent(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[0]


def basename(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def absolute(uri: str) -> str:
    """A local path made absolute against the working directory; a URI as it is."""
    uri = os.fspath(uri)
    if uri.startswith("file://"):
        return urlsplit(uri).path
    if "://" in uri:
        return uri.rstrip("/") if uri.count("/") > 3 else uri
    return os.path.abspath(os.path.expanduser(uri))


class _Raw(io.RawIOBase):
    """A pyarrow input stream as a Python raw stream (warcio needs ``readline``)."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self._native.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._native.close()
        super().close()


class Storage:
    """Filesystems for URIs under one set of settings (``storage:`` in the config, else the
    standard AWS_* environment variables)."""

    def __init__(self, cfg: StorageConfig | None = None) -> None:
        self.cfg = cfg or StorageConfig()
        self._filesystems: dict[str, pafs.FileSystem] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"cfg": self.cfg.model_dump_json()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(StorageConfig.model_validate_json(state["cfg"]))

    # -- filesystems ---------------------------------------------------------------------
    def _s3(self) -> pafs.S3FileSystem:
        c = self.cfg
        endpoint = (
            c.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        kwargs: dict[str, Any] = {
            "region": c.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1",
            "connect_timeout": c.connect_timeout_s,
            "request_timeout": c.request_timeout_s,
            "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=c.max_attempts),
            "allow_bucket_creation": False,
            "allow_bucket_deletion": False,
        }
        if endpoint:
            parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
            kwargs["endpoint_override"] = parts.netloc
            kwargs["scheme"] = parts.scheme
        if c.anonymous:
            kwargs["anonymous"] = True
        elif c.access_key_id:
            kwargs["access_key"] = c.access_key_id
            kwargs["secret_key"] = c.secret_access_key or ""
        return pafs.S3FileSystem(**kwargs)

    def filesystem(self, uri: str) -> tuple[pafs.FileSystem, str]:
        """The filesystem holding ``uri`` and the path to give it."""
        uri = os.fspath(uri)
        if is_local(uri):
            fs = self._filesystems.setdefault("file", pafs.LocalFileSystem())
            return fs, absolute(uri)
        scheme, rest = uri.split("://", 1)
        if scheme not in self._filesystems:
            if scheme in ("s3", "s3a"):
                self._filesystems[scheme] = self._s3()
            elif scheme in ("http", "https"):
                import fsspec

                handler = pafs.FSSpecHandler(fsspec.filesystem(scheme))
                self._filesystems[scheme] = pafs.PyFileSystem(handler)
            else:
                try:
                    self._filesystems[scheme] = pafs.FileSystem.from_uri(uri)[0]
                except Exception as exc:
                    raise StorageError(f"{uri}: no filesystem for {scheme}:// ({exc})") from None
        return self._filesystems[scheme], uri if scheme in ("http", "https") else rest

    def _call(self, uri: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StorageError(f"{uri}: {what} failed: {exc}") from None

    # -- files ---------------------------------------------------------------------------
    def info(self, uri: str) -> pafs.FileInfo:
        fs, path = self.filesystem(uri)
        return self._call(uri, "stat", fs.get_file_info, path)

    def is_file(self, uri: str) -> bool:
        return self.info(uri).type == pafs.FileType.File

    def read_bytes(self, uri: str) -> bytes:
        fs, path = self.filesystem(uri)
        if self.info(uri).type != pafs.FileType.File:
            raise FileNotFoundError(f"{uri}: not found")

        def read() -> bytes:
            with fs.open_input_stream(path, compression=None) as f:
                return f.read()

        return self._call(uri, "read", read)

    def read_text(self, uri: str) -> str:
        return self.read_bytes(uri).decode("utf-8")

    def read_json(self, uri: str) -> Any:
        return json.loads(self.read_bytes(uri))

    def read_json_or_none(self, uri: str) -> Any:
        return self.read_json(uri) if self.is_file(uri) else None

    def write_bytes(self, uri: str, data: bytes) -> None:
        with self.open_output(uri) as f:
            f.write(data)

    def write_text(self, uri: str, text: str) -> None:
        self.write_bytes(uri, text.encode("utf-8"))

    def write_json(self, uri: str, data: Any) -> None:
        self.write_text(uri, json.dumps(data, indent=2, default=str) + "\n")

    @contextmanager
    def open_output(self, uri: str) -> Iterator[Any]:
        """A writable stream for ``uri``, there whole or not at all: locally written under
        a temporary name and renamed; on an object store uploaded on close (an object
        appears only once its upload completes)."""
        fs, path = self.filesystem(uri)
        if is_local(uri):
            os.makedirs(posixpath.dirname(path), exist_ok=True)
            tmp = f"{posixpath.dirname(path)}/.{posixpath.basename(path)}.{uuid.uuid4().hex[:8]}"
            try:
                with open(tmp, "wb") as f:
                    yield f
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.remove(tmp)
                raise
            return
        stream = self._call(uri, "write", fs.open_output_stream, path)
        try:
            yield stream
        finally:
            self._call(uri, "write", stream.close)

    def open_input(self, uri: str, buffer_bytes: int = 1 << 20) -> io.BufferedReader:
        """A buffered binary reader, bytes as stored (no decompression by extension)."""
        if is_local(uri):
            return open(absolute(uri), "rb", buffering=buffer_bytes)
        fs, path = self.filesystem(uri)
        native = self._call(uri, "open", fs.open_input_stream, path, compression=None)
        return io.BufferedReader(_Raw(native), buffer_size=buffer_bytes)

    def sha256(self, uri: str) -> str:
        digest = hashlib.sha256()
        with self.open_input(uri) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def open_random(self, uri: str) -> Any:
        """A seekable file (Parquet footers and row groups)."""
        fs, path = self.filesystem(uri)
        return self._call(uri, "open", fs.open_input_file, path)

    def list(self, uri: str, recursive: bool = False) -> list[FileEntry]:
        """Files under the folder (or prefix) ``uri``, sorted; none if it does not exist."""
        fs, path = self.filesystem(uri)
        selector = pafs.FileSelector(path.rstrip("/"), allow_not_found=True, recursive=recursive)
        infos = self._call(uri, "list", fs.get_file_info, selector)
        base = uri.rstrip("/")
        out = []
        for info in infos:
            if info.type == pafs.FileType.File:
                rel = info.path[len(path.rstrip("/")) :].lstrip("/")
                out.append(FileEntry(f"{base}/{rel}", info.size))
        return sorted(out, key=lambda e: e.uri)

    def glob(self, pattern: str) -> list[str]:
        """Files matching a glob (``*`` stays within one path segment, as in a shell)."""
        if not any(c in pattern for c in _WILDCARDS):
            return [pattern] if self.is_file(pattern) else []
        head, _, _ = pattern.partition(next(c for c in pattern if c in _WILDCARDS))
        base = head.rsplit("/", 1)[0]
        depth = pattern.count("/") - base.count("/")
        found = self.list(base, recursive=depth > 1)
        return [
            e.uri
            for e in found
            if fnmatch.fnmatchcase(e.uri, pattern) and e.uri.count("/") == pattern.count("/")
        ]

    def delete(self, uri: str) -> None:
        fs, path = self.filesystem(uri)
        try:
            fs.delete_file(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if self.info(uri).type != pafs.FileType.NotFound:
                raise StorageError(f"{uri}: delete failed: {exc}") from None

    def delete_dir(self, uri: str) -> None:
        for entry in self.list(uri, recursive=True):
            self.delete(entry.uri)
        if is_local(uri) and os.path.isdir(absolute(uri)):
            fs, path = self.filesystem(uri)
            fs.delete_dir(path)

    # -- checks before Spark starts ------------------------------------------------------
    def check_writable(self, uri: str, what: str) -> None:
        """Write and delete a probe under ``uri``; ConfigError naming it otherwise."""
        if is_local(uri) and os.path.isfile(absolute(uri)):
            raise ConfigError(f"{what} {uri}: is a file, not a folder")
        probe = join(uri, f"_probe-{uuid.uuid4().hex[:12]}")
        try:
            self.write_bytes(probe, b"")
            self.delete(probe)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{what} {uri}: cannot write there ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split("(Request ID")[0].split())[:300]


def sha256(uri: str | os.PathLike) -> str:
    """sha256 of a file's bytes (models, tokenizer files, shards), read in blocks."""
    return use(None).sha256(str(uri))


def use(cfg: StorageConfig | None) -> Storage:
    """The Storage for ``cfg`` (one per process and settings, so filesystems are reused)."""
    key = (cfg or StorageConfig()).model_dump_json()
    if key not in _STORES:
        _STORES[key] = Storage(cfg)
    return _STORES[key]


_STORES: dict[str, Storage] = {}
