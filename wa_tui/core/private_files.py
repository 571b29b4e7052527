"""Files only their owner may read (bundles, reports): 0600 from the first byte, so no
other user on a shared bastion ever catches one half-written and readable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def open_private(path: Path) -> Iterator[BinaryIO]:
    """`path` opened for writing (emptied), 0600 even if it was there with wider rights."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        yield handle


def write_private(path: Path, text: str) -> None:
    with open_private(path) as handle:
        handle.write(text.encode())
