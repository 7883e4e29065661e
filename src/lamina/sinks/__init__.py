"""Where images go: one module per output, the same verb each (``write``/``load``)."""
