"""Extraction, Spark-free: WARC/WET reading (``warc``), charset decoding (``decode``),
trafilatura with exact XPath speed-ups (``html``, ``fast_xpath``), one file to Arrow
record batches (``records``)."""
