"""The build graph: addresses, BUILD files, targets and their (inferred) dependencies."""
