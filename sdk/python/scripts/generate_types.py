#!/usr/bin/env python3
"""Writes src/dream_api/_schema.py, TypedDicts for every schema of api-multi's OpenAPI document
(openapi/api-multi/openapi.json). The generated module is committed, so the package builds
without the document; ``--check`` regenerates in memory and fails when the committed file
differs (the unit tests run it, as the TypeScript SDK's ``npm test`` runs ``check:schema``).

    python scripts/generate_types.py           # (re)writes src/dream_api/_schema.py
    python scripts/generate_types.py --check   # exit 1 when it is stale

Standard library only, Python 3.9+. The output is Python 3.9 syntax: ``typing.List``,
``Optional`` and ``Union`` (no ``X | Y``); a schema's optional fields go into a ``total=False``
base class, since ``NotRequired`` is 3.11+.

What the document maps to:
  string / integer / number / boolean  -> str / int / float / bool
  type [T, "null"], oneOf [.., null]   -> Optional[T]
  enum, const                          -> Literal[...]
  array                                -> List[T]
  object with properties               -> a TypedDict of its own (named after its parent)
  object without properties            -> Dict[str, Any]
  $ref                                 -> the schema's name
  oneOf of several                     -> Union[...]
  allOf                                -> the parts' fields merged into one TypedDict; a part that
                                          is a oneOf gives one TypedDict per alternative
One thing the document does not say is which ``projectType`` goes with which dashboard figures;
``DISCRIMINATORS`` below says it, so ``ProjectDashboard`` is a union a type checker narrows.
"""

from __future__ import annotations

import json
import keyword
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT.parent.parent / "openapi" / "api-multi" / "openapi.json"
OUTPUT = ROOT / "src" / "dream_api" / "_schema.py"

# allOf-with-oneOf schemas: (the field that tells the alternatives apart, its value for each
# alternative, the name of each alternative's TypedDict).
DISCRIMINATORS: Dict[str, Tuple[str, Dict[str, Tuple[str, str]]]] = {
    "ProjectDashboard": (
        "projectType",
        {"SaasFigures": ("saas", "SaasDashboard"), "StoreFigures": ("store", "StoreDashboard")},
    ),
}

PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


