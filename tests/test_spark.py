"""The session ``build_session`` makes for a local run."""

from __future__ import annotations

from curate.spark import LOCAL_JVM_OPTIONS


def test_local_jvm_compiles_with_the_client_compiler_only(spark):
    """A local run's one JVM (driver and executors) is started with C1 only: C2's
    compiling cost more CPU than its faster code saved (README, Whole pipeline)."""
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    assert LOCAL_JVM_OPTIONS in list(runtime.getInputArguments())
