"""Shipped as the package ``sfncompile.templates`` (see setup.py): read through
``importlib.resources.files("sfncompile.templates")``, from a wheel or a checkout."""
