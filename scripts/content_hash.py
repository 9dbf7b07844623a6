"""Print the content hash of everything a trained model depends on.

`make` retrains only when this changes: training data, domain, config, the custom NLU
components and the language module they use, and the engine's pinned packages.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

INPUTS = [
    "config.yml",
    "domain",
    "data",
    "bot/language",
    "bot/nlu",
    "requirements/engine.txt",
]


def content_hash(root: Path) -> str:
    """SHA-256 over the paths and bytes of every input file, in sorted order."""
    digest = hashlib.sha256()
    for name in INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if not file.exists() or "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


if __name__ == "__main__":
    print(content_hash(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
