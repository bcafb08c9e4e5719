"""The code keeps its shape: small functions, and imports that run one way.

- No function under server/tilery scores over 15 in cyclomatic complexity (radon).
- ``rest -> services -> models``: models import neither REST nor services, services do
  not import REST, and plugins use the core only through the plugin contract.
- REST handlers never write to a collection: the rule a write applies belongs to a
  model or service, where every caller gets it.
- Only models take collection handles from the database (``db[...]``,
  ``db.get_collection``, ``db.<name>``): one owner per collection, with its indexes.

Each allow-list below names what is known and not yet fixed, with the reason; an entry
that is no longer needed fails the test too, so the lists only shrink.
"""
import ast
import pathlib

import pymongo.database
from radon.visitors import ComplexityVisitor

ROOT = pathlib.Path(__file__).resolve().parent.parent / 'server' / 'tilery'
MAX_COMPLEXITY = 15

# Functions allowed over the limit: none today. A function that must stay over it goes
# here with its score and the reason.
COMPLEXITY_ALLOWED = {}

# What a plugin may import from the core: the plugin contract and the public packages
# it names (tilery/plugins/__init__.py says which).
CONTRACT = ('tilery.plugins', 'tilery.rest', 'tilery.models', 'tilery.errors',
            'tilery.settings', 'tilery.jobs.context', 'tilery.jobs.model', 'tilery.jobs.child')

# Below models there is only storage: the database for documents, the assetstores for
# files' bytes (models.assetstore checks an adapter's settings with the adapter).
MODELS_MAY_IMPORT = ('tilery.models', 'tilery.errors', 'tilery.database', 'tilery.assetstores')

# Known wrong-way imports: 'importer -> imported'. Fix them, never add to them.
IMPORTS_ALLOWED = set()


# Collection writes still in REST handlers: 'module:function'. None today; never add.
REST_WRITES_ALLOWED = set()
WRITE_METHODS = {'insert_one', 'insert_many', 'update_one', 'update_many', 'replace_one',
                 'delete_one', 'delete_many', 'find_one_and_update', 'find_one_and_replace',
                 'find_one_and_delete', 'bulk_write', 'drop'}


def python_files():
    return sorted(ROOT.rglob('*.py'))


def relative(path):
    return path.relative_to(ROOT).as_posix()


def functions(blocks, prefix=''):
    """(qualified name, complexity) of every function and method, nested ones too."""
    for block in blocks:
        name = prefix + block.name
        if hasattr(block, 'methods'):  # a class
            yield from functions(block.methods, name + '.')
            yield from functions(block.inner_classes, name + '.')
            continue
        yield name, block.complexity
        yield from functions(block.closures, name + '.')


def complexities():
    out = {}
    for path in python_files():
        visitor = ComplexityVisitor.from_code(path.read_text())
        for name, score in functions(visitor.functions + visitor.classes):
            key = '%s:%s' % (relative(path), name)
            out[key] = max(score, out.get(key, 0))
    return out


def test_no_function_is_too_complex():
    scores = complexities()
    over = {k: v for k, v in scores.items() if v > MAX_COMPLEXITY}
    new = {k: v for k, v in over.items() if k not in COMPLEXITY_ALLOWED}
    assert not new, 'split these functions (cyclomatic complexity over %d): %s' % (
        MAX_COMPLEXITY, new)
    fixed = sorted(k for k in COMPLEXITY_ALLOWED if scores.get(k, 0) <= MAX_COMPLEXITY)
    assert not fixed, 'remove these from COMPLEXITY_ALLOWED: %s' % fixed
    grown = {k: v for k, v in over.items() if v > COMPLEXITY_ALLOWED[k]}
    assert not grown, 'allowed functions grew more complex: %s' % grown


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def is_module(name):
    path = ROOT.parent.joinpath(*name.split('.'))
    return path.with_suffix('.py').is_file() or (path / '__init__.py').is_file()


