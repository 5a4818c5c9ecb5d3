"""Options shared by several commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from insole.plausibility import BODY_MASS_KG, FOOT_LENGTH_MM, SHOE_SIZE_EU

if TYPE_CHECKING:
    from insole.session import SessionMetadata


def metadata_options(func):  # type: ignore[no-untyped-def]
    """Add ``--subject``, ``--body-mass-kg``, ``--foot-length-mm``, ``--shoe-size-eu``, ``--condition``, ``--notes``."""
    options = [
        click.option("--subject", "subject_id", default=None, help="Pseudonymous subject code (no names)."),
        click.option("--body-mass-kg", type=click.FloatRange(*BODY_MASS_KG.bounds), default=None,
                     help=f"Body mass ({BODY_MASS_KG.low:g}-{BODY_MASS_KG.high:g} kg)."),
        click.option("--foot-length-mm", type=click.FloatRange(*FOOT_LENGTH_MM.bounds), default=None,
                     help=f"Foot length ({FOOT_LENGTH_MM.low:g}-{FOOT_LENGTH_MM.high:g} mm)."),
        click.option("--shoe-size-eu", type=click.FloatRange(*SHOE_SIZE_EU.bounds), default=None,
                     help="EU shoe size."),
        click.option("--condition", default=None, help="E.g. barefoot, shoes, orthotic."),
        click.option("--notes", default=None, help="Free text stored with the session."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def metadata_from_options(kwargs: dict[str, object]) -> SessionMetadata:
    """Pop the metadata options from ``kwargs`` into a :class:`SessionMetadata`."""
    from insole.session import SessionMetadata

    names = ("subject_id", "body_mass_kg", "foot_length_mm", "shoe_size_eu", "condition", "notes")
    return SessionMetadata(**{n: kwargs.pop(n, None) for n in names})  # type: ignore[arg-type]
