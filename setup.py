"""Build the optional C extension; all other metadata is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "vault.hashing._sha256_lanes",
            sources=["vault/hashing/_sha256_lanes.c"],
            extra_compile_args=["-O3"],
            # Without a C compiler or the Python headers the install goes on, and
            # vault.hashing.lanes falls back to hashlib.
            optional=True,
        )
    ],
)
