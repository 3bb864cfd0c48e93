"""Settings validation and access tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from services.auth.passwords import hash_password, verify_password
from services.auth.tokens import InvalidToken, issue_token, read_token
from services.common.settings import Settings


def test_production_refuses_a_missing_or_weak_secret() -> None:
    with pytest.raises(ValidationError, match="OKNO_JWT_SECRET"):
        Settings(env="production", database_url="postgresql://x/y", redis_url="redis://x")
    with pytest.raises(ValidationError, match="OKNO_JWT_SECRET"):
        Settings(
            env="production",
            database_url="postgresql://x/y",
            redis_url="redis://x",
            jwt_secret=SecretStr("short"),
        )


def test_production_needs_real_servers() -> None:
    with pytest.raises(ValidationError, match="OKNO_DATABASE_URL"):
        Settings(env="production", jwt_secret=SecretStr("s" * 40))


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus")


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).signing_secret()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path).signing_secret() == first
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0


def test_token_round_trip_and_expiry() -> None:
    now = datetime.now(UTC)
    token, expires = issue_token(
        secret="k" * 40,
        user_id=7,
        username="anna",
        role="operator",
        agency_id=None,
        ttl_seconds=60,
        now=now,
    )
    claims = read_token(token, secret="k" * 40)
    assert (claims.user_id, claims.role, claims.username) == (7, "operator", "anna")
    assert abs((claims.expires_at - expires).total_seconds()) < 1
    old, _ = issue_token(
        secret="k" * 40,
        user_id=7,
        username="anna",
        role="operator",
        agency_id=None,
        ttl_seconds=60,
        now=now - timedelta(minutes=5),
    )
    with pytest.raises(InvalidToken, match="expired"):
        read_token(old, secret="k" * 40)


def test_tampered_token_is_invalid() -> None:
    token, _ = issue_token(
        secret="k" * 40,
        user_id=7,
        username="anna",
        role="operator",
        agency_id=None,
        ttl_seconds=60,
    )
    header, payload, signature = token.split(".")
    with pytest.raises(InvalidToken, match="invalid"):
        read_token(f"{header}.{payload}x.{signature}", secret="k" * 40)


def test_password_hashes_verify_only_the_right_password() -> None:
    hashed = hash_password("correct-horse-battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct-horse-battery")
    assert not verify_password(hashed, "wrong-horse-battery")
    assert not verify_password(None, "correct-horse-battery")
