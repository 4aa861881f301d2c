"""Command line: ``curate run``, ``filter``, ``train-lm``, ``calibrate-perplexity``, ``demo``,
``demo-crawl``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from curate.config import ConfigError, load_config


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", nargs="+", help="override input.paths (globs, URLs or listings)")
    p.add_argument("--output", help="override output.dir")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, e.g. --set extract.timeout_s=2 (repeatable)",
    )


def _run(args: argparse.Namespace) -> int:
    from curate.pipeline import run, summary

    cfg = load_config(args.config, args.overrides, args.input, args.output)
    stats = run(cfg, source=str(args.config))
    print(summary(stats))
    return 0


def _filter(args: argparse.Namespace) -> int:
    from curate.pipeline import refilter, summary

    cfg = load_config(args.config, args.overrides, None, args.output)
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


def _calibrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from curate.perplexity.buckets import compute_cutoffs, write_cutoffs
    from curate.spark import build_session

    cfg = load_config(args.config, args.overrides)
    annotated = Path(args.signals) / "stages" / "annotate"
    if not annotated.is_dir():
        raise ConfigError(f"--signals {args.signals}: no annotate output ({annotated} missing)")
    spark = build_session(cfg.spark)
    cutoffs = compute_cutoffs(spark.read.parquet(str(annotated)), args.sample)
    output = args.output or str(Path(args.signals) / "perplexity_cutoffs.json")
    write_cutoffs(output, cutoffs, str(annotated))
    for lang, c in cutoffs.items():
        print(f"{lang:<6} p30 {c['p30']:>10.1f}  p60 {c['p60']:>10.1f}  ({c['documents']:,} docs)")
    print(f"cut-offs written to {output}; use them with --set perplexity.cutoffs={output}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from curate.demo.crawl import write_demo_crawl
    from curate.perplexity.train import train_lm

    write_demo_crawl(args.crawl_dir)
    crawl = Path(args.crawl_dir)
    train_lm([str(crawl / "reference.txt")], "en", crawl / "models" / "en")
    return _run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="curate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the pipeline described by a YAML config")
    p.add_argument("config")
    _add_run_options(p)
    p.set_defaults(func=_run)

    p = sub.add_parser(
        "filter", help="re-apply thresholds over the stored signals of an earlier run"
    )
    p.add_argument("config")
    p.add_argument("--signals", required=True, metavar="DIR", help="output dir of an earlier run")
    p.add_argument("--output", help="override output.dir (default: the config's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=_filter)

    p = sub.add_parser("train-lm", help="train a SentencePiece + KenLM perplexity model")
    p.add_argument("--text", nargs="+", required=True, help="training text files or globs")
    p.add_argument("--lang", required=True)
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--order", type=int, default=5)
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument(
        "--prune", type=int, nargs="+", default=[0, 0, 1], help="lmplz --prune per order"
    )
    p.set_defaults(func=_train_lm)

    p = sub.add_parser(
        "calibrate-perplexity", help="per-language perplexity cut-offs of an earlier run"
    )
    p.add_argument("config")
    p.add_argument("--signals", required=True, metavar="DIR", help="output dir of a run")
    p.add_argument("--sample", type=float, default=0.1, help="fraction of scored documents")
    p.add_argument("--output", help="cut-offs JSON (default DIR/perplexity_cutoffs.json)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=_calibrate)

    p = sub.add_parser("demo-crawl", help="write the embedded demo crawl (WARC + ground truth)")
    p.add_argument("--output", default="demo-data")
    p.set_defaults(func=_demo_crawl)

    p = sub.add_parser(
        "demo", help="write the demo crawl, train its language model, run the pipeline on it"
    )
    p.add_argument("--config", default="configs/demo.yaml")
    p.add_argument("--crawl-dir", default="demo-data")
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


if __name__ == "__main__":
    sys.exit(main())