def imported_modules(path):
    """The tilery modules ``path`` imports (``from pkg import mod`` counts as pkg.mod)."""
    name = module_name(path)
    package = name if path.name == '__init__.py' else name.rsplit('.', 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                sub = base + '.' + alias.name
                yield sub if is_module(sub) else base


def wrong_way(importer, imported):
    """Why ``importer`` may not import ``imported`` (None when it may)."""
    def within(name, package):
        return name == package or name.startswith(package + '.')
    if within(importer, 'tilery.models') and not any(
            within(imported, p) for p in MODELS_MAY_IMPORT):
        return 'models import only models, errors and storage (%s)' % ', '.join(
            MODELS_MAY_IMPORT)
    if within(importer, 'tilery.services') and within(imported, 'tilery.rest'):
        return 'services do not import REST'
    if within(importer, 'tilery.plugins') and importer != 'tilery.plugins':
        own = '.'.join(importer.split('.')[:3])
        if within(imported, own) or imported in CONTRACT:
            return None
        return 'plugins use the core through the contract (%s)' % ', '.join(CONTRACT)
    return None


def import_arrows():
    for path in python_files():
        importer = module_name(path)
        for imported in set(imported_modules(path)):
            if within_tilery(imported):
                reason = wrong_way(importer, imported)
                if reason:
                    yield '%s -> %s' % (importer, imported), reason


def within_tilery(name):
    return name == 'tilery' or name.startswith('tilery.')


def test_imports_run_one_way():
    arrows = dict(import_arrows())
    new = {a: why for a, why in arrows.items() if a not in IMPORTS_ALLOWED}
    assert not new, 'wrong-way imports: %s' % new
    fixed = sorted(IMPORTS_ALLOWED - set(arrows))
    assert not fixed, 'remove these from IMPORTS_ALLOWED: %s' % fixed


def test_the_checks_see_what_they_check():
    # the walkers find what they look for (a broken walker would pass everything)
    scores = complexities()
    assert scores['plugins/__init__.py:load_order.visit'] >= 4
    assert len(scores) > 500
    assert 'tilery.errors' in set(imported_modules(ROOT / 'models' / 'base.py'))
    assert wrong_way('tilery.models.base', 'tilery.rest.params')
    assert wrong_way('tilery.services.tree', 'tilery.rest')
    assert wrong_way('tilery.plugins.labels.rest', 'tilery.plugins.annotation.service')
    assert wrong_way('tilery.plugins.labels.rest', 'tilery.models.base')
    assert not wrong_way('tilery.plugins.labels.rest', 'tilery.plugins.labels.service')
    assert not wrong_way('tilery.plugins.labels.rest', 'tilery.plugins')


def is_rest_module(name):
    parts = name.split('.')
    return name.startswith('tilery.rest') or parts[-1] == 'rest'


def collection_writes(path):
    """'Class.function' of each pymongo write call on ``x.collection`` or ``db[...]``."""
    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from visit(child, scope + [child.name])
                continue
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and \
                    child.func.attr in WRITE_METHODS and (
                        isinstance(child.func.value, ast.Subscript) or (
                            isinstance(child.func.value, ast.Attribute) and
                            child.func.value.attr in ('collection', 'collections'))):
                yield '.'.join(scope)
            yield from visit(child, scope)
    return set(visit(ast.parse(path.read_text()), []))


def test_rest_handlers_do_not_write_to_collections():
    writes = {'%s:%s' % (module_name(path), where) for path in python_files()
              if is_rest_module(module_name(path)) for where in collection_writes(path)}
    new = sorted(writes - REST_WRITES_ALLOWED)
    assert not new, 'move these writes into a model or service: %s' % new
    fixed = sorted(REST_WRITES_ALLOWED - writes)
    assert not fixed, 'remove these from REST_WRITES_ALLOWED: %s' % fixed
    # the walker sees a write where the models keep theirs
    assert 'Folder.set_access_recursive' in collection_writes(ROOT / 'models' / 'folder.py')


# Who may take a collection from the database: the core models, a plugin's models
# (plugins/<name>/model.py), the assetstores (file bytes, below the models) and backup
# (it copies every collection, plugins' too, by name, with no app running to own them).
HANDLE_OWNERS = ('tilery.models', 'tilery.assetstores', 'tilery.backup')
DATABASE_ATTRIBUTES = set(dir(pymongo.database.Database))


def collection_handles(path):
    """Line numbers where ``path`` takes a collection from a database object (``db``)."""
    def is_db(node):
        return (isinstance(node, ast.Name) and node.id == 'db') or (
            isinstance(node, ast.Attribute) and node.attr == 'db')
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript) and is_db(node.value):
            yield node.lineno
        elif isinstance(node, ast.Attribute) and is_db(node.value) and (
                node.attr == 'get_collection' or node.attr not in DATABASE_ATTRIBUTES):
            yield node.lineno


def owns_handles(name):
    return any(name == p or name.startswith(p + '.') for p in HANDLE_OWNERS) or (
        name.startswith('tilery.plugins.') and name.endswith('.model'))


def test_only_models_take_collection_handles():
    found = {'%s:%d' % (module_name(path), line) for path in python_files()
             if not owns_handles(module_name(path)) for line in collection_handles(path)}
    assert not found, 'take collections through a registered model: %s' % sorted(found)
    # the walker sees the handles the models take
    assert list(collection_handles(ROOT / 'models' / 'base.py'))
    assert list(collection_handles(ROOT / 'plugins' / 'annotation' / 'model.py'))
