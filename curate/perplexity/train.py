"""Train a language model directory: SentencePiece on CCNet-normalised text, then KenLM
(lmplz, build_binary) on its pieces."""

from __future__ import annotations

import glob
import io
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from curate.config import ConfigError
from curate.perplexity.model import LM_FILE, META_FILE, SP_FILE
from curate.perplexity.normalize import normalize_line
from curate.storage import sha256 as file_sha256

# Where `make kenlm` puts lmplz and build_binary; CURATE_KENLM_BIN or PATH otherwise.
DEFAULT_KENLM_BIN = Path(".cache") / "kenlm" / "bin"


@dataclass
class TrainOptions:
    order: int = 5  # CCNet
    vocab_size: int = 8000
    # lmplz --prune thresholds per order (0 keeps all n-grams of that order)
    prune: list[int] = field(default_factory=lambda: [0, 0, 1])
    memory: str = "20%"  # lmplz -S
    character_coverage: float = 0.9995


def kenlm_binary(name: str) -> str:
    """Path of lmplz / build_binary: CURATE_KENLM_BIN, then .cache/kenlm/bin, then PATH."""
    for folder in (os.environ.get("CURATE_KENLM_BIN"), DEFAULT_KENLM_BIN):
        if folder and (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    found = shutil.which(name)
    if not found:
        raise ConfigError(
            f"KenLM's {name} not found (CURATE_KENLM_BIN, {DEFAULT_KENLM_BIN}, PATH): "
            "build it with `make kenlm`"
        )
    return found


def _input_files(patterns: list[str]) -> list[Path]:
    files = sorted({Path(p) for pattern in patterns for p in glob.glob(pattern)})
    if not files:
        raise ConfigError(f"--text {' '.join(patterns)}: no file matches")
    return files


def train_lm(
    text: list[str], lang: str, output: str | Path, options: TrainOptions | None = None
) -> dict:
    """Train into ``output`` (sp.model, lm.binary, meta.json), written atomically; returns
    the metadata."""
    import sentencepiece

    options = options or TrainOptions()
    files = _input_files(text)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    lmplz, build_binary = kenlm_binary("lmplz"), kenlm_binary("build_binary")
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.name}-") as tmp:
        work = Path(tmp)
        normalized = work / "normalized.txt"
        n_lines = 0
        with normalized.open("w", encoding="utf-8") as out:
            for file in files:
                with file.open(encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        line = normalize_line(line)
                        if line:
                            out.write(line + "\n")
                            n_lines += 1
        if not n_lines:
            raise ConfigError(f"--text {' '.join(text)}: no text to train on")
        # Lines from an iterator and the model into memory: the model file then embeds no
        # temporary path, so the same text gives the same bytes.
        model = io.BytesIO()
        with normalized.open(encoding="utf-8") as lines:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=(line.rstrip("\n") for line in lines),
                model_writer=model,
                vocab_size=options.vocab_size,
                hard_vocab_limit=False,  # a small corpus gets a smaller vocabulary, not an error
                character_coverage=options.character_coverage,
                model_type="unigram",
                num_threads=1,  # several threads give a different model on every run
                minloglevel=2,
            )
        (work / "sp.model").write_bytes(model.getvalue())
        sp = sentencepiece.SentencePieceProcessor(model_file=str(work / "sp.model"))
        pieces = work / "pieces.txt"
        with normalized.open(encoding="utf-8") as src, pieces.open("w", encoding="utf-8") as dst:
            for line in src:
                dst.write(" ".join(sp.encode(line.rstrip("\n"), out_type=str)) + "\n")
        arpa = work / "lm.arpa"
        prune = [str(p) for p in options.prune[: options.order]]
        cmd = [lmplz, "-o", str(options.order), "-S", options.memory, "-T", str(work),
               "--discount_fallback", "--text", str(pieces), "--arpa", str(arpa)]  # fmt: skip
        if any(p != "0" for p in prune):
            cmd += ["--prune", *prune]
        _run(cmd)
        _run([build_binary, str(arpa), str(work / LM_FILE)])
        final = work / "model"
        final.mkdir()
        shutil.move(work / "sp.model", final / SP_FILE)
        shutil.move(work / LM_FILE, final / LM_FILE)
        meta = {
            "lang": lang,
            "options": asdict(options),
            "vocab_size": sp.get_piece_size(),
            "training_lines": n_lines,
            "training_files": [str(f) for f in files],
            "sha256": {
                SP_FILE: file_sha256(final / SP_FILE),
                LM_FILE: file_sha256(final / LM_FILE),
            },
        }
        (final / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
        if output.exists():
            shutil.rmtree(output)
        final.rename(output)
    return meta


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr[-2000:]}")
