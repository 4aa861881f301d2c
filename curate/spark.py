"""The one place a SparkSession is built."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from curate.config import SparkConfig

# In local mode one JVM is driver and executors, and its C2 compiler spent 37 of a 106 s
# run's CPU seconds (2 cores) compiling code that Python workers do the work around; the
# client compiler alone was faster at 1x (5-10 %) and 16x (4 %), as fast at 4x (README,
# Whole pipeline). C1 alone gets a 48 MB code cache, which a 64x run filled (the JVM then
# stops compiling): keep the 240 MB that tiered compilation has. A user's
# spark.driver.extraJavaOptions in `spark.conf` replaces both.
LOCAL_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"


def launched_by_spark_submit() -> bool:
    # spark-submit starts the Python driver with a gateway already open.
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_session(cfg: SparkConfig) -> SparkSession:
    """Local[*] by default; under spark-submit, keep the master and resources it was given."""
    # Workers must run this interpreter (with pyarrow, trafilatura ...), not python3 on PATH.
    python = os.environ.get("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_PYTHON", python)
    builder = SparkSession.builder.appName(cfg.app_name)
    settings: dict[str, str] = {}
    if not launched_by_spark_submit():
        builder = builder.master(cfg.master).config("spark.driver.memory", cfg.driver_memory)
        if cfg.master.startswith("local"):
            # A local run talks to itself only: bind to loopback, not the first interface.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            settings["spark.driver.extraJavaOptions"] = LOCAL_JVM_OPTIONS
    settings |= {
        "spark.pyspark.python": python,
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Timestamps are UTC everywhere, whatever the machine's zone.
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.ui.enabled": str(cfg.ui).lower(),
        "spark.ui.showConsoleProgress": "false",
        # Our tasks are one WARC file each: no speculative duplicates of expensive work.
        "spark.speculation": "false",
        # Stage tables are read by naming their files (never listing a folder); past this
        # many files Spark would stat them in a Spark job of its own, on every read.
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    }
    settings.update(cfg.conf)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
