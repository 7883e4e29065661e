"""Unit tests share ``fake_registry`` (an in-process registry); this file puts their directory on the path."""
