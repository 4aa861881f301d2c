"""curate: Common Crawl WARCs to LLM pre-training data on Spark.

Commands: run, filter, tune, calibrate-perplexity, train-lm, train-classifier, mix,
inspect-manifest, demo, demo-crawl. `curate COMMAND --help` describes each."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from curate import __version__
from curate.config import ConfigError, MixtureConfig, load_config
from curate.errors import StageError
from curate.mixture.manifest import ManifestError
from curate.mixture.weights import MixtureError
from curate.storage import StorageError

_MIX = MixtureConfig()  # the defaults of `curate mix` are the config's


_SET = "override any config key, e.g. --set extract.timeout_s=2 (repeatable)"


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", nargs="+", help="override input.paths (globs, URLs or listings)")
    p.add_argument("--output", help="override output.dir")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=_SET,
    )
    p.add_argument(
        "--dedup-against",
        nargs="+",
        metavar="DIR",
        help="output dirs of earlier runs: drop what they already published "
        "(same as --set dedup.against=[...])",
    )
    p.add_argument(
        "--from",
        dest="from_stage",
        metavar="STAGE",
        help="rerun this stage and every later one even if unchanged (a stage name: "
        "extract, annotate, filter, dedup, pii, decontam, publish, mixture)",
    )


def _run(args: argparse.Namespace) -> int:
    overrides = list(args.overrides)
    if args.dedup_against:
        overrides.append(f"dedup.against={json.dumps(args.dedup_against)}")
    # Validated before pyspark is imported: a mistyped key is reported in a second.
    cfg = load_config(args.config, overrides, args.input, args.output)
    from curate.pipeline import no_record_read, run, summary

    source = "--input" if args.input else str(args.config)
    stats = run(cfg, source=source, from_stage=args.from_stage)
    print(summary(stats))
    if no_record_read(stats):
        print("curate: no input file gave a WARC record; check input.paths", file=sys.stderr)
        return 1
    return 0


def _filter(args: argparse.Namespace) -> int:
    cfg = load_config(args.config, args.overrides, None, args.output)
    from curate.pipeline import refilter, summary

    stats = refilter(cfg, args.signals)
    print(summary(stats))
    return 0


def _demo_crawl(args: argparse.Namespace) -> int:
    from curate.demo.crawl import write_demo_crawl

    truth = write_demo_crawl(args.output)
    print(f"demo crawl: {len(truth['records'])} records in {args.output}")
    return 0


def _train_lm(args: argparse.Namespace) -> int:
    from curate.perplexity.train import TrainOptions, train_lm

    options = TrainOptions(order=args.order, vocab_size=args.vocab_size, prune=args.prune)
    meta = train_lm(args.text, args.lang, args.output, options)
    print(
        f"language model for {args.lang}: {args.output} (order {args.order}, "
        f"{meta['vocab_size']} pieces, {meta['training_lines']:,} lines)"
    )
    return 0


def _train_classifier(args: argparse.Namespace) -> int:
    from curate.classifier.train import Settings, TrainingError, train_classifier
    from curate.storage import use

    if bool(args.negative) == bool(args.negative_from):
        raise ConfigError("train-classifier: give --negative PATH... or --negative-from RUN_DIR")
    settings = Settings(lr=args.lr, dim=args.dim, epoch=args.epoch, word_ngrams=args.word_ngrams,
                        bucket=args.bucket, seed=args.seed)  # fmt: skip
    try:
        card = train_classifier(use(None), args.positive, args.negative, args.output, args.lang,
                                args.negative_from, args.sample, settings)  # fmt: skip
    except TrainingError as exc:
        print(f"curate: train-classifier: {exc}", file=sys.stderr)
        return 1
    docs = card["documents"]["train"]
    print(
        f"classifier for {args.lang}: {args.output}/model.bin ({docs['hq']:,} hq + "
        f"{docs['cc']:,} cc documents; held-back AUC {card['held_back_auc']})"
    )
    return 0


def _annotated(signals: str, st) -> tuple[str, object]:
    """An earlier run's folder (absolute) and its annotate table."""
    from curate import storage
    from curate.runner import load_results

    signals = storage.absolute(signals)
    results = load_results(st, signals, ["annotate"])
    if "annotate" not in results:
        raise ConfigError(f"--signals {signals}: no finished annotate stage there")
    return signals, results["annotate"].tables["documents"]


