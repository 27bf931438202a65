"""Backtest: replay recorded snapshots on a simulated clock and score the forecasts.

:func:`argus.backtest.run.run_backtest` is the entry point; ``simulate`` runs
the clock through the nowcast's own steps, ``skill`` scores forecasts against
the truth and CWC's official forecasts, and ``circles`` compares the villages
at WARNING or above with the revenue circles that reports say were affected.
"""
