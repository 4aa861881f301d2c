"""spark-submit entry point: ``spark-submit jobs/pipeline.py --config CONFIG [options]``.

Takes the same options as ``curate run``; the master and resources come from spark-submit.
"""

import argparse
import sys

from curate.cli import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="jobs/pipeline.py")
    parser.add_argument("--config", required=True)
    known, rest = parser.parse_known_args()
    sys.exit(main(["run", known.config, *rest]))
