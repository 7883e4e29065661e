"""Target types every repository has: resources and files."""
