"""Options shared by several commands."""

from __future__ import annotations

import click

from insole.session import SessionMetadata


def metadata_options(func):  # type: ignore[no-untyped-def]
    """Add ``--subject``, ``--body-mass-kg``, ``--foot-length-mm``, ``--shoe-size-eu``, ``--condition``, ``--notes``."""
    options = [
        click.option("--subject", "subject_id", default=None, help="Pseudonymous subject code (no names)."),
        click.option("--body-mass-kg", type=click.FloatRange(15, 300), default=None, help="Body mass."),
        click.option("--foot-length-mm", type=click.FloatRange(150, 350), default=None, help="Foot length."),
        click.option("--shoe-size-eu", type=click.FloatRange(15, 55), default=None, help="EU shoe size."),
        click.option("--condition", default=None, help="E.g. barefoot, shoes, orthotic."),
        click.option("--notes", default=None, help="Free text stored with the session."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def metadata_from_options(kwargs: dict[str, object]) -> SessionMetadata:
    """Pop the metadata options from ``kwargs`` into a :class:`SessionMetadata`."""
    names = ("subject_id", "body_mass_kg", "foot_length_mm", "shoe_size_eu", "condition", "notes")
    return SessionMetadata(**{n: kwargs.pop(n, None) for n in names})  # type: ignore[arg-type]
