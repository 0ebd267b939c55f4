"""sfncompile: the authoring API and client API under Metaflow's names.

Importing this package must stay fast and standard-library only: the same
names are what a flow imports inside a container. The compiler lives in
submodules (``sfncompile.frontend`` ...) and is never imported from here.
"""
