"""Train the village flood-risk model: build the table, validate, train, write.

Seeded and reproducible: the same data folder, version and seed write the
same model file and card.
"""

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from models.risk import ARTIFACT_ROOT, DEFAULT_VERSION
from models.risk_training import card_markdown
from tasks import train_risk as steps


@flow(name="train-risk", log_prints=True)
def train_risk(
    data_dir: str,
    out_dir: str | None = None,
    version: str = DEFAULT_VERSION,
    seed: int = 0,
) -> dict:
    """Train the risk model on a data folder; returns a summary of its card."""
    out_dir = out_dir or str(ARTIFACT_ROOT / version)
    table = steps.build_table(data_dir)
    card = steps.train_and_write(table, out_dir, version, seed)
    create_markdown_artifact(
        card_markdown(card), key="risk-model-card", description="risk model card"
    )
    return {
        "version": card["version"],
        "out_dir": out_dir,
        "promoted": card["promoted"],
        "promotion_reason": card["promotion_reason"],
        "training_rows": card["training_rows"],
        "validation": card["validation"],
    }
