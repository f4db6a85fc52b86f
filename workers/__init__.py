"""The distributed mode's processes, layer 3: dramatiq actors over Redis that run the
projections on each kick from the API and by polling the event store, and the scheduler's
periodic jobs (catch-ups, the pool sweep), started by `crm worker` and `crm scheduler`.

They take the service from `commands.bootstrap`; nothing in the layers below imports them."""
