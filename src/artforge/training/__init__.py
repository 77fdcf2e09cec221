"""The one training loop and what it needs: checkpoints, EMA, precision, distributed, callbacks, tasks."""
