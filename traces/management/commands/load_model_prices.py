from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from traces.pricing_defaults import load_default_prices


class Command(BaseCommand):
    help = "Load the default model prices (idempotent; project models are left alone)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--file", type=Path, help="A model-prices.json in Langfuse's format")

    def handle(self, *args, file: Path | None = None, **options) -> None:
        result = load_default_prices(file)
        self.stdout.write(
            f"Default model prices: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.removed} removed"
        )
