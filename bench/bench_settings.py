"""Settings for benchmarks: the product's own, with URLs that add raw baselines served by
the same process (so the ratios compare like with like)."""

from qiyue.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
