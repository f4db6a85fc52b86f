"""Event handlers that write the read models, layer 2: each projection has a name, the
events it handles, and runs in batches that commit its rows together with its tracking
position; the runner catches up, rebuilds into a new version, and parks what fails.

Imports the aggregates (their events) and the read models' tables and helpers (the same
layer); never the API or the workers. Below it, only `commands.bootstrap` imports it."""
