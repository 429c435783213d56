"""The qbXML XSDs as the emulator uses them: a cached validator and child-element order."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from lxml import etree

from qbxml_builders import hardened_parser
from qbxml_builders import schema as builder_schema

XSD = "{http://www.w3.org/2001/XMLSchema}"

#: Environment variable naming the ``spec`` folder (with ``qbxml/`` and ``qbwc/`` inside).
SPEC_ENV = "QBWC_SPEC_DIR"


def spec_dir() -> Path | None:
    """The folder holding the reference XSDs and WSDLs, or ``None`` when it is absent.

    ``$QBWC_SPEC_DIR`` first, then ``shared/spec`` beside the project's checkout.
    """
    env = os.environ.get(SPEC_ENV)
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "spec")
    for path in candidates:
        if (path / "qbxml").is_dir():
            return path
    return None


def _xsd_path(version: str) -> Path | None:
    base = spec_dir()
    if base is None:
        return None
    major = version.partition(".")[0]
    path = base / "qbxml" / f"qbxmlops{major}0.xsd"
    return path if path.is_file() else None


def load_schema(version: str) -> etree.XMLSchema | None:
    """The compiled schema for a qbXML version (13.0 or 16.0); ``None`` if absent.

    Compiled and cached by :func:`qbxml_builders.schema.load_schema`, so the emulator and
    the builders share one copy per process.
    """
    path = _xsd_path(version)
    if path is None:
        return None
    return builder_schema.load_schema(version, path.parent)


class ContentOrder:
    """The order of child elements the XSD prescribes, keyed by element path.

    A key is ``"el:Name"`` for a global element, ``"type:Name"`` for a named complex type,
    and ``"<parent key>/Name"`` for a local element with an inline type.
    """

    def __init__(self, roots: list[etree._Element]) -> None:
        self._elements: dict[str, etree._Element] = {}
        self._types: dict[str, etree._Element] = {}
        self._groups: dict[str, etree._Element] = {}
        for root in roots:
            for node in root:
                name = node.get("name")
                if name is None:
                    continue
                if node.tag == XSD + "element":
                    self._elements[name] = node
                elif node.tag == XSD + "complexType":
                    self._types[name] = node
                elif node.tag == XSD + "group":
                    self._groups[name] = node
        self._cache: dict[str, list[tuple[str, str | None]]] = {}

    def element_key(self, name: str) -> str:
        """The key of the global element ``name``."""
        return "el:" + name

    def children(self, key: str) -> list[tuple[str, str | None]]:
        """Child element names in schema order, each with its own key (``None``: simple)."""
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compute(key)
        return found

    def child_key(self, key: str, name: str) -> str | None:
        """The key of child ``name`` under ``key``, or ``None`` when it is simple or unknown."""
        for child, child_key in self.children(key):
            if child == name:
                return child_key
        return None

    def _compute(self, key: str) -> list[tuple[str, str | None]]:
        node = self._resolve(key)
        if node is None:
            return []
        if node.tag == XSD + "element":
            type_name = node.get("type")
            if type_name is not None:
                return self.children("type:" + type_name) if type_name in self._types else []
            node = node.find(XSD + "complexType")
            if node is None:
                return []
        out: list[tuple[str, str | None]] = []
        self._walk(node, key, out)
        return out

    def _resolve(self, key: str) -> etree._Element | None:
        kind, _, rest = key.partition(":")
        if kind == "el":
            parts = rest.split("/")
            node = self._elements.get(parts[0])
            for part in parts[1:]:
                if node is None:
                    return None
                node = next(
                    (e for e in node.iter(XSD + "element") if e.get("name") == part and e is not node),
                    None,
                )
            return node
        if kind == "type":
            name, _, local = rest.partition("/")
            node = self._types.get(name)
            if local and node is not None:
                return next((e for e in node.iter(XSD + "element") if e.get("name") == local), None)
            return node
        return None

    def _walk(self, node: etree._Element, key: str, out: list[tuple[str, str | None]]) -> None:
        for child in node:
            tag = child.tag
            if tag in (XSD + "sequence", XSD + "choice", XSD + "all"):
                self._walk(child, key, out)
            elif tag == XSD + "group":
                group = self._groups.get(child.get("ref", ""))
                if group is not None:
                    self._walk(group, key, out)
            elif tag == XSD + "element":
                ref = child.get("ref")
                if ref is not None:
                    target = self._elements.get(ref)
                    simple = target is None or not self._is_complex(target)
                    out.append((ref, None if simple else "el:" + ref))
                    continue
                name = child.get("name", "")
                type_name = child.get("type")
                if type_name is not None:
                    out.append((name, "type:" + type_name if type_name in self._types else None))
                elif child.find(XSD + "complexType") is not None:
                    out.append((name, key + "/" + name))
                else:
                    out.append((name, None))

    def _is_complex(self, element: etree._Element) -> bool:
        type_name = element.get("type")
        if type_name is not None:
            return type_name in self._types
        return element.find(XSD + "complexType") is not None


@cache
def content_order(version: str = "13.0") -> ContentOrder | None:
    """The :class:`ContentOrder` of a schema version, built once; ``None`` if absent."""
    path = _xsd_path(version)
    if path is None:
        return None
    files = sorted(path.parent.glob(f"*{path.stem[-3:]}.xsd"))
    roots = [etree.parse(str(p), parser=hardened_parser()).getroot() for p in files]
    return ContentOrder(roots)
