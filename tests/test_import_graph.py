"""The import graph of the library (DESIGN.md §2), read with ``ast``.

Imports flow one way: tools -> ovd_ext (apis -> methods -> models / datasets
/ pseudo_labels -> vlm / evaluation / utils) -> mmdet / open_clip. So:

* no module of ``ovd_ext`` outside ``ovd_ext/apis`` imports ``ovd_ext.apis``;
* no module of ``ovd_ext`` imports anything from ``tools/`` (statically, or
  by loading a file or module from there at run time);
* ``ovd_ext/vlm`` (the CLIP door) imports only ``ovd_ext.vlm`` and
  ``ovd_ext.utils`` of the package.

Every ``import`` statement counts, including those inside functions.
"""
from __future__ import annotations

import ast
import os
import os.path as osp

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
PACKAGE = 'ovd_ext'
#: what the CLIP door may import of the package
VLM_MAY_IMPORT = ('ovd_ext.vlm', 'ovd_ext.utils')
#: calls that load a module or a file by a name given as a string
LOADERS = ('import_module', '__import__', 'spec_from_file_location',
           'run_path', 'run_module', 'SourceFileLoader')


def module_files() -> dict[str, str]:
    """Dotted module name -> file, for every ``.py`` under ``ovd_ext``."""
    out = {}
    for folder, dirs, files in os.walk(osp.join(ROOT, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for f in sorted(files):
            if not f.endswith('.py'):
                continue
            rel = osp.relpath(osp.join(folder, f), ROOT)[:-3].split(os.sep)
            if rel[-1] == '__init__':
                rel = rel[:-1]
            out['.'.join(rel)] = osp.join(folder, f)
    return out


def imported_names(module: str, path: str) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of everything ``path`` imports; for ``from X
    import a`` the name is ``X.a`` (``a`` may be a submodule), relative
    imports resolved against ``module``'s package."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    is_pkg = osp.basename(path) == '__init__.py'
    package = module.split('.') if is_pkg else module.split('.')[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                if not base:
                    raise AssertionError(f'{path}:{node.lineno}: relative '
                                         'import beyond the package')
                src = '.'.join(base + ([node.module] if node.module else []))
            else:
                src = node.module
            out += [(node.lineno, src if a.name == '*' else f'{src}.{a.name}')
                    for a in node.names]
    return out


def loads_from_tools(path: str) -> list[int]:
    """Lines where ``path`` loads a module / file whose name mentions
    ``tools`` through importlib / runpy."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (func.attr if isinstance(func, ast.Attribute) else
                func.id if isinstance(func, ast.Name) else '')
        if name not in LOADERS:
            continue
        for arg in ast.walk(node):
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                    and ('tools/' in arg.value or arg.value == 'tools'
                         or arg.value.startswith('tools.')):
                lines.append(node.lineno)
    return lines


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + '.')


MODULES = module_files()


def _violations(check) -> list[str]:
    bad = []
    for module, path in sorted(MODULES.items()):
        for line, name in imported_names(module, path):
            if check(module, name):
                bad.append(f'{osp.relpath(path, ROOT)}:{line} imports {name}')
    return bad


def test_the_walk_sees_the_package():
    assert 'ovd_ext' in MODULES and 'ovd_ext.vlm.builder' in MODULES
    names = dict((n, line) for line, n in imported_names(
        'ovd_ext.vlm.training.loop', MODULES['ovd_ext.vlm.training.loop']))
    assert 'ovd_ext.vlm.wrapper.CLIPWrapper' in names   # ..wrapper resolved
    names = [n for _, n in imported_names('ovd_ext', MODULES['ovd_ext'])]
    assert 'ovd_ext.vlm' in names                        # from . import vlm


def test_resolves_relative_imports(tmp_path):
    pkg = tmp_path / 'a' / 'b'
    pkg.mkdir(parents=True)
    (pkg / '__init__.py').write_text('from . import c\nfrom .. import d\n')
    (pkg / 'm.py').write_text(
        'import x.y\nfrom ..e import f\ndef g():\n    from .h import *\n')
    assert sorted(n for _, n in imported_names(
        'a.b', str(pkg / '__init__.py'))) == ['a.b.c', 'a.d']
    assert sorted(n for _, n in imported_names(
        'a.b.m', str(pkg / 'm.py'))) == ['a.b.h', 'a.e.f', 'x.y']
    (pkg / 'n.py').write_text(
        "import importlib\nimportlib.import_module('tools.train')\n"
        "spec_from_file_location('t', 'tools/test.py')\n")
    assert loads_from_tools(str(pkg / 'n.py')) == [2, 3]


def test_library_does_not_import_apis():
    bad = _violations(lambda module, name: _under(name, 'ovd_ext.apis')
                      and not _under(module, 'ovd_ext.apis'))
    assert not bad, 'only ovd_ext/apis may import ovd_ext.apis:\n' + \
        '\n'.join(bad)


def test_library_does_not_import_tools():
    bad = _violations(lambda module, name: _under(name, 'tools'))
    bad += [f'{osp.relpath(path, ROOT)}:{line} loads a file from tools/'
            for path in MODULES.values() for line in loads_from_tools(path)]
    assert not bad, 'the library must not import tools/:\n' + '\n'.join(bad)


def test_vlm_imports_only_vlm_and_utils():
    bad = _violations(
        lambda module, name: _under(module, 'ovd_ext.vlm')
        and _under(name, PACKAGE)
        and not any(_under(name, a) for a in VLM_MAY_IMPORT))
    assert not bad, ('ovd_ext/vlm (the CLIP door) may import only '
                     f'{VLM_MAY_IMPORT} of ovd_ext:\n' + '\n'.join(bad))
