"""`python -m api.cli`: the same command line as `crm`."""

from api.cli import app

app()