class Generator:
    def __init__(self, document: Dict[str, Any]) -> None:
        self.document = document
        self.schemas: Dict[str, Any] = document["components"]["schemas"]
        self.blocks: List[str] = []
        self.emitted: set = set()

    # ---- types of a property ---------------------------------------------------------------

    def ref_name(self, ref: str) -> str:
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise SystemExit(f"unsupported $ref {ref}")
        return ref[len(prefix):]

    def annotation(self, schema: Dict[str, Any], context: str) -> str:
        if "$ref" in schema:
            return json.dumps(self.ref_name(schema["$ref"]))[1:-1]
        if "oneOf" in schema or "anyOf" in schema:
            options = schema.get("oneOf") or schema.get("anyOf")
            nullable = any(o.get("type") == "null" for o in options)
            rest = [o for o in options if o.get("type") != "null"]
            parts = [self.annotation(o, f"{context}{i}") for i, o in enumerate(rest, 1)]
            inner = parts[0] if len(parts) == 1 else f"Union[{', '.join(parts)}]"
            return f"Optional[{inner}]" if nullable else inner
        if "allOf" in schema:
            parts = schema["allOf"]
            if len(parts) == 1:
                return self.annotation(parts[0], context)
            self.emit_object(context, {"allOf": parts})
            return context
        if "const" in schema:
            return f"Literal[{json.dumps(schema['const'])}]"
        if "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            literal = f"Literal[{', '.join(json.dumps(v) for v in values)}]"
            return f"Optional[{literal}]" if None in schema["enum"] else literal
        kind = schema.get("type")
        nullable = False
        if isinstance(kind, list):
            nullable = "null" in kind
            rest = [k for k in kind if k != "null"]
            if len(rest) != 1:
                raise SystemExit(f"{context}: unsupported type {kind}")
            kind = rest[0]
        if kind in PRIMITIVES:
            text = PRIMITIVES[kind]
        elif kind == "array":
            text = f"List[{self.annotation(schema.get('items', {}), context + 'Item')}]"
        elif kind == "object" or kind is None and "properties" in schema:
            if schema.get("properties"):
                self.emit_object(context, schema)
                text = context
            else:
                text = "Dict[str, Any]"
        elif kind is None:
            text = "Any"
        else:
            raise SystemExit(f"{context}: unsupported type {kind}")
        return f"Optional[{text}]" if nullable else text

    # ---- objects ------------------------------------------------------------------------------

    def fields_of(self, schema: Dict[str, Any], name: str) -> Tuple[List[Tuple[str, Dict[str, Any]]], set]:
        """The (property, schema) pairs of an object or of an allOf of objects, and which are required."""
        if "$ref" in schema:
            return self.fields_of(self.schemas[self.ref_name(schema["$ref"])], name)
        if "allOf" in schema:
            fields: List[Tuple[str, Dict[str, Any]]] = []
            required: set = set()
            for part in schema["allOf"]:
                more, req = self.fields_of(part, name)
                known = {f for f, _ in fields}
                fields += [(f, s) for f, s in more if f not in known]
                required |= req
            return fields, required
        if "oneOf" in schema:
            raise SystemExit(f"{name}: a oneOf inside allOf needs an entry in DISCRIMINATORS")
        return list(schema.get("properties", {}).items()), set(schema.get("required", []))

    def emit_object(self, name: str, schema: Dict[str, Any], overrides: Optional[Dict[str, str]] = None) -> None:
        if name in self.emitted:
            return
        self.emitted.add(name)
        fields, required = self.fields_of(schema, name)
        overrides = overrides or {}
        lines_required: List[str] = []
        lines_optional: List[str] = []
        for field, prop in sorted(fields, key=lambda item: item[0]):
            if not field.isidentifier() or keyword.iskeyword(field):
                raise SystemExit(f"{name}.{field}: not a Python identifier")
            annotation = overrides.get(field) or self.annotation(prop, name + field[:1].upper() + field[1:])
            text = []
            description = prop.get("description")
            if description:
                for line in description.strip().splitlines():
                    text.append(f"    #: {line}".rstrip())
            text.append(f"    {field}: {annotation}")
            (lines_required if field in required else lines_optional).append("\n".join(text))
        description = schema.get("description") if isinstance(schema, dict) else None
        doc = ""
        if description:
            body = description.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
            doc = '    """' + body.replace("\n", "\n    ") + '"""\n'
        if lines_optional and lines_required:
            base = f"_{name}Optional"
            self.blocks.append(f"class {base}(TypedDict, total=False):\n" + "\n".join(lines_optional) + "\n")
            self.blocks.append(f"class {name}({base}):\n" + doc + "\n".join(lines_required) + "\n")
        elif lines_optional:
            self.blocks.append(f"class {name}(TypedDict, total=False):\n" + doc + "\n".join(lines_optional) + "\n")
        elif lines_required:
            self.blocks.append(f"class {name}(TypedDict):\n" + doc + "\n".join(lines_required) + "\n")
        else:
            self.blocks.append(f"class {name}(TypedDict):\n" + (doc or "    pass\n"))

    def emit_schema(self, name: str, schema: Dict[str, Any]) -> None:
        if name in DISCRIMINATORS:
            field, variants = DISCRIMINATORS[name]
            names = []
            for part in schema["allOf"]:
                if "$ref" in part and "oneOf" in self.schemas[self.ref_name(part["$ref"])]:
                    alternatives = self.schemas[self.ref_name(part["$ref"])]["oneOf"]
                    break
            else:
                raise SystemExit(f"{name}: no oneOf part")
            for alternative in alternatives:
                target = self.ref_name(alternative["$ref"])
                value, variant = variants[target]
                parts = [alternative] + [p for p in schema["allOf"] if p is not part]
                self.emit_object(variant, {"allOf": parts, "description": f"{name} with `{field}` {value!r}."},
                                 overrides={field: f"Literal[{json.dumps(value)}]"})
                names.append(variant)
            self.blocks.append(f"{name} = Union[{', '.join(names)}]\n")
            return
        is_object = "properties" in schema or "allOf" in schema or schema.get("type") == "object"
        if is_object and (schema.get("properties") or "allOf" in schema):
            self.emit_object(name, schema)
            return
        annotation = self.annotation(schema, name)
        description = schema.get("description")
        comment = "".join(f"#: {line}".rstrip() + "\n" for line in description.strip().splitlines()) if description else ""
        self.blocks.append(f"{comment}{name} = {annotation}\n")

    def webhook_events(self, document: Dict[str, Any]) -> None:
        """`WebhookEvent`: the union of every event the document's `webhooks` deliver."""
        names = []
        for _, item in sorted(document.get("webhooks", {}).items()):
            for operation in item.values():
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                names.append(self.ref_name(schema["$ref"]))
        if names:
            self.blocks.append(
                "#: Every event dream-api delivers to a developer's webhook endpoint, told apart by `type`.\n"
                f"WebhookEvent = Union[{', '.join(names)}]\n"
            )

    def render(self) -> str:
        # Aliases first (in order), then classes: a class may name an alias in a string
        # annotation, which TypedDict resolves lazily, but an alias must exist when assigned.
        for name in sorted(self.schemas):
            self.emit_schema(name, self.schemas[name])
        self.webhook_events(self.document)
        aliases = [b for b in self.blocks if not b.startswith("class ")]
        classes = [b for b in self.blocks if b.startswith("class ")]
        head = (
            '"""api-multi\'s request and response bodies, generated from openapi/api-multi/openapi.json by\n'
            "scripts/generate_types.py. Do not edit: run `python scripts/generate_types.py`.\"\"\"\n\n"
            "# fmt: off\n"
            "from __future__ import annotations\n\n"
            "from typing import Any, Dict, List, Literal, Optional, TypedDict, Union\n\n"
        )
        # An alias may name a class (Optional["UsageReport"]) only as a string: quote them.
        class_names = {b.split("(", 1)[0][len("class "):] for b in classes}
        fixed_aliases = []
        for block in aliases:
            name, _, value = block.partition(" = ")
            for cls in sorted(class_names, key=len, reverse=True):
                value = _quote_name(value, cls)
            fixed_aliases.append(f"{name} = {value}")
        names = sorted(b.split(" = ", 1)[0].splitlines()[-1] for b in aliases)
        names += sorted(b.split("(", 1)[0][len("class "):] for b in classes if not b.startswith("class _"))
        exported = "__all__ = [\n" + "".join(f"    {json.dumps(n)},\n" for n in sorted(names)) + "]\n\n"
        return head + exported + "\n".join(fixed_aliases) + "\n\n" + "\n\n".join(classes)


def _quote_name(text: str, name: str) -> str:
    """`name` as a whole word in `text`, wrapped in quotes (forward references in aliases)."""
    import re

    return re.sub(rf'(?<![\w"]){re.escape(name)}(?![\w"])', f'"{name}"', text)


def generate() -> str:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return Generator(document).render()


def main(argv: List[str]) -> int:
    if not DOCUMENT.exists():
        print(f"{DOCUMENT} not found: it is the source of {OUTPUT.name}", file=sys.stderr)
        return 1
    fresh = generate()
    if "--check" in argv:
        committed = OUTPUT.read_text(encoding="utf-8").replace("\r\n", "\n") if OUTPUT.exists() else None
        if committed != fresh:
            print("src/dream_api/_schema.py is stale: run python scripts/generate_types.py", file=sys.stderr)
            return 1
        print("src/dream_api/_schema.py matches openapi/api-multi/openapi.json")
        return 0
    OUTPUT.write_text(fresh, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} from {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
