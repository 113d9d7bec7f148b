"""Package layout (everything else is in pyproject.toml).

The design card keeps registrar/, resolver/ and entrypoints/ at the top of the repository; they
install *inside* arkouda_k8s (as arkouda_k8s.registrar, .resolver, .entrypoints) because a
top-level `entrypoints` module would shadow the PyPI package of that name that Jupyter needs.
The shared low layer and the test bed live in src/arkouda_k8s.
"""

from setuptools import find_packages, setup

TOP_LEVEL = ("registrar", "resolver", "entrypoints")

package_dir = {"": "src"}
packages = find_packages("src")
for folder in TOP_LEVEL:
    package_dir[f"arkouda_k8s.{folder}"] = folder
    packages.append(f"arkouda_k8s.{folder}")
    for sub in find_packages(folder):
        package_dir[f"arkouda_k8s.{folder}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"
        packages.append(f"arkouda_k8s.{folder}.{sub}")

setup(
    package_dir=package_dir,
    packages=packages,
    package_data={"arkouda_k8s": ["py.typed"], "arkouda_k8s.testing": ["**/*.json", "**/*.csv"]},
)
