"""The ``docker_image`` target, with the fields Pants gives it."""

from lamina.graph.target import Field, TargetType

# Fields of Pants' docker_image that change how Pants drives the engine, not what the image is.
PANTS_DOCKER_FIELDS = tuple(
    Field(name, "Pants' field; lamina ignores it.")
    for name in (
        "build_network", "build_platform", "cache_from", "cache_to", "extra_build_hosts", "output", "pull",
        "restartable", "secrets", "squash", "ssh", "use_local_alias", "build_no_cache",
    )
)  # fmt: skip

TARGET_TYPES = [
    TargetType(
        "docker_image",
        "An OCI image built from a Dockerfile: by lamina, without a daemon, unless a stage it needs runs commands "
        "(RUN), which an installed engine (Docker or buildah) runs.",
        (
            Field("source", "The Dockerfile, relative to the BUILD file; default 'Dockerfile' (unless instructions)."),
            Field("instructions", "The Dockerfile's lines, instead of a source file.", ()),
            Field("image_tags", "Tags; templates: {build_args.NAME}, {pants.hash}.", ("latest",)),
            Field(
                "repository",
                "The repository; templates: {name}, {directory}, {parent_directory}, {full_directory}, "
                "{build_args.NAME}; default [docker] default_repository ('{name}').",
            ),
            Field(
                "registries",
                "Registries ('@alias' of [docker.registries.ALIAS], or an address).",
                ("<all default registries>",),
            ),
            Field("skip_push", "Build it, never publish it.", False),
            Field("target_stage", "The stage to build; default the last (or [docker] build_target_stage)."),
            Field(
                "context_root",
                "The build context's root: relative to the build root, or './...' to this BUILD file's directory; "
                "default [docker] default_context_root (the build root).",
            ),
            Field("extra_build_args", "More build args: NAME=value, or NAME to take from the environment.", ()),
            Field("image_labels", "Labels added to the image.", {}),
            *PANTS_DOCKER_FIELDS,
        ),
    ),
]
