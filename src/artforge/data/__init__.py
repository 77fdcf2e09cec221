"""Image folders as training data: check a folder, load it (cached) as tensors, the built-in set.

>>> from artforge.data import DataConfig
>>> DataConfig().resolution
64
"""

from .builtin import builtin_folder, generate_image
from .check import BadFile, CheckReport, DataConfig, Duplicate, FileEntry, check_config, check_folder
from .dataset import (
    CACHE_VERSION,
    ImageDataset,
    build_manifest,
    cache_root,
    load_dataset,
    manifest_sha256,
    resolve_data_path,
)

__all__ = [
    "CACHE_VERSION",
    "BadFile",
    "CheckReport",
    "DataConfig",
    "Duplicate",
    "FileEntry",
    "ImageDataset",
    "build_manifest",
    "builtin_folder",
    "cache_root",
    "check_config",
    "check_folder",
    "generate_image",
    "load_dataset",
    "manifest_sha256",
    "resolve_data_path",
]
