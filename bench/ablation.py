"""Does the data get better? The field's test of a filter (DCLM, FineWeb): train the same
small language model on what each setting keeps, at equal token counts, and score clean
text that no classifier saw.

    python bench/ablation.py [--steps 600]

One curate run over the real pages in ../shared/data (docs-crawl and the Common Crawl
sample) with a quality classifier trained as in bench/classifier.py (WikiText-2 ``valid``
against half of the crawl). Subsets, cut to the same number of words by a hash of the
document id:
  (a) everything extracted;
  (b) after language ID (English), the heuristics and dedup (the published documents);
  (c) (b) and the classifier's top half of (b)'s words.
Models: curate's own KenLM training (order 6, 1,000 SentencePiece pieces, unpruned: small
pieces suit a small corpus, bench/perplexity.py) and, when torch
is installed, a small byte-level transformer (same steps, same seed). Held-out text: the
extraction benchmark's human-marked article bodies (ground-truth.json).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import xxhash
from classifier import crawl, wikitext
from docs_crawl import FOLDER, SHARED

from curate.classifier.train import Settings, train_classifier
from curate.config import Config
from curate.perplexity.model import LanguageModel
from curate.perplexity.train import TrainOptions, train_lm
from curate.pipeline import run
from curate.spark import build_session
from curate.storage import use

# Small pieces suit a small corpus (bench/perplexity.py); 1,000 covers (a)'s many scripts.
LM = TrainOptions(order=6, vocab_size=1000, prune=[0])


def held_out() -> list[str]:
    truth = json.loads(
        (SHARED / "pages" / "extraction-benchmark" / "ground-truth.json").read_text()
    )
    return [v["articleBody"] for _, v in sorted(truth.items()) if v.get("articleBody")]


def classifier(tmp: Path) -> Path:
    docs = crawl()
    negatives = [t for i, t in docs if xxhash.xxh64_intdigest(i.encode()) % 2 == 0]
    (tmp / "pos.txt").write_text("\n\n".join(wikitext("valid")) + "\n")
    (tmp / "neg.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in negatives))
    train_classifier(use(None), [str(tmp / "pos.txt")], [str(tmp / "neg.jsonl")],
                     str(tmp / "clf"), settings=Settings(bucket=200_000))  # fmt: skip
    return tmp / "clf" / "model.bin"


def pipeline(tmp: Path, model: Path) -> Path:
    paths = [str(FOLDER / "*.warc.gz"), str(SHARED / "warc" / "cc" / "CC-MAIN-*.warc.gz")]
    cfg = Config.model_validate({
        "input": {"paths": paths},
        "output": {"dir": str(tmp / "run"), "report": False},
        "spark": {"master": "local[2]", "shuffle_partitions": 8, "progress": False},
        "language": {"keep": ["en"]},
        "quality": {"classifiers": [{"name": "wiki", "path": str(model)}]},
        "perplexity": {"enabled": False},
        "pii": {"enabled": False},
        "decontam": {"enabled": False},
        "mixture": {"enabled": False},
    })  # fmt: skip
    run(cfg, spark=build_session(cfg.spark))
    return tmp / "run"


def _words(text: str) -> int:
    return len(text.split())


def subsets(out: Path) -> dict[str, list[tuple[str, str]]]:
    annotated = pq.read_table(out / "stages" / "annotate" / "documents", columns=["id", "text"])
    kept = pq.read_table(out / "documents", columns=["id", "text", "classifier_wiki"])
    everything = list(zip(*(annotated.column(c).to_pylist() for c in ("id", "text")), strict=True))
    rows = kept.to_pylist()
    filtered = [(r["id"], r["text"]) for r in rows]
    by_score = sorted(rows, key=lambda r: -(r["classifier_wiki"] or 0))
    half, top = sum(_words(r["text"]) for r in rows) / 2, []
    for r in by_score:
        if sum(_words(t) for _, t in top) >= half:
            break
        top.append((r["id"], r["text"]))
    return {"(a) extracted": everything, "(b) heuristics + dedup": filtered,
            "(c) (b) + classifier top half": top}  # fmt: skip


def equal_words(docs: list[tuple[str, str]], budget: int) -> list[str]:
    """Documents in seeded hash order until ``budget`` words; the last one cut to fit."""
    out, left = [], budget
    for _, text in sorted(docs, key=lambda d: xxhash.xxh64_intdigest(d[0].encode())):
        words = text.split()
        if left <= 0:
            break
        if len(words) > left:
            text = " ".join(words[:left])
        out.append(text)
        left -= min(len(words), left)
    return out


def kenlm_perplexity(texts: list[str], tmp: Path, name: str, held: list[str]) -> float:
    """Word-weighted perplexity of the held-out articles (curate's per-word perplexity)."""
    corpus = tmp / f"{name}.txt"
    corpus.write_text("\n".join(line for t in texts for line in t.splitlines() if line.strip()))
    train_lm([str(corpus)], "en", tmp / f"lm-{name}", LM)
    lm = LanguageModel("en", tmp / f"lm-{name}")
    logs = n = 0
    for text in held:
        score = lm.score(text)
        if score.perplexity:
            logs += math.log(score.perplexity) * score.n_words
            n += score.n_words
    return math.exp(logs / n)


def transformer_bits_per_byte(texts: list[str], held: list[str], steps: int) -> float | None:
    """A 2-layer byte-level transformer, the same steps and seed for every subset."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    ctx, dim = 128, 128
    data = torch.tensor(list("\n\n".join(texts).encode("utf-8")), dtype=torch.long)
    test = torch.tensor(list("\n\n".join(held).encode("utf-8")), dtype=torch.long)

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(256, dim)
            self.pos = torch.nn.Embedding(ctx, dim)
            layer = torch.nn.TransformerEncoderLayer(dim, 4, 4 * dim, 0.0, batch_first=True)
            self.body = torch.nn.TransformerEncoder(layer, 2)
            self.head = torch.nn.Linear(dim, 256)

        def forward(self, x):
            mask = torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1])
            h = self.emb(x) + self.pos(torch.arange(x.shape[1]))
            return self.head(self.body(h, mask=mask, is_causal=True))

    model = Model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        starts = torch.randint(0, len(data) - ctx - 1, (32,), generator=gen)
        x = torch.stack([data[s : s + ctx] for s in starts])
        y = torch.stack([data[s + 1 : s + ctx + 1] for s in starts])
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(test) - ctx - 1, ctx):
            x, y = test[s : s + ctx][None], test[s + 1 : s + ctx + 1][None]
            total += torch.nn.functional.cross_entropy(
                model(x).reshape(-1, 256), y.reshape(-1), reduction="sum"
            ).item()
            count += ctx
    return total / count / math.log(2)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=600, help="transformer training steps")
    args = parser.parse_args()
    if not FOLDER.is_dir() or not (SHARED / "reference-text").is_dir():
        print("../shared/data not present: nothing to measure")
        return 0
    held = held_out()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        out = pipeline(tmp, classifier(tmp))
        sets = subsets(out)
        budget = min(sum(_words(t) for _, t in docs) for docs in sets.values())
        print(f"held out: {len(held)} article bodies, {sum(map(_words, held)):,} words; "
              f"every subset cut to {budget:,} words")  # fmt: skip
        print(f"{'subset':<32}{'documents':>10}{'words':>10}{'KenLM ppl':>11}{'bits/byte':>11}")
        for i, (label, docs) in enumerate(sets.items()):
            texts = equal_words(docs, budget)
            ppl = kenlm_perplexity(texts, tmp, f"s{i}", held)
            bpb = transformer_bits_per_byte(texts, held, args.steps)
            shown = f"{bpb:>11.3f}" if bpb is not None else f"{'(no torch)':>11}"
            print(f"{label:<32}{len(texts):>10,}{sum(map(_words, texts)):>10,}{ppl:>11.1f}{shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
