"""Plain data derived from an installed package, kept in a local file between runs.

Where building the data means importing a heavy package in every Python worker (spaCy's
tokenizer rules, alt-profanity-check's sklearn model), the kept file reads back in
milliseconds. Its name is keyed by the package's version and the bytes of the module
that derives the data; a file that cannot be read is rebuilt, and a folder that cannot be
written only means each worker builds the data, as it did before.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from contextlib import suppress
from importlib.metadata import version
from pathlib import Path
from typing import IO, TypeVar

log = logging.getLogger(__name__)

Data = TypeVar("Data")
Used = TypeVar("Used")


def kept_path(folder: Path, module_file: str, package: str, name: str) -> Path:
    """``folder``/``name`` with a key of ``package``'s version and ``module_file``'s bytes
    before its suffix."""
    digest = hashlib.sha256(Path(module_file).read_bytes())
    digest.update(version(package).encode())
    stem, dot, suffix = name.partition(".")
    return folder / f"{stem}-{digest.hexdigest()[:24]}{dot}{suffix}"


def kept(
    path: Path,
    what: str,
    read: Callable[[Path], Used],
    build: Callable[[], Data],
    write: Callable[[Data, IO[bytes]], None],
    use: Callable[[Data], Used],
    unreadable: tuple[type[Exception], ...],
) -> Used:
    """``read(path)``, else ``use(build())`` with the built data written to ``path``;
    ``unreadable``: the errors of a damaged file (a missing one is no warning)."""
    try:
        return read(path)
    except FileNotFoundError:
        pass
    except unreadable as exc:
        log.warning("%s %s: unreadable (%s); rebuilding it", what, path, exc)
    data = build()
    # Workers may write at once: each writes its own file, then renames it in place (as
    # curate.storage's open_output does; filters/ does not depend on curate).
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with part.open("wb") as out:
            write(data, out)
        os.replace(part, path)
    except OSError as exc:
        log.warning("%s %s: not written (%s)", what, path, exc)
        with suppress(OSError):  # nothing written, or no folder to write in
            part.unlink()
    return use(data)
