"""Where images go: one module per output, each a ``Sink`` (``lamina.sinks.named``) that
is opened for a run, given each image with ``put``, and closed: the shared OCI layout
(``layout``), per-image tarballs (``tarball``), the Docker engine (``daemon``). Registry
pushes (``registry``) go through ``publish``."""
