"""Encrypted upload vs plain write + fsync (goal: ≥ 0.8×, DESIGN.md).

    QIYUE_DATA_DIR=/tmp/x .venv/bin/python bench/upload.py [--files 20] [--mb 5] [--rounds 3]

Both sides write the same random bytes to the same disk (the data folder): the baseline
writes each file and fsyncs it; ``put_blob`` hashes, encrypts (chunked AES-256-GCM), writes
and fsyncs the ciphertext, renames it into the blob folder, fsyncs the directory and
inserts the row. Rounds alternate so neither side profits from a warm cache; the best
round of each is compared. Without QIYUE_DATA_DIR a temporary folder is used.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def _setup() -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import generate  # bench/generate.py: the shared setup (local blob folder, migrated)

    generate.setup(temp_prefix="qiyue-bench-upload-")
    from django.conf import settings

    return Path(settings.DATA_DIR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data_dir = _setup()

    from qiyue.documents.blobs import put_blob
    from qiyue.documents.models import Blob

    size = int(args.mb * 1024 * 1024)
    total_mb = args.files * size / 1024 / 1024
    raw_dir = data_dir / "bench-raw"
    raw_dir.mkdir(exist_ok=True)

    def plain(payloads: list[bytes]) -> float:
        start = time.perf_counter()
        for i, data in enumerate(payloads):
            with open(raw_dir / f"{i}.bin", "wb", buffering=0) as fh:
                fh.write(data)
                os.fsync(fh.fileno())
        return time.perf_counter() - start

    def encrypted(payloads: list[bytes]) -> float:
        import io

        start = time.perf_counter()
        for data in payloads:
            put_blob(io.BytesIO(data))
        return time.perf_counter() - start

    plain_times: list[float] = []
    enc_times: list[float] = []
    for round_no in range(args.rounds):
        # Fresh random content every round: put_blob would otherwise deduplicate.
        payloads = [os.urandom(size) for _ in range(args.files)]
        if round_no % 2:  # alternate the order: neither side always follows the other
            t_enc = encrypted(payloads)
            t_plain = plain(payloads)
        else:
            t_plain = plain(payloads)
            t_enc = encrypted(payloads)
        plain_times.append(t_plain)
        enc_times.append(t_enc)
        print(
            f"round {round_no + 1}: plain {total_mb / t_plain:8.1f} MB/s   "
            f"encrypted {total_mb / t_enc:8.1f} MB/s"
        )
    assert Blob.objects.count() == args.files * args.rounds
    print(f"data folder: {data_dir}; {os.cpu_count()} CPUs")
    print(f"{args.files} files × {args.mb:g} MB per round, {args.rounds} rounds")
    for label, pick in (("best", min), ("median", statistics.median)):
        plain_rate = total_mb / pick(plain_times)
        enc_rate = total_mb / pick(enc_times)
        print(
            f"{label:>6}: plain write + fsync {plain_rate:7.1f} MB/s, "
            f"put_blob {enc_rate:7.1f} MB/s, ratio {enc_rate / plain_rate:.2f} (goal >= 0.80)"
        )


if __name__ == "__main__":
    main()
