"""A small contract-checked cut of the recorded snapshots for model tests."""

from dataclasses import replace

from models.level_net import LevelNetConfig

# The first snapshot times cover about two days of hourly levels.
CUT_SNAPSHOTS = 14

TINY = LevelNetConfig(
    window_h=12,
    min_readings=4,
    hidden_size=8,
    epochs=2,
    batch_size=128,
    seed=3,
)


def tiny(**changes) -> LevelNetConfig:
    """The tiny test config with some fields changed."""
    return replace(TINY, **changes)
