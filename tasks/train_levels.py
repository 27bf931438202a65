"""Tasks of the level-forecaster training: thin wrappers of library code."""

from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from argus.level_history import ingest_snapshots, read_level_history
from models.camels import run_camels_check
from models.level_card import add_camels_check
from models.level_net import LevelNetConfig
from models.level_pipeline import train_level_model


@task
def ingest_snapshots_task(
    replay_dir: str, database_path: str, max_snapshots: int | None
) -> dict[str, int]:
    """Ingest the snapshots through the data contracts into a scratch database."""
    quarantined = ingest_snapshots(
        Path(replay_dir), database_path=Path(database_path), max_snapshots=max_snapshots
    )
    get_run_logger().info("quarantined while ingesting: %s", quarantined)
    return quarantined


@task
def train_and_evaluate(
    database_path: str,
    out_dir: str,
    config: dict,
    data_note: dict,
) -> dict:
    """Train, score on held-out data, decide promotion and write the artifact."""
    history = read_level_history(Path(database_path))
    result = train_level_model(
        history.levels,
        history.stations,
        history.official,
        out_dir=Path(out_dir),
        config=LevelNetConfig(**config),
        data_note=data_note,
    )
    get_run_logger().info(
        "level model %s promoted: %s", result.folder.name, result.promoted
    )
    return {"folder": str(result.folder), "promoted": result.promoted}


@task
def camels_check(camels_dir: str, artifact_dir: str, seed: int) -> dict:
    """Run the CAMELS-US check and add its NSE figures to the card."""
    from models.camels import CamelsConfig

    results = run_camels_check(Path(camels_dir), config=CamelsConfig(seed=seed))
    add_camels_check(Path(artifact_dir), results)
    return results


@task
def publish_card(artifact_dir: str) -> None:
    """Show the model card in the Prefect UI."""
    markdown = (Path(artifact_dir) / "card.md").read_text()
    create_markdown_artifact(key="level-model-card", markdown=markdown)
