"""The layering contract: which package may import which, and no import cycles between modules.

Two checks, both static (the files are parsed, nothing is imported, Django is not needed):

- the ``forbidden`` contracts in ``[tool.importlinter]`` of pyproject.toml (rules 2 to 6), run
  through import-linter with its cache off;
- no import cycle between the modules of accounts, mfa_policies, enrollment, api and config
  (rule 1), counted on grimp's import graph, in which an import inside a function is an import
  like any other: moving an import into a function to dodge a cycle leaves the cycle in place.
  Migrations are left out: nothing imports them.

import-linter's own ``acyclic_siblings`` contract is not used for rule 1: it squashes each sibling
package into one node (so ``a.x -> b.y`` plus ``b.z -> a.w`` counts as a cycle although no module
is on one), never compares two top-level packages, and names the imports to remove rather than
the cycle.

Each failure lists every violation as ``path:line`` with the import statement.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import itertools
import sys
import textwrap
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import grimp
import importlinter.api  # noqa: F401  (importing it configures import-linter: config readers, graph builder)
import pytest
from importlinter.application import use_cases
from importlinter.application.output import console as importlinter_console
from importlinter.application.user_options import UserOptions
from importlinter.domain.helpers import module_expressions_to_modules
from importlinter.domain.imports import ModuleExpression

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
PACKAGES = ("accounts", "mfa_policies", "enrollment", "api", "config")

# The core of mfa_policies is every module of it except these (and migrations).
CORE_EXCEPTIONS = (
    "mfa_policies.access",  # the enforcement runtime
    "mfa_policies.admin",  # the admin console
    "mfa_policies.demo",  # the demo
    "mfa_policies.apps",  # composition root: AppConfig.ready wiring
    "mfa_policies.management",  # composition root: management commands
)
CORE_CONTRACT_ID = "core"


# --- Building the graph --------------------------------------------------------------------------


@contextlib.contextmanager
def importable_from(root: Path) -> Iterator[None]:
    """Put ``root`` first on sys.path while grimp locates the packages (it never imports them)."""
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(root))
        importlib.invalidate_caches()


def check_packages_resolve_under(root: Path, packages: Iterable[str]) -> None:
    """Fail loudly if a package name (``api``, ``config``) resolves to some other installed package."""
    for package in packages:
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        if not any(Path(location).resolve().is_relative_to(root.resolve()) for location in locations):
            pytest.fail(f"package {package!r} resolves to {locations or 'nothing'}, not to a folder under {root}")


def build_graph(root: Path, packages: Sequence[str]) -> grimp.ImportGraph:
    with importable_from(root):
        check_packages_resolve_under(root, packages)
        return grimp.build_graph(*packages, cache_dir=None)


def is_migration(module: str) -> bool:
    return "migrations" in module.split(".")


# --- Rule 1: import cycles between modules ---------------------------------------------------------


def strongly_connected_components(nodes: Iterable[str], successors) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit). Each component comes back sorted."""
    index_of: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    for start in sorted(nodes):
        if start in index_of:
            continue
        index_of[start] = lowlink[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(successors(start))))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index_of:
                    index_of[child] = lowlink[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(successors(child)))))
                    break
                if child in on_stack:
                    lowlink[node] = min(lowlink[node], index_of[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index_of[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def shortest_cycle_through(start: str, members: set[str], successors) -> list[str]:
    """The shortest ``start -> ... -> start`` within one strongly connected component."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(successors(node)):
            if child not in members:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is on no cycle within {sorted(members)}")


def import_cycles(graph: grimp.ImportGraph) -> list[list[list[str]]]:
    """Every import cycle between modules, migrations left out.

    One entry per strongly connected component of more than one module: a list of cycles
    (``[a, b, a]``) that together pass through every module of the component. A module importing
    itself is not a cycle; neither is a package ``__init__`` importing its own submodule unless the
    submodule (or something it imports) imports the package back.
    """
    modules = {module for module in graph.modules if not is_migration(module)}

    def successors(module: str) -> set[str]:
        return {m for m in graph.find_modules_directly_imported_by(module) if m in modules and m != module}

    found = []
    for component in strongly_connected_components(modules, successors):
        if len(component) < 2:
            continue
        members, uncovered, cycles = set(component), set(component), []
        while uncovered:
            cycle = shortest_cycle_through(min(uncovered), members, successors)
            cycles.append(cycle)
            uncovered -= set(cycle)
        found.append(cycles)
    return found


# --- Describing imports as path:line ---------------------------------------------------------------


def module_path(root: Path, module: str) -> Path:
    base = root.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def describe_import(graph: grimp.ImportGraph, root: Path, importer: str, imported: str) -> list[str]:
    """``path:line: statement`` for each line where ``importer`` imports ``imported``."""
    path = module_path(root, importer)
    try:
        source_lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        source_lines = []
    lines = []
    details = sorted(graph.get_import_details(importer=importer, imported=imported), key=lambda d: d["line_number"])
    for detail in details:
        number = detail["line_number"]
        source = source_lines[number - 1] if 0 < number <= len(source_lines) else ""
        nested = "   [nested: inside a function or block]" if source[:1].isspace() else ""
        lines.append(f"{path.relative_to(root)}:{number}: {detail['line_contents'].strip()}{nested}")
    return lines or [f"{path.relative_to(root)}: (import of {imported} not found in the graph)"]


def describe_chain(graph: grimp.ImportGraph, root: Path, chain: Sequence[str]) -> list[str]:
    lines = [" -> ".join(chain)]
    for importer, imported in itertools.pairwise(chain):
        lines += [f"    {line}" for line in describe_import(graph, root, importer, imported)]
    return lines


def single_cycle_breakers(graph: grimp.ImportGraph, members: set[str]) -> list[tuple[str, str]]:
    """The imports between ``members`` whose removal alone leaves no cycle among them."""
    imports = {a: {b for b in graph.find_modules_directly_imported_by(a) if b in members and b != a} for a in members}
    breakers = []
    for importer, imported in sorted((a, b) for a, targets in imports.items() for b in targets):

        def successors(module, importer=importer, imported=imported):
            return imports[module] - {imported} if module == importer else imports[module]

        if all(len(component) < 2 for component in strongly_connected_components(members, successors)):
            breakers.append((importer, imported))
    return breakers


def describe_cycles(graph: grimp.ImportGraph, root: Path, cycles: list[list[list[str]]]) -> str:
    parts = [f"{len(cycles)} import cycle(s) between modules (imports inside functions count):"]
    for number, component in enumerate(cycles, start=1):
        members = sorted({module for cycle in component for module in cycle})
        parts.append(f"\nCycle {number}, through {len(members)} modules: {', '.join(members)}")
        for cycle in component:
            parts += [f"  {line}" for line in describe_chain(graph, root, cycle)]
        breakers = single_cycle_breakers(graph, set(members))
        if breakers and len(component) > 1:
            parts.append("  Removing any one of these imports alone breaks all of it:")
            parts += [f"      {line}" for a, b in breakers for line in describe_import(graph, root, a, b)]
    return "\n".join(parts)


# --- Rules 2 to 6: import-linter's contracts -------------------------------------------------------


def read_layer_contracts(config: Path):
    return use_cases.read_user_options(str(config))


def create_report(user_options):
    use_cases._register_built_in_contract_types()  # what `lint-imports` does before create_report
    with contextlib.redirect_stdout(io.StringIO()):  # its progress display
        return use_cases.create_report(user_options, cache_dir=None)


def layer_contract_violations(config: Path, root: Path) -> list[str]:
    """Run every contract in ``config`` (cache off); one text block per broken contract."""
    user_options = read_layer_contracts(config)
    contracts = user_options.contracts_options
    problems, reports = [], []
    with importable_from(root):
        check_packages_resolve_under(root, user_options.session_options["root_packages"])
        try:
            reports.append(create_report(user_options))
        except Exception:  # noqa: BLE001  (whatever it is, isolate it)
            # A contract that cannot run (it names a module that no longer exists, say) stops the
            # whole report: run them one by one so that the others are still checked.
            for contract_options in contracts:
                try:
                    reports.append(create_report(UserOptions(user_options.session_options, [contract_options])))
                except Exception as error:  # noqa: BLE001  (reported below)
                    problems.append(f'Contract "{contract_options["name"]}" could not run: {error}')

    for report in reports:
        problems += [
            f'Contract "{name}" could not run: {error}' for name, error in report.invalid_contract_options.items()
        ]
    checked = sum(report.kept_count + report.broken_count for report in reports)
    if not problems and checked != len(contracts):
        problems.append(f"import-linter checked {checked} of the {len(contracts)} contracts in {config}")
    for report in reports:
        for contract, check in report.get_contracts_and_checks():
            problems += [f'Contract "{contract.name}": {warning}' for warning in check.warnings]
            if not check.kept:
                problems.append(describe_broken_contract(report.graph, root, contract, check))
    return problems


def forbidden_chains(graph: grimp.ImportGraph, contract, check) -> dict[tuple[str, ...], set[str]]:
    """A forbidden contract's violations, each chain cut to the part that breaks the contract.

    import-linter reports one chain per (source module, forbidden module) pair, so one bad import
    deep in the core shows up once for every core module above it and every forbidden module
    behind it. Each chain is cut to run from the last source module on it to the first forbidden
    one (still a real chain of imports that breaks the contract), and the cut chains are deduplicated;
    the value is the source modules whose chains went through it.
    """
    as_packages = str(contract.as_packages).lower() == "true"
    sources = {m.name for m in module_expressions_to_modules(graph, contract.source_modules, as_packages=as_packages)}
    forbidden = {
        m.name for m in module_expressions_to_modules(graph, contract.forbidden_modules, as_packages=as_packages)
    }
    cut: dict[tuple[str, ...], set[str]] = {}
    for entry in check.metadata["invalid_chains"]:
        for chain in entry["chains"]:
            modules = [chain[0]["importer"], *(step["imported"] for step in chain)]
            end = next((i for i in range(1, len(modules)) if modules[i] in forbidden), len(modules) - 1)
            start = max((i for i in range(end) if modules[i] in sources), default=0)
            cut.setdefault(tuple(modules[start : end + 1]), set()).add(modules[0])
    return cut


def describe_broken_contract(graph: grimp.ImportGraph, root: Path, contract, check) -> str:
    if "invalid_chains" not in check.metadata:  # another contract type: let import-linter say it
        with importlinter_console.capture() as captured:
            contract.render_broken_contract(check)
        return f'Contract "{contract.name}" is broken:\n' + textwrap.indent(captured.get().rstrip(), "  ")
    chains = forbidden_chains(graph, contract, check)
    lines = [f'Contract "{contract.name}" is broken by {len(chains)} chain(s) of imports:']
    for chain, origins in sorted(chains.items()):
        lines += [f"  {line}" for line in describe_chain(graph, root, chain)]
        if origins - {chain[0]}:
            lines.append(f"      (reached the same way from {', '.join(sorted(origins - {chain[0]}))})")
    return "\n".join(lines)


# --- The project ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_graph() -> grimp.ImportGraph:
    return build_graph(ROOT, PACKAGES)


def test_no_module_import_cycles_counting_imports_inside_functions(project_graph):
    cycles = import_cycles(project_graph)
    if cycles:
        pytest.fail(describe_cycles(project_graph, ROOT, cycles), pytrace=False)


def test_layer_contracts_hold():
    problems = layer_contract_violations(PYPROJECT, ROOT)
    if problems:
        pytest.fail(f"{len(problems)} layer contract(s) broken:\n\n" + "\n\n".join(problems), pytrace=False)


def test_the_core_contract_names_every_core_module(project_graph):
    """Rule 2 lists the core module by module; a module added to the core must be added there."""
    contracts = {contract.get("id"): contract for contract in read_layer_contracts(PYPROJECT).contracts_options}
    listed = {
        module.name
        for module in module_expressions_to_modules(
            project_graph,
            [ModuleExpression(expression) for expression in contracts[CORE_CONTRACT_ID]["source_modules"]],
        )
    }
    core = {
        module
        for module in project_graph.modules
        if (module == "mfa_policies" or module.startswith("mfa_policies."))
        and not is_migration(module)
        and not any(module == name or module.startswith(f"{name}.") for name in CORE_EXCEPTIONS)
    }
    problems = []
    if core - listed:
        problems.append(
            f'add to source_modules of the "{CORE_CONTRACT_ID}" contract: {", ".join(sorted(core - listed))}'
        )
    if listed - core:
        problems.append(
            f'remove from source_modules of the "{CORE_CONTRACT_ID}" contract (not a core module, or gone): '
            f"{', '.join(sorted(listed - core))}"
        )
    if problems:
        pytest.fail("pyproject.toml, [tool.importlinter]: " + "; ".join(problems), pytrace=False)


# --- The checks can fail -------------------------------------------------------------------------


def write_package(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_cycle_check_catches_a_cycle_hidden_in_a_function(tmp_path):
    write_package(
        tmp_path,
        {
            "layering_probe_cycle/__init__.py": "",
            "layering_probe_cycle/policy.py": "from layering_probe_cycle import runtime\n",
            "layering_probe_cycle/runtime.py": """\
                def enforce():
                    from layering_probe_cycle.policy import resolve
                    return resolve()
                """,
            "layering_probe_cycle/leaf.py": "import layering_probe_cycle.policy\n",
        },
    )
    graph = build_graph(tmp_path, ["layering_probe_cycle"])

    cycles = import_cycles(graph)

    assert cycles == [[["layering_probe_cycle.policy", "layering_probe_cycle.runtime", "layering_probe_cycle.policy"]]]
    described = describe_cycles(graph, tmp_path, cycles)
    assert "layering_probe_cycle/policy.py:1: from layering_probe_cycle import runtime" in described
    assert (
        "layering_probe_cycle/runtime.py:2: from layering_probe_cycle.policy import resolve"
        "   [nested: inside a function or block]"
    ) in described


def test_a_package_importing_its_own_submodule_is_a_cycle_only_when_imported_back(tmp_path):
    write_package(
        tmp_path,
        {
            "layering_probe_init/__init__.py": "from layering_probe_init.models import Policy\n",
            "layering_probe_init/models.py": "from layering_probe_init import constants\nclass Policy: ...\n",
            "layering_probe_init/constants.py": "",
            "layering_probe_back/__init__.py": "from layering_probe_back.models import Policy\nVERSION = 1\n",
            "layering_probe_back/models.py": "def version():\n    from layering_probe_back import VERSION\n",
        },
    )

    assert import_cycles(build_graph(tmp_path, ["layering_probe_init"])) == []
    assert import_cycles(build_graph(tmp_path, ["layering_probe_back"])) == [
        [["layering_probe_back", "layering_probe_back.models", "layering_probe_back"]]
    ]


def test_the_layer_check_catches_a_forbidden_import_even_indirect_and_inside_a_function(tmp_path):
    write_package(
        tmp_path,
        {
            "layering_probe_layers/__init__.py": "",
            "layering_probe_layers/core.py": "from layering_probe_layers import helpers\n",
            "layering_probe_layers/helpers.py": """\
                def later():
                    from layering_probe_layers.runtime import enforce
                """,
            "layering_probe_layers/runtime.py": "def enforce(): ...\n",
        },
    )
    config = tmp_path / "pyproject.toml"
    config.write_text(
        textwrap.dedent("""\
            [tool.importlinter]
            root_packages = ["layering_probe_layers"]

            [[tool.importlinter.contracts]]
            name = "The core never imports the runtime"
            type = "forbidden"
            source_modules = ["layering_probe_layers.core"]
            forbidden_modules = ["layering_probe_layers.runtime"]
            """),
        encoding="utf-8",
    )

    problems = layer_contract_violations(config, tmp_path)

    assert len(problems) == 1
    assert problems[0].splitlines() == [
        'Contract "The core never imports the runtime" is broken by 1 chain(s) of imports:',
        "  layering_probe_layers.core -> layering_probe_layers.helpers -> layering_probe_layers.runtime",
        "      layering_probe_layers/core.py:1: from layering_probe_layers import helpers",
        (
            "      layering_probe_layers/helpers.py:2: from layering_probe_layers.runtime import enforce"
            "   [nested: inside a function or block]"
        ),
    ]


def test_a_contract_naming_a_missing_module_is_reported_and_the_others_still_run(tmp_path):
    write_package(
        tmp_path,
        {
            "layering_probe_moved/__init__.py": "",
            "layering_probe_moved/core.py": "import layering_probe_moved.runtime\n",
            "layering_probe_moved/runtime.py": "",
        },
    )
    config = tmp_path / "pyproject.toml"
    config.write_text(
        textwrap.dedent("""\
            [tool.importlinter]
            root_packages = ["layering_probe_moved"]

            [[tool.importlinter.contracts]]
            name = "Names a module that was moved away"
            type = "forbidden"
            source_modules = ["layering_probe_moved.gone"]
            forbidden_modules = ["layering_probe_moved.runtime"]

            [[tool.importlinter.contracts]]
            name = "The core never imports the runtime"
            type = "forbidden"
            source_modules = ["layering_probe_moved.core"]
            forbidden_modules = ["layering_probe_moved.runtime"]
            """),
        encoding="utf-8",
    )

    problems = layer_contract_violations(config, tmp_path)

    assert problems[0] == (
        "Contract \"Names a module that was moved away\" could not run: Module 'layering_probe_moved.gone' does not exist."
    )
    assert (
        problems[1].splitlines()[0]
        == 'Contract "The core never imports the runtime" is broken by 1 chain(s) of imports:'
    )
    assert "layering_probe_moved/core.py:1: import layering_probe_moved.runtime" in problems[1]
    assert len(problems) == 2
