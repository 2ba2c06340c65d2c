"""advisory reports, recommendations, responses

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisory_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=16), nullable=False),
        sa.Column("body_key", sa.String(length=80), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("unverified", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["body.id"],
            name=op.f("fk_advisory_report_body_id_body"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_report")),
        sa.UniqueConstraint("key", name=op.f("uq_advisory_report_key")),
    )
    with op.batch_alter_table("advisory_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisory_report_body_id"), ["body_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_advisory_report_jurisdiction_code"), ["jurisdiction_code"], unique=False
        )

    op.create_table(
        "advisory_recommendation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("addressed_to", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_on", sa.Date(), nullable=True),
        sa.Column("benefit", sa.Text(), nullable=True),
        sa.Column("benefit_amount", sa.BigInteger(), nullable=True),
        sa.Column("benefit_currency", sa.String(length=3), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["advisory_report.id"],
            name=op.f("fk_advisory_recommendation_report_id_advisory_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_recommendation")),
        sa.UniqueConstraint(
            "report_id", "number", name=op.f("uq_advisory_recommendation_report_id_number")
        ),
    )
    with op.batch_alter_table("advisory_recommendation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_advisory_recommendation_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_advisory_recommendation_status"), ["status"], unique=False
        )

    op.create_table(
        "advisory_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("responding_body_key", sa.String(length=80), nullable=True),
        sa.Column("responding_body_id", sa.Integer(), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["advisory_recommendation.id"],
            name=op.f("fk_advisory_response_recommendation_id_advisory_recommendation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["responding_body_id"],
            ["body.id"],
            name=op.f("fk_advisory_response_responding_body_id_body"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_response")),
    )
    with op.batch_alter_table("advisory_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_advisory_response_recommendation_id"),
            ["recommendation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_advisory_response_responding_body_id"),
            ["responding_body_id"],
            unique=False,
        )

    op.create_table(
        "advisory_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("benefit", sa.Text(), nullable=True),
        sa.Column("benefit_amount", sa.BigInteger(), nullable=True),
        sa.Column("benefit_currency", sa.String(length=3), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["advisory_recommendation.id"],
            name=op.f("fk_advisory_status_change_recommendation_id_advisory_recommendation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_status_change")),
    )
    with op.batch_alter_table("advisory_status_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_advisory_status_change_recommendation_id"),
            ["recommendation_id"],
            unique=False,
        )

    op.create_table(
        "advisory_task_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["advisory_recommendation.id"],
            name=op.f("fk_advisory_task_link_recommendation_id_advisory_recommendation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
            name=op.f("fk_advisory_task_link_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_task_link")),
        sa.UniqueConstraint(
            "recommendation_id",
            "task_id",
            name=op.f("uq_advisory_task_link_recommendation_id_task_id"),
        ),
    )
    with op.batch_alter_table("advisory_task_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_advisory_task_link_recommendation_id"),
            ["recommendation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_advisory_task_link_task_id"), ["task_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("advisory_task_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_task_link_task_id"))
        batch_op.drop_index(batch_op.f("ix_advisory_task_link_recommendation_id"))

    op.drop_table("advisory_task_link")
    with op.batch_alter_table("advisory_status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_status_change_recommendation_id"))

    op.drop_table("advisory_status_change")
    with op.batch_alter_table("advisory_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_response_responding_body_id"))
        batch_op.drop_index(batch_op.f("ix_advisory_response_recommendation_id"))

    op.drop_table("advisory_response")
    with op.batch_alter_table("advisory_recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_recommendation_status"))
        batch_op.drop_index(batch_op.f("ix_advisory_recommendation_report_id"))

    op.drop_table("advisory_recommendation")
    with op.batch_alter_table("advisory_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_report_jurisdiction_code"))
        batch_op.drop_index(batch_op.f("ix_advisory_report_body_id"))

    op.drop_table("advisory_report")
