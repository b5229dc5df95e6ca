"""The interface catalogue: DIP channels, event codes, versions, routing and validators, as data.

A catalogue change is a data change: the YAML under `data/` is loaded and
compiled to validators at start-up, and no code needs to know any interface.

    catalogue = load_catalogue()
    issues = catalogue.validate(item["payload"], "IF-043", path_prefix="$[0].payload")
"""

from opendip.catalogue.catalogue import Catalogue
from opendip.catalogue.loader import DEFAULT_DIRECTORY, load_catalogue
from opendip.catalogue.model import (
    Block,
    BlockUse,
    CommonBlockUse,
    CommonSpec,
    Constraints,
    DataItem,
    DataType,
    EventDefinition,
    FieldSpec,
    Interface,
    InterfaceVersion,
    Role,
    RoutingRule,
    ValidationIssue,
)
from opendip.catalogue.source import CatalogueError

__all__ = [
    "DEFAULT_DIRECTORY",
    "Block",
    "BlockUse",
    "Catalogue",
    "CatalogueError",
    "CommonBlockUse",
    "CommonSpec",
    "Constraints",
    "DataItem",
    "DataType",
    "EventDefinition",
    "FieldSpec",
    "Interface",
    "InterfaceVersion",
    "Role",
    "RoutingRule",
    "ValidationIssue",
    "load_catalogue",
]
