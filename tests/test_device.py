"""The CUDA path, as far as a CPU can check it: no hard-coded .cuda(), and every tensor that a
script or common/ creates from scratch names its device (or is moved with .to(...) in the same
statement, or is made like another tensor)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACTORIES = {"zeros", "ones", "empty", "full", "arange", "randn", "rand", "randint", "randperm",
             "tensor", "eye", "linspace", "as_tensor"}
SOURCES = sorted([*ROOT.glob("hw1_*.py"), *(ROOT / "common").glob("*.py")])


def _statements(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef,
                                                                ast.If, ast.For, ast.While,
                                                                ast.With, ast.Try)):
            yield node


def test_no_hard_coded_cuda_calls():
    for path in SOURCES:
        assert ".cuda()" not in path.read_text(), path


def test_every_created_tensor_names_its_device():
    offenders = []
    for path in SOURCES:
        source = path.read_text()
        lines = source.splitlines()
        for stmt in _statements(ast.parse(source)):
            calls = [c for c in ast.walk(stmt)
                     if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                     and c.func.attr in FACTORIES and isinstance(c.func.value, ast.Name)
                     and c.func.value.id == "torch" and not any(k.arg == "device" for k in c.keywords)]
            text = "\n".join(lines[stmt.lineno - 1:stmt.end_lineno]) if calls else ""
            if calls and ".to(" not in text and "device" not in text:
                offenders.append(f"{path.name}:{stmt.lineno}: {text.strip()[:80]}")
    assert not offenders, "tensors created without a device:\n" + "\n".join(offenders)
