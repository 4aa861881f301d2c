"""Command line: ``curate run``, ``curate filter``, ``curate demo``, ``curate demo-crawl``."""

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


def _demo(args: argparse.Namespace) -> int:
    from curate.demo.crawl import write_demo_crawl

    write_demo_crawl(args.crawl_dir)
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

    p = sub.add_parser("demo-crawl", help="write the embedded demo crawl (WARC + ground truth)")
    p.add_argument("--output", default="demo-data")
    p.set_defaults(func=_demo_crawl)

    p = sub.add_parser("demo", help="write the demo crawl and run the pipeline on it")
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
