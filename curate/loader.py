"""A deterministic, resumable training loader over a mixture manifest.

``MixtureDataset`` yields fixed-length token sequences. Every sequence comes from one
domain (documents packed with EOS between them), and domains follow the manifest's
weights exactly over the period: sequence k goes to the domain whose next "ideal time"
(j + 0.5) / weight comes first, so after any prefix each domain is within one sequence
of its share. Inside a domain, row groups and the documents of each row group are
shuffled with a fresh order every epoch. Global sequence k belongs to rank
k mod world_size. With ``batch_size`` B the dataset yields batches of B consecutive
sequences of its rank, and DataLoader worker w yields batches w, w + num_workers, ...: the
DataLoader's round-robin over workers then returns batches in the rank's order, so after
any batch every earlier sequence has been returned, and the state (the manifest id and
the count of sequences returned) continues exactly, with any batch size and worker count.
Works without torch; with torch it is an ``IterableDataset``.
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
from curate.mixture import rehydration
from curate.mixture.manifest import load_manifest, rehydration_table
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

    def __init__(
        self, name: str, info: dict, base: str, seed: int, eos: int, seq_len: int,
        copies: dict[int, int] | None = None,
    ):  # fmt: skip
        self.name, self.seed, self.eos, self.seq_len = name, seed, eos, seq_len
        self.copies = copies
        self.groups = [
            (join(base, shard["path"]), shard["sha256"], i, g["rows"], g["clusters"])
            for shard in info["shards"]
            for i, g in enumerate(shard["row_groups"])
            if g["rows"]
        ]
        # A row group's share of an epoch: its documents (one EOS each) and tokens, each
        # document times its rehydration copies.
        sizes = [sum(rehydration.epoch_size(copies, clusters)) for *_, clusters in self.groups]
        self.sizes = np.array(sizes, np.int64)
        self.epoch_tokens = int(self.sizes.sum())
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
        """Row group g's documents (each as often as its rehydration copies) in this
        epoch's order, EOS after each."""
        key = (epoch, g)
        if key not in self._cache:
            path, sha256, index, rows, _ = self.groups[g]
            group = self._open(path, sha256).read_row_group(
                index, columns=["tokens", "duplicate_count"]
            )
            column = group.column("tokens").combine_chunks()
            values = column.values.to_numpy(zero_copy_only=False)
            offsets = column.offsets.to_numpy()
            sizes = group.column("duplicate_count").to_numpy(zero_copy_only=False)
            docs = np.repeat(np.arange(rows), rehydration.copies(self.copies, sizes))
            perm = _rng(self.seed, self.name, epoch, g).permutation(docs)
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
        batch_size: int | None = None,
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} not in [0, {world_size})")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size {batch_size}: give a positive size, or None")
        self.batch_size = batch_size
        self.path = storage.absolute(str(manifest))
        self.manifest = load_manifest(self.path)
        self.seq_len, self.seed, self.rank, self.world_size = seq_len, seed, rank, world_size
        mixture = self.manifest["mixture"]
        self.domains = sorted(d for d, w in mixture["weights"].items() if w > 0)
        self.weights = np.array([mixture["weights"][d] for d in self.domains])
        self.copies = rehydration_table(mixture)  # {cluster size: copies}, or None
        self.total = mixture["budget_tokens"] // seq_len  # sequences in the period
        self.per_rank = self.total // world_size  # equal on every rank
        self.start = 0  # where iteration starts: the loaded state's step
        self.step = 0  # sequences of this rank iterated in this process
        self._schedule: tuple[np.ndarray, np.ndarray] | None = None
        self._streams: dict[str, _DomainStream] = {}

    def __len__(self) -> int:
        """Items an iteration yields from the loaded state on: sequences, or batches."""
        left = self.per_rank - self.start
        return left if self.batch_size is None else -(-left // self.batch_size)

    def state_dict(self, step: int | None = None) -> dict[str, Any]:
        """Where to resume: after ``step`` sequences of this rank (default: as iterated in
        this process, which DataLoader workers are not)."""
        return {"manifest_id": self.manifest["id"], "step": self.step if step is None else step}

    def state_after(self, item: dict[str, Any]) -> dict[str, Any]:
        """The state to save once ``item`` (a sequence or a batch, as the DataLoader
        returned it) has been trained on: every sequence up to its last was returned."""
        last = item["step"]
        last = int(last[-1]) if hasattr(last, "__len__") else int(last)
        return self.state_dict(step=last + 1)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["manifest_id"] != self.manifest["id"]:
            raise ValueError(
                f"state is for manifest {state['manifest_id'][:12]}, "
                f"this is {self.manifest['id'][:12]} ({self.path})"
            )
        self.start = self.step = int(state["step"])

    def _stream(self, domain: str) -> _DomainStream:
        if domain not in self._streams:
            eos = self.manifest["tokenizer"]["eos_id"]
            info = self.manifest["domains"][domain]
            base = storage.parent(self.path)
            self._streams[domain] = _DomainStream(
                domain, info, base, self.seed, eos, self.seq_len, self.copies
            )
        return self._streams[domain]

    def worker_batches(self, worker: int, num_workers: int) -> Iterator[range]:
        """The steps of each batch DataLoader worker ``worker`` of ``num_workers`` yields
        (a batch is one sequence without ``batch_size``): the DataLoader takes one item
        from each worker in turn, starting with worker 0, so worker w yields batches
        w, w + num_workers, ... counted from the loaded state's step."""
        size = self.batch_size or 1
        for start in range(self.start + worker * size, self.per_rank, num_workers * size):
            yield range(start, min(start + size, self.per_rank))

    def _sequence(self, s: int) -> tuple[np.ndarray, str]:
        domains, local = self._schedule
        k = s * self.world_size + self.rank
        domain = self.domains[domains[k]]
        return self._stream(domain).sequence(int(local[k])), domain

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info else (0, 1)
        if self._schedule is None:
            self._schedule = schedule(self.weights, self.total)
        for steps in self.worker_batches(worker, num_workers):
            seqs = [self._sequence(s) for s in steps]
            self.step = steps[-1] + 1
            if self.batch_size is None:
                (tokens, domain), step = seqs[0], steps[0]
                yield {"input_ids": tokens, "tokens": tokens, "domain": domain, "step": step}
                continue
            tokens = np.stack([t for t, _ in seqs])
            yield {
                "input_ids": tokens,
                "tokens": tokens,
                "domain": [d for _, d in seqs],
                "step": np.asarray(steps, dtype=np.int64),
            }


def load_decoder(manifest: str | Path, path: str | None = None) -> Any:
    """The tokenizer that decodes a manifest's token ids, checked against the manifest's
    sha256: a ``tiktoken.Encoding`` (offline BPE), or a ``tokenizers.Tokenizer`` from
    ``path``, the tokenizer.json the shards were made with."""
    from curate.tokenize import decoder

    return decoder(load_manifest(storage.absolute(str(manifest)))["tokenizer"], path)
