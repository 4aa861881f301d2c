"""A deterministic, resumable training loader over a mixture manifest.

``MixtureDataset`` yields fixed-length token sequences. Every sequence comes from one
domain (documents packed with EOS between them), and domains follow the manifest's
weights exactly over the period: sequence k goes to the domain whose next "ideal time"
(j + 0.5) / weight comes first, so after any prefix each domain is within one sequence
of its share. Inside a domain, row groups and the documents of each row group are
shuffled with a fresh order every epoch. Global sequence k belongs to rank
k mod world_size; inside a rank, DataLoader worker w takes every num_workers-th one,
starting at the w-th. The state is a step counter and the manifest id, so a restart
(with any worker count) continues exactly. Works without torch; with torch it is an
``IterableDataset``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from curate import storage
from curate.mixture.manifest import load_manifest
from curate.storage import join, use

try:  # torch is optional: the dataset also works as a plain iterable
    from torch.utils.data import IterableDataset as _Base
    from torch.utils.data import get_worker_info
except ImportError:  # pragma: no cover - depends on the environment
    _Base = object

    def get_worker_info():
        return None


class ShardError(RuntimeError):
    """A shard of the manifest is missing or does not match its checksum."""


def _rng(*keys: Any) -> np.random.Generator:
    digest = hashlib.sha256(repr(keys).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def schedule(weights: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """(domain, domain-local index) of each of ``total`` sequences: domain i's j-th sequence
    is due at (j + 0.5) / w_i; sequences are taken in order of due time."""
    domains, local, due = [], [], []
    for i, w in enumerate(weights):
        if w <= 0:
            continue
        j = np.arange(int(np.ceil(total * w)) + 1)
        domains.append(np.full(len(j), i, dtype=np.int32))
        local.append(j)
        due.append((j + 0.5) / w)
    d, j, t = np.concatenate(domains), np.concatenate(local), np.concatenate(due)
    order = np.lexsort((d, t))[:total]
    return d[order], j[order]


class _DomainStream:
    """One domain's endless token stream: epochs of shuffled row groups and documents."""

    def __init__(self, name: str, info: dict, base: str, seed: int, eos: int, seq_len: int):
        self.name, self.seed, self.eos, self.seq_len = name, seed, eos, seq_len
        self.groups = [
            (join(base, shard["path"]), shard["sha256"], i, g["rows"], g["tokens"])
            for shard in info["shards"]
            for i, g in enumerate(shard["row_groups"])
            if g["rows"]
        ]
        sizes = np.array([rows + tokens for _, _, _, rows, tokens in self.groups], np.int64)
        self.sizes = sizes
        self.epoch_tokens = int(sizes.sum())
        # Row-group order and start offsets of the current epoch (sequences move forward).
        self._current: tuple[int, np.ndarray, np.ndarray] | None = None
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._files: dict[str, pq.ParquetFile] = {}

    def _epoch(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        if self._current is None or self._current[0] != epoch:
            order = _rng(self.seed, self.name, epoch).permutation(len(self.groups))
            starts = np.concatenate([[0], np.cumsum(self.sizes[order])[:-1]])
            self._current = (epoch, order, starts)
        return self._current[1], self._current[2]

    def _open(self, uri: str, sha256: str) -> pq.ParquetFile:
        if uri not in self._files:
            st = use(None)
            if not st.is_file(uri):
                raise ShardError(f"{uri}: shard listed in the manifest is missing")
            digest = st.sha256(uri)
            if digest != sha256:
                raise ShardError(f"{uri}: sha256 {digest} != manifest {sha256}")
            self._files[uri] = pq.ParquetFile(st.open_random(uri))
        return self._files[uri]

    def _group_tokens(self, epoch: int, g: int) -> np.ndarray:
        """Row group g's documents in this epoch's order, EOS after each."""
        key = (epoch, g)
        if key not in self._cache:
            path, sha256, index, rows, _ = self.groups[g]
            column = self._open(path, sha256).read_row_group(index, columns=["tokens"]).column(0)
            column = column.combine_chunks()
            values = column.values.to_numpy(zero_copy_only=False)
            offsets = column.offsets.to_numpy()
            perm = _rng(self.seed, self.name, epoch, g).permutation(rows)
            lengths = np.diff(offsets)[perm] + 1
            out = np.full(int(lengths.sum()), self.eos, dtype=np.int32)
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            for doc, start in zip(perm, starts, strict=True):
                out[start : start + offsets[doc + 1] - offsets[doc]] = values[
                    offsets[doc] : offsets[doc + 1]
                ]
            self._cache[key] = out
            while len(self._cache) > 4:
                self._cache.popitem(last=False)
        return self._cache[key]

    def sequence(self, j: int) -> np.ndarray:
        """Tokens [j * seq_len, (j + 1) * seq_len) of the stream."""
        out = np.empty(self.seq_len, dtype=np.int32)
        pos, filled = j * self.seq_len, 0
        while filled < self.seq_len:
            epoch, offset = divmod(pos, self.epoch_tokens)
            order, starts = self._epoch(epoch)
            r = int(np.searchsorted(starts, offset, side="right")) - 1
            chunk = self._group_tokens(epoch, int(order[r]))[offset - starts[r] :]
            take = min(len(chunk), self.seq_len - filled)
            out[filled : filled + take] = chunk[:take]
            filled += take
            pos += take
        return out


class MixtureDataset(_Base):
    """Fixed-length token sequences following a mixture manifest (see the module doc)."""

    def __init__(
        self,
        manifest: str | Path,
        seq_len: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} not in [0, {world_size})")
        self.path = storage.absolute(str(manifest))
        self.manifest = load_manifest(self.path)
        self.seq_len, self.seed, self.rank, self.world_size = seq_len, seed, rank, world_size
        mixture = self.manifest["mixture"]
        self.domains = sorted(d for d, w in mixture["weights"].items() if w > 0)
        self.weights = np.array([mixture["weights"][d] for d in self.domains])
        self.total = mixture["budget_tokens"] // seq_len  # sequences in the period
        self.per_rank = self.total // world_size  # equal on every rank
        self.step = 0  # sequences of this rank already consumed
        self._schedule: tuple[np.ndarray, np.ndarray] | None = None
        self._streams: dict[str, _DomainStream] = {}

    def __len__(self) -> int:
        return self.per_rank

    def state_dict(self, step: int | None = None) -> dict[str, Any]:
        """Where to resume: after ``step`` sequences of this rank (default: as iterated)."""
        return {"manifest_id": self.manifest["id"], "step": self.step if step is None else step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["manifest_id"] != self.manifest["id"]:
            raise ValueError(
                f"state is for manifest {state['manifest_id'][:12]}, "
                f"this is {self.manifest['id'][:12]} ({self.path})"
            )
        self.step = int(state["step"])

    def _stream(self, domain: str) -> _DomainStream:
        if domain not in self._streams:
            eos = self.manifest["tokenizer"]["eos_id"]
            info = self.manifest["domains"][domain]
            base = storage.parent(self.path)
            self._streams[domain] = _DomainStream(domain, info, base, self.seed, eos, self.seq_len)
        return self._streams[domain]

    def worker_steps(self, worker: int, num_workers: int) -> range:
        """This rank's steps that DataLoader worker ``worker`` of ``num_workers`` yields:
        the DataLoader takes one item from each worker in turn, starting with worker 0, so
        worker w yields steps step + w, step + w + num_workers, ..."""
        return range(self.step + worker, self.per_rank, num_workers)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info else (0, 1)
        if self._schedule is None:
            self._schedule = schedule(self.weights, self.total)
        domains, local = self._schedule
        for s in self.worker_steps(worker, num_workers):
            k = s * self.world_size + self.rank
            domain = self.domains[domains[k]]
            tokens = self._stream(domain).sequence(int(local[k]))
            self.step = s + 1
            yield {"tokens": tokens, "domain": domain, "step": s}
