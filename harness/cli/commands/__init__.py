"""One module per ``hil`` subcommand.

Each module defines ``register(subparsers)``, which adds its parser and sets ``func`` with
``parser.set_defaults(func=run)``; ``run(args) -> int`` returns the exit status. Modules are found
by name, so adding a command is adding a file. Import heavy libraries inside ``run``, not at
module level: every ``hil`` call imports every command module.
"""
