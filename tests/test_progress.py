"""The per-stage console progress line, from Spark's status tracker."""

from curate.progress import Tasks, format_line, stage_progress


def test_progress_counts_the_stage_tasks(spark, capsys):
    with stage_progress(spark, "demo"):
        spark.sparkContext.parallelize(range(8), 4).map(lambda x: x + 1).collect()
    with stage_progress(spark, "other"):
        pass
    err = capsys.readouterr().err.splitlines()
    assert err[-2].startswith("[demo] 4/4 tasks, done in ")
    assert err[-1].startswith("[other] 0/0 tasks, done in ")  # jobs of 'demo' not counted
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None


def test_progress_line_rate_and_eta():
    line = format_line("dedup", Tasks(done=10, running=2, total=40), 5.0)
    assert line == "[dedup] 10/40 tasks, 2 running, 2.0 tasks/s, ETA 15s, 5s elapsed"
    assert "ETA ?" in format_line("dedup", Tasks(total=40), 1.0)
    assert "(1 failed attempts)" in format_line("x", Tasks(3, 0, 3, 1), 2.0, finished=True)
