"""Installable package ovd_ext: open-vocabulary detection methods for MMDetection 3.x."""
from setuptools import find_packages, setup

setup(
    name='ovd_ext',
    version='0.1.0',
    description='Open-vocabulary and long-tailed detection methods for MMDetection 3.x',
    packages=find_packages(include=['ovd_ext', 'ovd_ext.*']),
    include_package_data=True,
    python_requires='>=3.10',
    install_requires=[],  # see requirements/; mmcv needs a source build (Makefile)
)
