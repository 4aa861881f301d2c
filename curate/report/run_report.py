"""Write OUTPUT/report/: its data (data.json), the figures and index.html (drawn in a
local scratch folder, then copied through the storage layer, index.html last).

Most of the report (the signals' histograms, samples, languages, perplexity) comes from
the filter stage alone: a thread collects and draws that part as soon as the stage is
done, while the later stages run (their many small Spark jobs leave cores idle, and the
driver's Python waits on them); the rest follows the last stage. Each part's data is
reused from data.json while the stage outputs it comes from are unchanged (the filter
stage's key, the run's last stage key)."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from curate.report.data import FILTER_PART, collect, collect_filter
from curate.report.html import filter_sections, render
from curate.runner import Context, Stage
from curate.storage import join

DATA_FILE = "data.json"
JOB_GROUP = "curate-report"


class Report:
    """The report of one run: ``after`` each stage, ``finish`` after the last; used as a
    context manager, which stops the filter part's jobs if the run fails before."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.folder = join(ctx.out, "report")
        self._scratch = tempfile.TemporaryDirectory(prefix="curate-report-")
        self._stored: dict[str, Any] | None = None
        self._filter_key = ""
        self._filtered: tuple[dict[str, Any], str] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Report:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._thread is not None and self._thread.is_alive():
            self.ctx.spark.sparkContext.cancelJobGroup(JOB_GROUP)
            self._thread.join()
        self._scratch.cleanup()

    def after(self, stage: Stage) -> None:
        """Begin the filter part in a thread once the filter stage is done (run or reused)."""
        if stage.name != "filter":
            return
        result = self.ctx.results["filter"]
        assert result.stats is not None
        self._filter_key = result.key
        self._stored = self.ctx.st.read_json_or_none(join(self.folder, DATA_FILE))
        steps = [s.to_json() for s in stage.steps(result.stats)]
        self._thread = threading.Thread(
            target=self._draw_filter_part, args=(steps, result.report), name=JOB_GROUP
        )
        self._thread.start()

    def _draw_filter_part(self, steps: list[dict[str, Any]], report: dict[str, Any]) -> None:
        try:
            stored = self._stored
            if stored is not None and stored.get("filter_key") == self._filter_key:
                data = {k: stored["data"][k] for k in FILTER_PART}
            else:
                # Its own job group (a thread's Spark properties are its own).
                self.ctx.spark.sparkContext.setJobGroup(JOB_GROUP, "curate report")
                data = collect_filter(self.ctx, steps, report)
            self._filtered = data, filter_sections(data, Path(self._scratch.name))
        except BaseException as exc:  # raised again by finish, in the run's thread
            self._error = exc

    def finish(self, stats: dict[str, Any], manifest: dict[str, Any] | None, key: str) -> str:
        """Write the report; ``key`` identifies the stage outputs the data is computed
        from. Returns index.html's path."""
        assert self._thread is not None  # every run has a filter stage
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._filtered is not None
        filtered, sections = self._filtered
        stored, st, scratch = self._stored, self.ctx.st, Path(self._scratch.name)
        if stored is not None and stored.get("key") == key:
            data = stored["data"]
        else:
            data = collect(self.ctx, stats, manifest, filtered)
        index = render(data, stats, scratch, sections)
        for path in sorted(scratch.iterdir(), key=lambda p: p == index):
            st.write_bytes(join(self.folder, path.name), path.read_bytes())
        st.write_json(
            join(self.folder, DATA_FILE), {"key": key, "filter_key": self._filter_key, "data": data}
        )
        return join(self.folder, "index.html")
