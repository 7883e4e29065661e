"""The Python backend: sources, requirements and ``python_image``."""
