"""Tables of the analytics layer (scoring, labels), kept apart from the core event tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Text
from sqlmodel import Field, SQLModel


class TraderLabel(SQLModel, table=True):
    """A label derived by the scoring job (WHALE, SMART_MONEY), one row per trader and label."""

    __tablename__ = "trader_label"
    __table_args__ = (Index("trader_label_by_label", "label", "trader_id"),)

    trader_id: int = Field(sa_column=Column(BigInteger, ForeignKey("trader.id"), primary_key=True))
    label: str = Field(sa_column=Column(Text, primary_key=True))
    assigned_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
