"""sfncompile: the authoring API and client API under Metaflow's names.

Importing this package must stay fast and standard-library only: the same
names are what a flow imports inside a container. The compiler lives in
submodules (``sfncompile.frontend`` ...) and is never imported from here.
The public names (``__all__`` too) are ``sfncompile_runtime.api``'s, which
inside a task *is* this module; they resolve on first use, so importing the
compiler does not load the authoring API.
"""

__version__ = "0.1.0"


def __getattr__(name):
    from sfncompile_runtime import api

    if name == "__all__" or name in api.__all__:
        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sfncompile' has no attribute {name!r}")


def __dir__():
    from sfncompile_runtime import api

    return sorted(set(globals()) | set(api.__all__))
