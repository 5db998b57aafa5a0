"""A bad data file is found before the output file exists: exit 2, one line naming the file, no
output file, and an existing file left untouched even with --force. `settle validate` finds it too."""
import gzip
import shutil
import struct

import numpy as np

import pytest

from conftest import SOURCE

DATA = "/usr/share/datasets/fashion-mnist"
FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]


def bad_data_dir(tmp_path, kind):
    d = tmp_path / f"data_{kind}"
    d.mkdir()
    for name in FILES:
        if kind == "missing" and name.startswith("train-images"):
            continue
        if kind == "garbage" and name.startswith("train-images"):
            (d / name).write_bytes(b"not an idx file at all")
            continue
        if kind == "liar" and name.startswith("train-images"):
            # The header claims 200 million 28x28 images; ten are present. Memory must follow the data.
            header = bytes([0, 0, 0x08, 3]) + struct.pack(">III", 200_000_000, 28, 28)
            (d / name).write_bytes(gzip.compress(header + bytes(10 * 28 * 28)))
            continue
        if kind == "nan" and name.startswith("train-images"):
            pixels = np.zeros((60000, 28, 28), dtype=">f4")
            pixels[3, 4, 5] = np.nan
            header = bytes([0, 0, 0x0D, 3]) + struct.pack(">III", 60000, 28, 28)
            (d / name).write_bytes(gzip.compress(header + pixels.tobytes(), compresslevel=1))
            continue
        shutil.copy(f"{DATA}/{name}", d / name)
    return d


CASES = [
    ("circuit_fmnist.toml", "task.data_dir"),
    ("fmnist_bp.toml", "data.dir"),
]


@pytest.mark.parametrize("config, key", CASES)
@pytest.mark.parametrize("kind", ["missing", "garbage", "liar", "nan"])
def test_bad_data_leaves_no_file(settle, tmp_path, config, key, kind):
    data = bad_data_dir(tmp_path, kind)
    out = tmp_path / "out.h5"
    args = ["run", SOURCE / "examples" / config, "--set", f'{key}="{data}"', "--out", out, "-q"]
    proc = settle(*args, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("settle: error: ") and "train-images" in lines[0], lines
    assert not out.exists()
    # An existing file is not touched, even with --force.
    out.write_bytes(b"earlier result")
    assert settle(*args, "--force", check=False).returncode == 2
    assert out.read_bytes() == b"earlier result"
    val = settle("validate", SOURCE / "examples" / config, "--set", f'{key}="{data}"', check=False)
    assert val.returncode == 2, val.stderr
    val_lines = [line for line in val.stderr.splitlines() if line.strip()]
    assert len(val_lines) == 1 and val_lines[0].startswith("settle: error: ") and "train-images" in val_lines[0], val_lines
