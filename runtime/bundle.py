"""Opening a bundle, as a directory or as one ``.spkl`` file, and checking every byte of it.

A ``.spkl`` is an uncompressed zip of the directory: each member is stored as is, so
an app can memory-map assets straight out of the file.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import BundleError, BundleIntegrityError
from .manifest import MANIFEST, BundleManifest, parse_manifest

SUFFIX = ".spkl"


@dataclass
class Bundle:
    path: Path
    manifest: BundleManifest
    _zip: zipfile.ZipFile | None = None

    def read(self, name: str) -> bytes:
        try:
            if self._zip is not None:
                return self._zip.read(name)
            return (self.path / name).read_bytes()
        except (KeyError, FileNotFoundError):
            raise BundleIntegrityError(f"{self.path}: file {name!r} listed in {MANIFEST} is missing; "
                                       "re-export the bundle or copy it again") from None
        except (zipfile.BadZipFile, OSError) as e:
            raise BundleIntegrityError(f"{self.path}: cannot read {name!r} ({e}); copy the bundle again") from None

    def file_path(self, name: str) -> Path | None:
        """A path on disk for ``name`` when the bundle is a directory (for memory mapping)."""
        return None if self._zip is not None else self.path / name

    def verify(self) -> dict[str, str]:
        """Check every file's size and sha256 against the manifest; returns name -> "ok"."""
        report = {}
        for name, info in self.manifest.files.items():
            data = self.read(name)
            if len(data) != info["bytes"]:
                raise BundleIntegrityError(
                    f"{self.path}: {name} has {len(data)} bytes, the manifest says {info['bytes']} "
                    "(truncated or replaced); re-export the bundle or copy it again")
            if hashlib.sha256(data).hexdigest() != info["sha256"]:
                raise BundleIntegrityError(
                    f"{self.path}: {name} does not match its sha256 in {MANIFEST} (corrupted or modified); "
                    "re-export the bundle or copy it again")
            report[name] = "ok"
        return report

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def open_bundle(path: str | Path, verify: bool = True) -> Bundle:
    """Open and (by default) verify a bundle; ``verify=False`` is for assets checked before."""
    path = Path(path)
    zf = None
    if path.is_dir():
        raw = _read_manifest_file(path / MANIFEST, path)
    elif path.is_file():
        try:
            zf = zipfile.ZipFile(path)
            raw = zf.read(MANIFEST)
        except (zipfile.BadZipFile, KeyError, OSError) as e:
            raise BundleError(f"{path}: not a SpikeLite bundle ({type(e).__name__}: {e}); pass a bundle directory "
                              f"or a {SUFFIX} file made by spikelite export") from None
    else:
        raise BundleError(f"{path}: no such bundle; export one with `spikelite export CHECKPOINT -o {path}`")
    try:
        manifest = parse_manifest(json.loads(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleIntegrityError(f"{path}: {MANIFEST} is not valid JSON ({e}); re-export the bundle") from None
    bundle = Bundle(path, manifest, zf)
    if verify:
        bundle.verify()
    return bundle


def _read_manifest_file(manifest: Path, path: Path) -> bytes:
    if not manifest.is_file():
        raise BundleError(f"{path}: no {MANIFEST} inside, so this is not a SpikeLite bundle; "
                          f"export one with `spikelite export CHECKPOINT -o {path}`")
    return manifest.read_bytes()
