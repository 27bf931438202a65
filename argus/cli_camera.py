"""The ``argus camera`` commands: build a staff-gauge calibration, score the reader."""

import json
from pathlib import Path
from typing import Annotated

import typer

camera_app = typer.Typer(help="Camera staff gauges.", no_args_is_help=True)


def _parse_corners(text: str) -> list[tuple[float, float]]:
    from argus.errors import ConfigurationError

    try:
        corners = [
            tuple(float(value) for value in pair.split(",")) for pair in text.split(";")
        ]
    except ValueError:
        corners = []
    if len(corners) != 4 or any(len(corner) != 2 for corner in corners):
        raise ConfigurationError(
            f"--corners {text!r} is invalid; expected four x,y pairs separated by "
            "';' (top-left;top-right;bottom-right;bottom-left)"
        )
    return corners


@camera_app.command("calibrate")
def camera_calibrate(
    frame: Annotated[Path, typer.Argument(help="Frame with the gauge mostly dry.")],
    camera_id: Annotated[str, typer.Option(help="Camera id (calibration name).")],
    station_code: Annotated[str, typer.Option(help="Code of its virtual gauge.")],
    corners: Annotated[
        str,
        typer.Option(
            help="Gauge face corners in frame pixels: "
            "x,y;x,y;x,y;x,y (top-left, top-right, bottom-right, bottom-left)."
        ),
    ],
    top_long_mark_cm: Annotated[
        float,
        typer.Option(
            help="Value printed at the topmost long mark in the corners [cm]."
        ),
    ],
    output: Annotated[Path, typer.Option(help="Calibration file to write.")],
    serves_station: Annotated[
        str | None, typer.Option(help="CWC station the camera serves.")
    ] = None,
    serves_village: Annotated[
        str | None, typer.Option(help="Village the camera serves.")
    ] = None,
    gauge_zero_m: Annotated[
        float | None, typer.Option(help="Surveyed level of the gauge's 0 cm [m].")
    ] = None,
    frame_name_format: Annotated[
        str | None, typer.Option(help="strptime format of frame file names.")
    ] = None,
    frame_timezone: Annotated[
        str, typer.Option(help="Time zone of frame names (IANA name).")
    ] = "UTC",
    frame_url: Annotated[
        str | None, typer.Option(help="Address of the camera's current frame.")
    ] = None,
    note: Annotated[
        list[str] | None, typer.Option(help="A note kept in the file (repeatable).")
    ] = None,
) -> None:
    """Build a camera's calibration from one frame and the gauge's own marks."""
    import cv2

    from argus.cli import FAILURES, _fail
    from argus.errors import InputError
    from models.gauge_calibration import build_calibration, save_calibration

    try:
        image = cv2.imread(str(frame), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise InputError(f"frame {str(frame)!r} is missing or not an image")
        calibration = build_calibration(
            image,
            camera_id=camera_id,
            station_code=station_code,
            gauge_corners=_parse_corners(corners),
            top_long_mark_cm=top_long_mark_cm,
            built_from=frame.name,
            serves_station_code=serves_station,
            serves_village_id=serves_village,
            gauge_zero_m=gauge_zero_m,
            frame_name_format=frame_name_format,
            frame_timezone=frame_timezone,
            frame_url=frame_url,
            notes=note or [],
        )
        save_calibration(calibration, output)
    except FAILURES as error:
        _fail(error)
    low, high = calibration.level_range_cm
    typer.echo(
        f"wrote {output}: {len(calibration.marks)} marks, "
        f"{low:.1f}..{high:.1f} cm, fit residual "
        f"{calibration.fit_residual_rms_cm:.3f} cm RMS"
    )


@camera_app.command("eval")
def camera_eval(
    images: Annotated[Path, typer.Option(help="Folder of frames.")],
    truth: Annotated[Path, typer.Option(help="CSV of recorded levels per frame.")],
    calibration: Annotated[Path, typer.Option(help="Camera calibration file.")],
    every: Annotated[
        int, typer.Option(min=1, help="Score every N-th frame (sorted by name).")
    ] = 1,
    offset: Annotated[int, typer.Option(min=0, help="First frame scored.")] = 0,
) -> None:
    """Print one JSON object: frames, read, read_fraction, mae_cm and details."""
    from argus.camera_eval import evaluate, load_truth, select_frames
    from argus.cli import FAILURES, _fail
    from models.gauge_calibration import load_calibration

    try:
        loaded = load_calibration(calibration)
        result = evaluate(
            select_frames(images, every=every, offset=offset),
            load_truth(truth),
            loaded,
        )
    except FAILURES as error:
        _fail(error)
    typer.echo(json.dumps(result, sort_keys=True))
