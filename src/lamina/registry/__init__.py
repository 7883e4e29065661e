"""A client of the OCI distribution API: references, credentials and auth challenges, and
the transport that fetches and pushes manifests and blobs, every byte checked by digest."""
