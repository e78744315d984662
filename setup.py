"""The wheel's only import name is `bwclab`. The shipped scenarios and fixtures stay at the repository's top, where
a reader looks for them, and are installed inside the package as `bwclab/scenarios` and `bwclab/fixtures`."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["bwclab", "bwclab.*"]), "bwclab.scenarios", "bwclab.fixtures"],
    package_dir={"bwclab.scenarios": "scenarios", "bwclab.fixtures": "fixtures"},
    package_data={
        "bwclab.scenarios": ["*.yaml"],
        "bwclab.fixtures": ["*.yaml", "*.md", "requirements/*.yaml", "profiles/*.yaml", "nightly/*.yaml",
                            "records/*.csv", "records/*.yaml", "options/*.yaml"],
    },
)
