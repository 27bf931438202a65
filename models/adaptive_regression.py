"""Adaptive upstream regression: a level forecaster refitted at every issue.

For each gauge and each hour ``k`` after its last reading, the change of level
over ``k`` hours is regressed (ridge least squares) on what the gauge and its
upstream gauges did just before:

- the gauge's own change over the last 3, 6 and 24 hours;
- its change over the same ``k`` hours one day earlier, which carries a
  daily cycle such as a dam's release pattern (left out for k > 24, where
  that day is not over yet);
- the change over the last 6 and 24 hours at up to ``max_upstream`` gauges on
  the same river (CWC's river name) whose median level is higher: water flows
  downhill, so these are upstream. The nearest in level are taken.

The fit uses only the gauge's own readings in the last ``window_h`` hours
before the issue, so nothing is learned from the future and a gauge never seen
before is forecast like any other once it has ``min_samples`` usable hours.

Each fit is checked before it is used. It is first fitted without the targets
of the last ``check_h`` hours and scored on them against persistence (no
change). Where it does worse than persistence there, the forecast for that
gauge and hour is persistence. The p10 and p90 are the median plus the 10 %
and 90 % quantiles of those held-back errors, so the band is as wide as the
chosen forecast's recent errors, not an assumed distribution. The band is
widened by ``1 + k / band_growth_h``: the held-back hours hold few independent
errors at long leads (consecutive errors of one gauge are alike), so their
quantiles are too narrow. NOTE: the 12 h growth was read off the backtest's
issues of 2026-08-03 and 04 (before its held-out time), where raw bands held
52 to 68 % of the observations instead of 80 %.

A gauge with too few usable hours, or whose last reading is more than
``max_age_h`` old, gets the persistence-and-trend baseline, and its ``model``
column names the baseline.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import ClassVar

import numpy as np
import pandas as pd

from models.baseline import PersistenceTrendForecaster, hourly_grid, overwrite_rows

logger = logging.getLogger(__name__)

OWN_LAGS_H = (3, 6, 24)
UPSTREAM_LAGS_H = (6, 24)
# Levels are carried forward this many hours to fill a missing input hour.
FILL_LIMIT_H = 3
# Period of the daily cycle input [h]; beyond it the input is left at zero.
CYCLE_H = 24


@dataclass(frozen=True)
class RegressionConfig:
    """Settings of the adaptive regression (see the module docstring)."""

    window_h: int = 240
    check_h: int = 72
    max_lead_h: int = 24
    max_age_h: int = 24
    max_upstream: int = 2
    ridge: float = 1.0
    min_samples: int = 36
    min_check_samples: int = 24
    min_band_m: float = 0.01
    band_growth_h: float = 12.0

    def to_dict(self) -> dict:
        """Return the settings as plain JSON values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> RegressionConfig:
        """Build settings from :meth:`to_dict`'s output; unknown keys raise TypeError."""
        return cls(**values)


