"""The per-stage console progress line, from Spark's status tracker."""

from curate.progress import Tasks, format_line, stage_progress


def test_progress_counts_the_stage_tasks(spark, capsys):
    with stage_progress(spark, "demo"):
        spark.sparkContext.parallelize(range(8), 4).map(lambda x: x + 1).collect()
    with stage_progress(spark, "other"):
        pass
    err = capsys.readouterr().err.splitlines()
    assert err[-2].startswith("[demo] 4 tasks, done in ")
    assert err[-1].startswith("[other] 0 tasks, done in ")  # jobs of 'demo' not counted
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None


def test_progress_line_rate_and_eta():
    # An ETA only against a total the stage knew beforehand (extract: its files) ...
    line = format_line("extract", Tasks(done=10, running=2, total=12), 5.0, expected=40)
    assert line == "[extract] 10/40 tasks, 2 running, 2.0 tasks/s, ETA 15s, 5s elapsed"
    assert "ETA ?" in format_line("extract", Tasks(total=40), 1.0, expected=40)
    # ... not against the tracker's total, which grows as later jobs start.
    line = format_line("dedup", Tasks(done=49, running=0, total=49), 7.0)
    assert line == "[dedup] 49 tasks done, 0 running, 7.0 tasks/s, 7s elapsed"
    assert "ETA" not in format_line("extract", Tasks(done=41, total=45), 9.0, expected=40)
    assert "(1 failed attempts)" in format_line("x", Tasks(3, 0, 3, 1), 2.0, finished=True)
