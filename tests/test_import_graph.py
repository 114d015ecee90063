"""No import cycle anywhere in the project, across apps too.

The `acyclic_siblings` contract in .importlinter only sees cycles inside one package; a cycle
such as dashboard.home -> tuning.home -> dashboard.home crosses two. grimp (import-linter's
graph library) reads the sources without importing them and counts imports inside function
bodies as well.
"""

import grimp

PROJECT_PACKAGES = ("dashboard", "tuning", "cachemetrics", "aws", "sandbox", "notifications")


def find_cycles(graph: grimp.ImportGraph) -> set[tuple[str, ...]]:
    """Each cycle once, as the shortest path from its smallest module back to it."""
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            way_back = graph.find_shortest_chain(importer=imported, imported=importer)
            if way_back:
                cycle = (importer, *way_back)
                start = cycle.index(min(cycle))
                cycles.add(cycle[start:] + cycle[1 : start + 1])
    return cycles


def test_no_module_imports_itself_through_other_modules():
    graph = grimp.build_graph(*PROJECT_PACKAGES, cache_dir=None)

    cycles = find_cycles(graph)

    assert not cycles, "Import cycles:\n" + "\n".join(" -> ".join(c) for c in sorted(cycles))
