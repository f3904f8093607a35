"""Studies: one module per experiment, each ``Config`` + ``run(config, workdir) -> metrics``.

Run them with ``hepjax run configs/<name>.yaml``; list them with ``hepjax list``.
"""
