"""The edge, layer 3: the HTTP API (FastAPI: `main`, `routes/`, the error shape, request
limits, the operation log, exports, report pages) and the `crm` command line (`cli/`).

They turn requests and arguments into commands and read-model queries, and may import
every layer below; nothing in those layers imports this folder."""
