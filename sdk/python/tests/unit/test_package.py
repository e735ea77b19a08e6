"""The package as published: the generated types match the OpenAPI document, the public types
are built from them, and a wheel builds with everything (py.typed too) and imports."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import get_args, get_type_hints

import dream_api
from dream_api import _schema, types

ROOT = Path(__file__).resolve().parents[2]


def test_the_generated_types_are_what_the_openapi_document_generates():
    """Fails with "… is stale: run python scripts/generate_types.py" after the document changed."""
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_types.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_the_public_types_are_the_documents_schemas():
    assert types.UsageResponse is _schema.UsageResponse
    assert types.Customer is _schema.CustomerView
    assert types.Subscription is _schema.SubscriptionView
    hints = get_type_hints(types.TrackUsageResult)
    assert set(hints) == set(get_type_hints(_schema.UsageResponse)) | {"replayed"}
    assert hints["replayed"] is bool
    assert get_type_hints(types.UsageReport)["limit"] == get_type_hints(_schema.UsageReport)["limit"]


def test_the_dashboard_is_a_union_told_apart_by_project_type():
    assert [ref.__forward_arg__ for ref in get_args(types.ProjectDashboard)] == ["SaasDashboard", "StoreDashboard"]
    saas_hints, store_hints = get_type_hints(types.SaasDashboard), get_type_hints(types.StoreDashboard)
    assert get_args(saas_hints["projectType"]) == ("saas",)
    assert get_args(store_hints["projectType"]) == ("store",)
    assert {"metrics", "tierMix", "publishableKey", "currency"} <= set(saas_hints)
    assert {"recentOrders", "revenueByDay", "publishableKey"} <= set(store_hints)


def test_optional_fields_of_the_document_are_not_required_keys():
    assert types.CheckoutRequest.__required_keys__ == frozenset({"tier"})
    assert "successUrl" in types.CheckoutRequest.__optional_keys__
    assert types.UsageReport.__optional_keys__ == frozenset()


def test_webhook_events_are_every_event_of_the_document():
    import json

    document = json.loads((ROOT.parent.parent / "openapi" / "api-multi" / "openapi.json").read_text())
    classes = [getattr(_schema, ref.__forward_arg__) for ref in get_args(types.WebhookEvent)]
    events = {get_type_hints(e)["type"] for e in classes}
    assert {get_args(t)[0] for t in events} == set(document["webhooks"])


def test_a_wheel_builds_with_py_typed_and_imports_from_where_it_is_installed(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(tmp_path / "dist"), "--quiet"],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (tmp_path / "dist").glob("dream_api-*.whl")
    assert wheel.name == f"dream_api-{dream_api.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"dream_api-{dream_api.__version__}.dist-info/METADATA").decode()
    assert {f"dream_api/{m}" for m in ("__init__.py", "_client.py", "_errors.py", "_schema.py", "_webhooks.py",
                                        "types.py", "py.typed")} <= names
    assert "Requires-Python: >=3.9" in metadata
    assert "Requires-Dist: httpx" in metadata
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                              "--target", str(tmp_path / "site"), str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    probe = "import dream_api, dream_api.types; print(dream_api.__file__)"
    imported = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r}); "
                               + probe], capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(str(tmp_path / "site"))


def test_the_sources_are_python_3_9_syntax():
    """No `match`, no `X | Y` evaluated at run time: every module compiles for 3.9's grammar
    (ast with feature_version) and annotations stay strings (`from __future__ import annotations`)."""
    import ast

    for path in sorted((ROOT / "src" / "dream_api").glob("*.py")) + sorted((ROOT / "examples").glob("*.py")):
        source = path.read_text()
        tree = ast.parse(source, filename=str(path), feature_version=(3, 9))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.BitOr) or _in_annotation(tree, node), (
                f"{path.name}:{node.lineno}: `|` outside an annotation"
            )
        if path.name != "__init__.py" and any(isinstance(n, ast.AnnAssign) or getattr(n, "returns", None) for n in ast.walk(tree)):
            assert "from __future__ import annotations" in source, path.name


def _in_annotation(tree, target) -> bool:
    import ast

    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
            annotations += [a.annotation for a in node.args.args + node.args.kwonlyargs if a.annotation]
        for annotation in annotations:
            if annotation is not None and any(n is target for n in ast.walk(annotation)):
                return True
    return False
