"""The studio's HTTP routes, one module per page of the studio."""

from typing import Annotated

from fastapi import Path

MAX_ID = 2**63 - 1                  # SQLite's INTEGER: a larger number cannot name a row
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id")]
