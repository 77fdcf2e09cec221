"""The studio's HTTP routes, one module per page of the studio."""
