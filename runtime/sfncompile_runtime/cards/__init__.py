"""Cards: HTML reports attached to tasks (Metaflow's ``metaflow.cards``).

In a flow: ``@card`` on a step, ``current.card.append(Markdown(...))``; after a
run: ``get_cards(task)``, ``sfncompile card view PATHSPEC``, ``sfncompile ui``.
Standard library only (it runs in the Batch job): images are embedded bytes,
charts inline SVG, pages carry their own CSS.
"""

from .card import BlankCard, DefaultCard, ErrorCard, MetaflowCard, TaskSpecCard
from .client import Card, CardContainer, get_cards
from .components import (Artifact, Error, Image, Markdown, MetaflowCardComponent, ProgressBar, Section, Table,
                         UserComponent, VegaChart)
from .exception import CardNotPresentException

__all__ = ["get_cards", "Card", "CardContainer", "MetaflowCard", "MetaflowCardComponent", "UserComponent",
           "Markdown", "Table", "Image", "VegaChart", "ProgressBar", "Artifact", "Error", "Section",
           "DefaultCard", "BlankCard", "ErrorCard", "TaskSpecCard", "CardNotPresentException"]
