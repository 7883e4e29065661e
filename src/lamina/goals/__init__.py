"""Goals: what a user asks lamina to do. Each module has ``register(subparsers)`` and ``run(args, project)``."""

GOALS = ("list", "dependencies", "dependents", "peek", "package", "publish", "layers", "generate_lockfiles", "tailor")
