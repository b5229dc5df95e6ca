"""Loading a catalogue directory: read, cross-check, compile, or refuse to start.

The layout is fixed so a reviewer can find anything by name:

    roles.yaml        market roles
    data_types.yaml   DT-nnn formats
    data_items.yaml   DI-nnn business fields, each on a data type or its own json type
    blocks.yaml       Bnnn blocks of fields
    common.yaml       S1/M0/A0/D0/R0 and how every CommonBlock is put together
    environments.yaml environment tags and when each accepts a schemaVersion by default
    interfaces/*.yaml one file per channel, named by its id (IF-043.yaml)

Loading is all-or-nothing: any broken reference raises CatalogueError naming
the file and the key, so a bad catalogue change can never half-deploy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from opendip.catalogue.catalogue import Catalogue
from opendip.catalogue.definitions import (
    check_block_refs,
    parse_blocks,
    parse_data_items,
    parse_data_types,
    parse_roles,
)
from opendip.catalogue.interfaces import INTERFACE_ID, parse_common, parse_interface
from opendip.catalogue.model import Interface
from opendip.catalogue.schedule import parse_environments
from opendip.catalogue.source import CatalogueError, Where, read_yaml

DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "data"


def load_catalogue(directory: Path | None = None, *, environment: str | None = None) -> Catalogue:
    """Load and compile the catalogue in `directory` (default: the packaged data).

    With `environment` (the hub's environment tag) the catalogue also refuses
    schemaVersions that environment does not accept at the time of validation.
    """
    root = Path(directory) if directory is not None else DEFAULT_DIRECTORY
    if not root.is_dir():
        raise CatalogueError(str(root), "", "catalogue directory not found")

    def read(name: str) -> tuple[object, Where]:
        return read_yaml(root / name, name), Where(name)

    raw, where = read("environments.yaml")
    environments = parse_environments(raw, where)
    raw, where = read("roles.yaml")
    roles = parse_roles(raw, where)
    raw, where = read("data_types.yaml")
    data_types = parse_data_types(raw, where)
    raw, where = read("data_items.yaml")
    data_items = parse_data_items(raw, where, data_types)
    raw, blocks_where = read("blocks.yaml")
    blocks = parse_blocks(raw, blocks_where)
    check_block_refs(blocks, blocks_where, items=data_items, types=data_types, nested=blocks)

    raw, common_where = read("common.yaml")
    common_raw = common_where.mapping(raw)
    common_blocks = parse_blocks(common_raw.get("blocks"), common_where.at("blocks"))
    check_block_refs(common_blocks, common_where.at("blocks"), items=data_items, types=data_types, nested=common_blocks)
    clash = sorted(set(common_blocks) & set(blocks))
    if clash:
        common_where.at("blocks").fail(f"{', '.join(clash)} also defined in blocks.yaml")
    common = parse_common(raw, common_where, common_blocks)

    interfaces: dict[str, Interface] = {}
    folder = root / "interfaces"
    if not folder.is_dir():
        raise CatalogueError("interfaces/", "", "folder is missing")
    for path in sorted(folder.glob("*.yaml")):
        label = f"interfaces/{path.name}"
        if not INTERFACE_ID.fullmatch(path.stem):
            raise CatalogueError(label, "", "interface files are named by interface id, e.g. IF-043.yaml")
        interfaces[path.stem] = parse_interface(
            read_yaml(path, label),
            Where(label),
            roles=roles,
            blocks=blocks,
            common=common,
            expected_id=path.stem,
            environments=environments,
        )
    catalogue = Catalogue(
        roles=roles,
        data_types=data_types,
        data_items=data_items,
        blocks=blocks,
        common=common,
        interfaces=interfaces,
        source=root,
        environments=environments,
        environment=environment,
    )
    catalogue.version = fingerprint(root)
    return catalogue


def fingerprint(root: Path) -> str:
    """The catalogue's version as served: a digest of its YAML files, so two hubs can tell they agree."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