def _calibrate(args: argparse.Namespace) -> int:
    from curate import storage
    from curate.perplexity.buckets import compute_cutoffs, write_cutoffs
    from curate.spark import build_session
    from curate.tables import read_table

    cfg = load_config(args.config, args.overrides)
    st = storage.use(cfg.storage)
    signals, annotated = _annotated(args.signals, st)
    spark = build_session(cfg.spark)
    cutoffs = compute_cutoffs(read_table(spark, st, annotated), args.sample)
    output = args.output or storage.join(signals, "perplexity_cutoffs.json")
    write_cutoffs(output, cutoffs, annotated.folder)
    for lang, c in cutoffs.items():
        print(f"{lang:<6} p30 {c['p30']:>10.1f}  p60 {c['p60']:>10.1f}  ({c['documents']:,} docs)")
    print(f"cut-offs written to {output}; use them with --set perplexity.cutoffs={output}")
    return 0


def _tune(args: argparse.Namespace) -> int:
    from curate import storage
    from curate.pipeline import check_signals
    from curate.spark import build_session
    from curate.tune import table, tune

    current = load_config(args.config)
    proposed = load_config(args.config, args.overrides)
    st = storage.use(proposed.storage)
    signals, annotated = _annotated(args.signals, st)
    for cfg in (current, proposed):
        check_signals(cfg, st, signals)
    spark = build_session(proposed.spark)
    out_dir = storage.join(signals, "tune")
    report = tune(spark, st, current, proposed, annotated, out_dir, args.samples)
    print(table(report))
    return 0


def _manifest_uri(given: str) -> str:
    """A manifest's URI, from itself or from the run folder holding it."""
    from curate import storage

    uri = storage.absolute(given)
    return uri if uri.endswith(".json") else storage.join(uri, "manifest.json")


def _rehydration(given: str, parent: dict) -> dict[int, int] | None:
    from curate.mixture import rehydration
    from curate.mixture.manifest import rehydration_table

    if given == "keep":
        return rehydration_table(parent)
    if given == "none":
        return None
    try:
        value = given if given == "fineweb2" else json.loads(given)
        return rehydration.resolve(MixtureConfig(rehydration=value).rehydration)
    except ValueError as exc:  # not JSON, or not a table (pydantic's errors are ValueErrors)
        detail = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
        raise ConfigError(f"--rehydration {given!r}: {detail}") from None


def _mix(args: argparse.Namespace) -> int:
    from curate.mixture.manifest import load_manifest, remix
    from curate.mixture.weights import Weighting

    source = _manifest_uri(args.output_dir)
    first = load_manifest(source)
    domains = sorted(first["domains"])
    manual = {}
    for item in args.weight:
        domain, _, value = item.partition("=")
        try:
            manual[domain] = float(value)
        except ValueError:
            manual[domain] = -1.0
        if manual[domain] < 0:
            raise ConfigError(f"--weight {item!r}: give DOMAIN=W with W >= 0, e.g. web=0.7")
    if args.method == "manual" and set(manual) != set(domains):
        example = " ".join(f"--weight {d}=W" for d in domains)
        raise ConfigError(
            f"curate mix --method manual: give one weight per domain of {source}: {example} "
            f"(given: {', '.join(sorted(manual)) or 'none'})"
        )
    weighting = Weighting(
        args.method, args.budget_tokens, args.max_epochs, args.on_exceed, args.alpha, manual,
        _rehydration(args.rehydration, first["mixture"]),
    )  # fmt: skip
    target, manifest = remix(source, weighting, args.output)
    print(inspect_table(manifest))
    print(f"manifest written to {target} (parent {manifest['parent']['id'][:12]})")
    return 0


