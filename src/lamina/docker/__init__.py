"""Dockerfiles read and built without a Docker daemon: parsed by BuildKit's own parser
(the ``dockerfile`` package), words expanded as Docker expands them, and every
instruction but ``RUN`` applied by lamina; a stage that runs commands is handed to an
installed engine."""