@dataclass
class AdaptiveRegressionForecaster:
    """Per-gauge ridge regression refitted at each issue; see the module."""

    config: RegressionConfig = field(default_factory=RegressionConfig)
    version: str = "unversioned"
    fallback: PersistenceTrendForecaster = field(
        default_factory=PersistenceTrendForecaster
    )
    prefix: ClassVar[str] = "upstream_regression"

    @property
    def name(self) -> str:
        """Model name written in the ``model`` column: prefix and version."""
        return f"{self.prefix}-{self.version}"

    @property
    def history_h(self) -> int:
        """Hours of accepted history the caller must pass to :meth:`predict`."""
        return self.config.window_h + 1

    def predict(
        self,
        history: pd.DataFrame,
        *,
        issued_at: datetime,
        lead_times_h: Iterable[int] = range(1, 25),
        stations: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecast every gauge with a recent reading.

        Parameters
        ----------
        history
            Accepted levels: ``station_code``, ``observed_at`` (UTC),
            ``level_m`` [m], for at least :attr:`history_h` hours.
        issued_at
            Issue time, timezone-aware; later readings are ignored.
        lead_times_h
            Lead times after ``issued_at`` [h], at most ``config.max_lead_h``.
        stations
            ``station_code`` and ``river``; without it no gauge has upstream
            gauges.

        Returns
        -------
        pandas.DataFrame
            Columns of :data:`models.baseline.FORECAST_COLUMNS`, the baseline's
            rows overwritten where the regression serves.
        """
        leads = np.asarray(list(lead_times_h), dtype="int64")
        if leads.size and leads.max() > self.config.max_lead_h:
            raise ValueError(
                f"lead time {int(leads.max())} h is beyond this model's "
                f"{self.config.max_lead_h} h; request leads of 1 to {self.config.max_lead_h} h"
            )
        frame = self.fallback.predict(history, issued_at=issued_at, lead_times_h=leads)
        if frame.empty:
            return frame
        grid = hourly_grid(history, issued_at=issued_at, window_h=self.config.window_h)
        upstream = upstream_indices(
            grid.station_codes, grid.levels_m, stations, self.config.max_upstream
        )
        p10, p50, p90, served = regression_quantiles(
            grid.levels_m, upstream, leads, self.config
        )
        # A gauge the baseline left out (no reading for two days) stays out.
        served &= np.isin(grid.station_codes, frame["station_code"].unique())
        quantiles = np.stack([p10, p50, p90], axis=-1)[served]
        frame = overwrite_rows(
            frame, grid.station_codes[served], leads, quantiles, self.name
        )
        logger.info(
            "%s: regression served %d of %d gauges issued at %s",
            self.name,
            int(served.sum()),
            len(served),
            issued_at,
        )
        return frame


def upstream_indices(
    codes: np.ndarray,
    levels_m: np.ndarray,
    stations: pd.DataFrame | None,
    max_upstream: int,
) -> list[list[int]]:
    """Find the rows of ``levels_m`` upstream of each row: same river, higher median.

    The candidates nearest in median level come first, at most
    ``max_upstream`` of them.
    """
    found: list[list[int]] = [[] for _ in codes]
    if stations is None or "river" not in stations or max_upstream <= 0:
        return found
    rivers = (
        stations.assign(_key=stations["river"].map(_river_key))
        .drop_duplicates("station_code")
        .set_index("station_code")["_key"]
    )
    river = pd.Series(codes).map(rivers).to_numpy(dtype=object)
    with _quiet_nan_warnings():
        median_m = np.nanmedian(levels_m, axis=1)
    for row, name in enumerate(river):
        if not isinstance(name, str) or np.isnan(median_m[row]):
            continue
        same = [
            other
            for other in range(len(codes))
            if other != row and river[other] == name and median_m[other] > median_m[row]
        ]
        same.sort(key=lambda other: median_m[other] - median_m[row])
        found[row] = same[:max_upstream]
    return found


def regression_quantiles(
    levels_m: np.ndarray,
    upstream: list[list[int]],
    leads_h: np.ndarray,
    config: RegressionConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Compute p10, p50, p90 of shape (gauge, lead) and which gauges the fit serves.

    ``levels_m`` is the hourly grid, one row per gauge, the last column the
    issue hour. Rows not served are NaN.
    """
    n_gauges, width = levels_m.shape
    filled = pd.DataFrame(levels_m.T).ffill(limit=FILL_LIMIT_H).to_numpy().T
    last_col = _last_observed(levels_m)
    age_h = width - 1 - last_col
    served = (last_col >= 0) & (age_h <= config.max_age_h)
    design = _design(filled, upstream, config.max_upstream)
    shape = (n_gauges, leads_h.size)
    p10, p50, p90 = (np.full(shape, np.nan) for _ in range(3))
    enough = np.zeros(n_gauges, dtype=bool)
    for hours_ahead in np.unique(leads_h[None, :] + age_h[served, None]):
        fit = _fit_lead(levels_m, filled, design, last_col, int(hours_ahead), config)
        targets = (leads_h[None, :] + age_h[:, None]) == hours_ahead
        for quantile, out in zip(fit[:3], (p10, p50, p90), strict=True):
            out[targets] = np.broadcast_to(quantile[:, None], shape)[targets]
        enough |= fit[3] & targets.any(axis=1)
    served &= enough & ~np.isnan(p50).any(axis=1)
    return p10, p50, p90, served


def _design(filled: np.ndarray, upstream: list[list[int]], max_upstream: int):
    """Build the inputs that do not depend on the lead: own and upstream changes [m].

    Shape (gauge, hour, feature); a missing upstream gauge gives zeros.
    """
    n_gauges, width = filled.shape
    own = [_change(filled, lag) for lag in OWN_LAGS_H]
    columns = own[:]
    for slot in range(max_upstream):
        for lag in UPSTREAM_LAGS_H:
            change = _change(filled, lag)
            column = np.zeros((n_gauges, width))
            for row, ups in enumerate(upstream):
                if slot < len(ups):
                    column[row] = np.nan_to_num(change[ups[slot]])
            columns.append(column)
    return np.stack(columns, axis=2)


def _fit_lead(levels_m, filled, design, last_col, hours_ahead: int, config):
    """Fit, check and apply the regression for one number of hours ahead.

    Returns p10, p50, p90 per gauge [m] (NaN where not served) and whether
    each gauge had enough samples.
    """
    n_gauges, width = levels_m.shape
    cycle = np.zeros((n_gauges, width))
    if hours_ahead <= CYCLE_H < width:
        # change over the same hours one day earlier: x[t+k-24] - x[t-24]
        cycle[:, :CYCLE_H] = np.nan
        cycle[:, CYCLE_H:] = (
            filled[:, hours_ahead : width - CYCLE_H + hours_ahead]
            - filled[:, : width - CYCLE_H]
        )
    inputs = np.concatenate([design, cycle[:, :, None]], axis=2)
    target = np.full((n_gauges, width), np.nan)
    target[:, : width - hours_ahead] = (
        levels_m[:, hours_ahead:] - levels_m[:, :-hours_ahead]
    )
    usable = ~np.isnan(target) & ~np.isnan(inputs).any(axis=2)
    inputs = np.nan_to_num(inputs)
    target_col = np.arange(width)[None, :] + hours_ahead
    checked = usable & (target_col > (last_col[:, None] - config.check_h))
    early = usable & ~checked

    weights_early = _ridge(inputs, target, early, config.ridge)
    weights_all = _ridge(inputs, target, usable, config.ridge)
    fitted = np.einsum("ghf,gf->gh", inputs, weights_early)
    error_fit = np.where(checked, target - fitted, np.nan)
    error_still = np.where(checked, target, np.nan)
    with _quiet_nan_warnings():
        mae_fit = np.nanmean(np.abs(error_fit), axis=1)
        mae_still = np.nanmean(np.abs(error_still), axis=1)
    use_fit = mae_fit < mae_still
    errors = np.where(use_fit[:, None], error_fit, error_still)
    with _quiet_nan_warnings():
        low, high = np.nanquantile(errors, [0.1, 0.9], axis=1)

    rows = np.arange(n_gauges)
    latest_inputs = inputs[rows, np.clip(last_col, 0, width - 1)]
    change = np.einsum("gf,gf->g", latest_inputs, weights_all)
    # A fit pulled by a few wrong readings must not forecast a change larger
    # than the gauge's usual changes over the same hours.
    with _quiet_nan_warnings():
        lowest, highest = np.nanquantile(
            np.where(usable, target, np.nan), [0.01, 0.99], axis=1
        )
    change = np.where(use_fit, np.clip(change, lowest, highest), 0.0)
    base = levels_m[rows, np.clip(last_col, 0, width - 1)]
    p50 = base + change
    widening = 1.0 + hours_ahead / config.band_growth_h
    p10 = p50 + np.minimum(widening * low, -config.min_band_m)
    p90 = p50 + np.maximum(widening * high, config.min_band_m)
    enough = (early.sum(axis=1) >= config.min_samples) & (
        checked.sum(axis=1) >= config.min_check_samples
    )
    for out in (p10, p50, p90):
        out[~enough | (last_col < 0)] = np.nan
    return p10, p50, p90, enough


def _ridge(inputs, target, mask, ridge: float) -> np.ndarray:
    """Solve the ridge weights per gauge from the masked rows: (gauge, feature)."""
    weighted = inputs * mask[:, :, None]
    gram = np.einsum("ghf,ghe->gfe", weighted, inputs)
    gram += ridge * np.eye(inputs.shape[2])[None]
    moment = np.einsum("ghf,gh->gf", weighted, np.nan_to_num(target))
    return np.linalg.solve(gram, moment[:, :, None])[:, :, 0]


def _change(filled: np.ndarray, lag_h: int) -> np.ndarray:
    """Compute the change over the last ``lag_h`` hours at every hour (NaN at first)."""
    out = np.full(filled.shape, np.nan)
    out[:, lag_h:] = filled[:, lag_h:] - filled[:, :-lag_h]
    return out


def _last_observed(levels_m: np.ndarray) -> np.ndarray:
    """Find the column of each row's last reading, -1 where the row has none."""
    seen = ~np.isnan(levels_m)
    last = levels_m.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
    return np.where(seen.any(axis=1), last, -1)


def _river_key(name) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    return "".join(name.lower().split())


@contextlib.contextmanager
def _quiet_nan_warnings():
    """Silence numpy's warnings for rows that are all NaN (they stay NaN)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", category=RuntimeWarning)
        yield
