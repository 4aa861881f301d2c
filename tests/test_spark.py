"""The session ``build_session`` makes for a local run."""

from __future__ import annotations

from curate.spark import LOCAL_JVM_OPTIONS


def test_local_jvm_compiles_with_the_client_compiler_only(spark):
    """A local run's one JVM (driver and executors) is started with C1 only: C2's
    compiling cost more CPU than its faster code saved (README, Whole pipeline), with
    tiered compilation's code cache, which C1's smaller default overflowed at 64x."""
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = list(runtime.getInputArguments())
    assert set(LOCAL_JVM_OPTIONS.split()) <= set(arguments), arguments
