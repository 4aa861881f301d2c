"""The storage layer on a local folder and on a real S3 API: the same calls, the same
answers (globs, listings, whole-or-nothing writes, buffered reads, clear errors)."""

from __future__ import annotations

import pytest

from curate.config import ConfigError, StorageConfig
from curate.storage import Storage, StorageError, absolute, join


@pytest.fixture(params=["local", "s3"])
def root(request, tmp_path):
    """A folder URI and the Storage that reaches it."""
    if request.param == "local":
        return str(tmp_path), Storage()
    s3 = request.getfixturevalue("s3")
    settings = dict(s.split("=", 1) for s in s3.settings)
    cfg = StorageConfig(**{k.removeprefix("storage."): v for k, v in settings.items()})
    return s3.uri(f"storage-test/{tmp_path.name}"), Storage(cfg)


def test_files_round_trip_and_list(root):
    base, st = root
    st.write_json(join(base, "a", "x.json"), {"n": 1})
    st.write_bytes(join(base, "a", "b", "y.bin"), b"\x00" * 10)
    st.write_text(join(base, "c.txt"), "line one\nline two\n")
    assert st.read_json(join(base, "a", "x.json")) == {"n": 1}
    assert st.read_json_or_none(join(base, "a", "missing.json")) is None
    assert [e.uri for e in st.list(join(base, "a"))] == [join(base, "a", "x.json")]
    sizes = [e.size for e in st.list(join(base, "a"), recursive=True)]
    assert sizes == [10, len(st.read_bytes(join(base, "a", "x.json")))]
    assert st.list(join(base, "nothing-here")) == []
    with st.open_input(join(base, "c.txt")) as fh:  # buffered: warcio reads lines
        assert fh.readline() == b"line one\n" and fh.read() == b"line two\n"
    st.delete(join(base, "c.txt"))
    st.delete(join(base, "c.txt"))  # deleting what is gone is fine
    assert not st.is_file(join(base, "c.txt"))
    with pytest.raises(FileNotFoundError, match=r"c\.txt: not found"):
        st.read_bytes(join(base, "c.txt"))


def test_glob_is_a_shell_glob(root):
    base, st = root
    for name in ("w-1.warc.gz", "w-2.warc.gz", "w-1.warc.gz.bak", "sub/w-3.warc.gz"):
        st.write_bytes(join(base, name), b"x")
    assert st.glob(join(base, "*.warc.gz")) == [join(base, "w-1.warc.gz"),
                                                join(base, "w-2.warc.gz")]  # fmt: skip
    assert st.glob(join(base, "*", "*.warc.gz")) == [join(base, "sub", "w-3.warc.gz")]
    assert st.glob(join(base, "w-2.warc.gz")) == [join(base, "w-2.warc.gz")]
    assert st.glob(join(base, "none-*")) == []


def test_a_failed_write_leaves_nothing(root):
    base, st = root
    target = join(base, "whole.bin")
    st.write_bytes(target, b"before")
    with pytest.raises(RuntimeError), st.open_output(target) as f:
        f.write(b"half")
        raise RuntimeError("killed mid-write")
    if base.startswith("/"):  # locally the old file stays; an upload is another object
        assert st.read_bytes(target) == b"before"
        assert [e.uri for e in st.list(base)] == [target]


def test_paths_and_probes(tmp_path):
    assert absolute("rel/x") == str((tmp_path.cwd() / "rel" / "x").absolute())
    assert absolute("s3://b/p/") == "s3://b/p"
    assert join("s3://b", "p", "", "q/") == "s3://b/p/q"
    st = Storage()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"output.dir .*/file: is a file"):
        st.check_writable(str(tmp_path / "file"), "output.dir")
    st.check_writable(str(tmp_path / "new"), "output.dir")
    assert [e.uri for e in st.list(str(tmp_path / "new"))] == []  # the probe is gone
    with pytest.raises(StorageError, match="no filesystem for nope://"):
        st.filesystem("nope://x/y")
