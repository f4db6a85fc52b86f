"""Event → read-model row changes. Each projection has a name, the events it handles,
and runs in batches that commit its rows together with its tracking position."""