def inspect_table(manifest: dict) -> str:
    """Domains, tokens, weights, planned tokens, epochs and warnings, as a table."""
    mix = manifest["mixture"]
    lines = [
        f"manifest {manifest['id'][:12]}  tokenizer {manifest['tokenizer']['name']}  "
        f"method {mix['method']}  budget {mix['budget_tokens']:,} tokens",
        f"{'domain':<14}{'documents':>11}{'tokens':>14}{'weight':>9}{'planned':>14}{'epochs':>8}",
    ]
    for d, info in sorted(manifest["domains"].items()):
        lines.append(
            f"{d:<14}{info['documents']:>11,}{info['tokens']:>14,}{mix['weights'].get(d, 0):>9.3f}"
            f"{mix['planned_tokens'].get(d, 0):>14,}{mix['epochs'].get(d, 0):>8.2f}"
        )
    lines += [f"warning: {w}" for w in mix["warnings"]]
    return "\n".join(lines)


def _inspect(args: argparse.Namespace) -> int:
    from curate.mixture.manifest import load_manifest

    print(inspect_table(load_manifest(_manifest_uri(args.manifest))))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from curate.demo.crawl import write_demo_crawl
    from curate.demo.models import train_demo_models

    write_demo_crawl(args.crawl_dir)
    train_demo_models(args.crawl_dir)
    return _run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"curate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the pipeline described by a YAML config")
    p.add_argument("config", help="YAML config (see configs/demo.yaml)")
    _add_run_options(p)
    p.set_defaults(func=_run)

    p = sub.add_parser(
        "filter", help="re-apply thresholds over the stored signals of an earlier run"
    )
    p.add_argument("config", help="YAML config with the thresholds to apply")
    p.add_argument("--signals", required=True, metavar="DIR", help="output dir of an earlier run")
    p.add_argument("--output", help="override output.dir (default: the config's)")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=_SET
    )
    p.set_defaults(func=_filter)

    p = sub.add_parser("train-lm", help="train a SentencePiece + KenLM perplexity model")
    p.add_argument("--text", nargs="+", required=True, help="training text files or globs")
    p.add_argument("--lang", required=True, help="language code the model is for (en, de …)")
    p.add_argument("--output", required=True, metavar="DIR", help="folder for the model files")
    p.add_argument("--order", type=int, default=5, help="n-gram order (default 5, CCNet's)")
    p.add_argument(
        "--vocab-size", type=int, default=8000, help="SentencePiece pieces (default 8000)"
    )
    p.add_argument(
        "--prune", type=int, nargs="+", default=[0, 0, 1], help="lmplz --prune per order"
    )
    p.set_defaults(func=_train_lm)

    p = sub.add_parser(
        "train-classifier", help="train a fastText quality classifier (DCLM's settings)"
    )
    p.add_argument("--positive", nargs="+", required=True, metavar="PATH",
                   help="high-quality documents: .txt (blank-line separated), .jsonl[.gz] "
                   "(field text), .parquet (column text); globs")  # fmt: skip
    p.add_argument("--negative", nargs="+", metavar="PATH", help="other documents, as above")
    p.add_argument("--negative-from", metavar="RUN_DIR",
                   help="instead of --negative: documents extracted by that run")  # fmt: skip
    p.add_argument("--sample", type=int, help="at most this many negatives (seeded sample)")
    p.add_argument("--lang", default="en", help="language the classifier is for (default en)")
    p.add_argument("--output", required=True, metavar="DIR", help="folder: model.bin, card.json")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1, DCLM)")
    p.add_argument("--dim", type=int, default=100, help="vector size (default 100, DCLM)")
    p.add_argument("--epoch", type=int, default=5, help="epochs (default 5, DCLM)")
    p.add_argument("--word-ngrams", type=int, default=2, help="word n-grams (default 2, DCLM)")
    p.add_argument("--bucket", type=int, default=2_000_000,
                   help="bigram hash buckets (default 2,000,000: an 800 MB model)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of sampling, split and training")
    p.set_defaults(func=_train_classifier)

    p = sub.add_parser(
        "calibrate-perplexity", help="per-language perplexity cut-offs of an earlier run"
    )
    p.add_argument("config", help="YAML config of that run")
    p.add_argument("--signals", required=True, metavar="DIR", help="output dir of a run")
    p.add_argument("--sample", type=float, default=0.1, help="fraction of scored documents")
    p.add_argument("--output", help="cut-offs JSON (default DIR/perplexity_cutoffs.json)")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=_SET
    )
    p.set_defaults(func=_calibrate)

    p = sub.add_parser(
        "tune", help="documents and tokens each rule removes under new thresholds vs now"
    )
    p.add_argument("config", help="YAML config with the current thresholds")
    p.add_argument("--signals", required=True, metavar="DIR", help="output dir of a run")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a proposed threshold, e.g. quality.gopher_quality.min_words=80 (repeatable)",
    )
    p.add_argument("--samples", type=int, default=20, help="documents per changed side")
    p.set_defaults(func=_tune)

    p = sub.add_parser("mix", help="new mixture weights over an existing run's shards")
    p.add_argument("output_dir", metavar="OUTPUT", help="a run's output dir (or its manifest)")
    p.add_argument(
        "--method",
        choices=["manual", "temperature", "unimax"],
        default=_MIX.method,
        help=f"how weights are set (default {_MIX.method}, as mixture.method)",
    )
    p.add_argument("--budget-tokens", type=int, help="token budget (default: every token once)")
    p.add_argument(
        "--max-epochs",
        type=float,
        default=_MIX.max_epochs,
        help=f"most passes over a domain (default {_MIX.max_epochs})",
    )
    p.add_argument(
        "--on-exceed",
        choices=["error", "cap"],
        default=_MIX.on_exceed,
        help=f"a domain over --max-epochs: cap it or fail (default {_MIX.on_exceed})",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=_MIX.alpha,
        help=f"temperature: q ~ p ** alpha (default {_MIX.alpha})",
    )
    p.add_argument(
        "--rehydration",
        default="keep",
        help="copies by duplicate-cluster size: keep (the source manifest's, default), none, "
        'fineweb2, or a table as JSON, e.g. \'{"1": 1, "2": 2, "100": 8}\'',
    )
    p.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="DOMAIN=W",
        help="a domain's weight for --method manual (one per domain, repeated)",
    )
    p.add_argument("--output", help="new manifest path (default OUTPUT/manifest-<id>.json)")
    p.set_defaults(func=_mix)

    p = sub.add_parser("inspect-manifest", help="print a manifest's domains and weights")
    p.add_argument("manifest", help="a manifest file, or the run output dir holding it")
    p.set_defaults(func=_inspect)

    p = sub.add_parser("demo-crawl", help="write the embedded demo crawl (WARC + ground truth)")
    p.add_argument("--output", default="demo-data", help="folder (default demo-data)")
    p.set_defaults(func=_demo_crawl)

    p = sub.add_parser(
        "demo", help="write the demo crawl, train its language model, run the pipeline on it"
    )
    p.add_argument("--config", default="configs/demo.yaml", help="default configs/demo.yaml")
    p.add_argument("--crawl-dir", default="demo-data", help="where the crawl goes (demo-data)")
    _add_run_options(p)
    p.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"curate: configuration error\n{exc}", file=sys.stderr)
        return 2
    except (ManifestError, MixtureError) as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 2
    except (StageError, StorageError) as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
