"""Settings from `VAULT_*` environment variables, with the embedded default.

With nothing set, the vault keeps its data under `./vault-data`, uses SQLite
there and starts its own SeaweedFS on a free loopback port. Setting
`VAULT_DATABASE_URL` switches to PostgreSQL; setting `VAULT_S3_ENDPOINT`
switches to an external S3 with Object Lock.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAULT_", extra="ignore")

    data_dir: Path = Field(default=Path("vault-data"), description="Directory for the embedded database, keys and SeaweedFS data")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under data_dir")

    s3_endpoint: str | None = Field(default=None, description="External S3 endpoint URL; default embedded SeaweedFS")
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_bucket: str = "evidence-vault"
    s3_region: str = "us-east-1"

    case_classifications: str = Field(
        default="data breach,system compromise,policy violation,insider threat,fraud,malware,unclassified",
        description="Comma-separated classifications a case may have",
    )
    retention_days: int = Field(default=3650, ge=1, description="Default Object Lock retention for new evidence, in days")
    host: str = "127.0.0.1"
    port: int = Field(default=8750, ge=0, le=65535, description="API port; 0 picks a free one")
    api_url: str | None = Field(default=None, description="URL of a remote vault for the CLI")
    log_origin: str = Field(default="evidence-vault.local/custody", description="Checkpoint origin line and signer key name")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vault.db').resolve()}"
