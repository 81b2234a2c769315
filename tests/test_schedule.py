"""The order in which the suite's modules are handed to pytest-xdist's workers
(tests/conftest.py: LONGEST_MODULES, longest_modules_first)."""

from types import SimpleNamespace

from conftest import LONGEST_MODULES, REPO, longest_modules_first


def test_every_module_listed_as_longest_exists():
    # A renamed or removed module would otherwise drop out of the schedule unnoticed.
    assert [module for module in LONGEST_MODULES if not (REPO / module).is_file()] == []
    assert len(set(LONGEST_MODULES)) == len(LONGEST_MODULES)


def test_the_longest_modules_run_first_and_each_module_stays_together_in_its_order():
    first, second = LONGEST_MODULES[0], LONGEST_MODULES[1]
    ids = [
        "tests/a/test_short.py::test_one",
        f"{second}::test_a",
        "tests/a/test_short.py::test_two",
        f"{first}::test_b",
        "tests/b/test_other.py::test_x",
        f"{second}::test_c",
        f"{first}::test_a[1]",
    ]
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in ids]
    longest_modules_first(items)
    assert [item.nodeid for item in items] == [
        f"{first}::test_b",
        f"{first}::test_a[1]",
        f"{second}::test_a",
        f"{second}::test_c",
        "tests/a/test_short.py::test_one",
        "tests/a/test_short.py::test_two",
        "tests/b/test_other.py::test_x",
    ]
