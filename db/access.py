"""Accounts and their API keys (DESIGN.md decision 8).

An account has a plan and an access window (``access_until``: null means open-ended, a moment in
the past means expired or never bought). Keys belong to accounts; only their SHA-256 is stored,
with a readable prefix so that operators can list and revoke them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Identity, Text
from sqlmodel import Field, SQLModel


class Account(SQLModel, table=True):
    """Who holds keys: a plan (FREE, PRO, ELITE, ...) and the window its access is paid for."""

    __tablename__ = "account"

    id: int = Field(sa_column=Column(BigInteger, Identity(), primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    plan: str = Field(sa_column=Column(Text, nullable=False))
    access_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ApiKey(SQLModel, table=True):
    """One API key: its prefix (shown in listings) and the SHA-256 of the whole key."""

    __tablename__ = "api_key"

    id: int = Field(sa_column=Column(BigInteger, Identity(), primary_key=True))
    account_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("account.id"), nullable=False, index=True)
    )
    prefix: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    key_sha256: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
