"""The optional C extension (affinity/_speedups.c); everything else is in pyproject.toml.

Without a C compiler (or Python headers) the extension is skipped, the install still
succeeds and ``ignite_router.affinity`` uses its pure-Python hashes (``ACCELERATED`` is
then false).
"""

from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` that lists only extensions it really built.

    A strict editable install links every listed output into its link tree; setuptools
    lists an optional extension even when it failed to build, and the install then fails
    on the missing file.
    """

    def get_output_mapping(self) -> dict[str, str]:
        mapping = super().get_output_mapping()
        return {built: target for built, target in mapping.items() if Path(built).exists()}


setup(
    ext_modules=[
        Extension(
            "ignite_router.affinity._speedups",
            sources=["affinity/_speedups.c"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
