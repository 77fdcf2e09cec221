"""The `artforge` command: one module per verb, each a thin call into a pipeline or the trainer."""
