"""The stages, one module each: ``extract``, ``annotate``, ``filter``, ``dedup``, ``pii``,
``decontam``, ``publish``, ``mixture``. Each is a ``curate.runner.Stage``: a name (its
folder, stats.json stage, ``--from`` value and report section), the config sections it
reads, and ``run(ctx, table) -> Result``. ``curate.pipeline.STAGES`` puts them in order."""
