"""The one compiled part: the media engine's per-packet work (sip_checks/toolkit/_rtpcore.c).

Everything else is in pyproject.toml. The extension is optional: without a C compiler the
engine runs its pure-Python reference path (twice the CPU of SIPp and more at 120 calls,
bench/calls_vs_sipp.py), and `recette` says so.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "sip_checks.toolkit._rtpcore", ["sip_checks/toolkit/_rtpcore.c"],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                        "-Wno-cast-function-type"],
    optional=True)])
