"""Third-party Python: read locks, know the target platform, pick, fetch, build and install locked distributions."""
