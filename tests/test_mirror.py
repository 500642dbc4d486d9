"""`nnbook.torch` and `nnbook.tf` mirror each other: the same modules, and in each pair of twins the same
public names in the same order, of the same kind, taking the same arguments.

Modules are discovered, not listed: a module added to one framework without its twin fails here."""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import importlib
import inspect
import pkgutil

import pytest

import nnbook.torch

FRAMEWORKS = {"torch": nnbook.torch, "tf": nnbook.tf}
# Names one framework has and the other cannot: Keras' functional models, which PyTorch writes as modules;
# the two ends of moving trained transformer weights from PyTorch to Keras (NumPy in between).
ONE_FRAMEWORK_ONLY = {("tf", "graphs"): {"build_main_aux_model", "build_functional_model"},
                      ("torch", "graphs"): {"MainAuxModel"},
                      ("tf", "transformer"): {"load_torch_weights"},
                      ("torch", "transformer"): {"numpy_weights"}}
# Arguments only one framework's signatures take: where PyTorch puts tensors, and Keras' layer options.
FRAMEWORK_ARGUMENTS = {"device"}


def submodules(package) -> list[str]:
    return sorted(module.name for module in pkgutil.iter_modules(package.__path__))


MODULES = sorted({name for package in FRAMEWORKS.values() for name in submodules(package)})


def twins(name: str) -> dict:
    """Both frameworks' module `name`; fails naming the framework that lacks it."""
    found = {}
    for framework, package in FRAMEWORKS.items():
        try:
            found[framework] = importlib.import_module(f"{package.__name__}.{name}")
        except ModuleNotFoundError:
            pytest.fail(f"nnbook.{framework} has no module {name!r}: each module needs its twin")
    return found


def public_names(module, framework: str, name: str) -> list[str]:
    assert hasattr(module, "__all__"), f"{module.__name__}: no __all__"
    only_here = ONE_FRAMEWORK_ONLY.get((framework, name), set())
    return [public for public in module.__all__ if public not in only_here]


def parameters(obj) -> list[str]:
    """The parameter names of a function or class constructor, less framework-only ones."""
    return [
        parameter.name
        for parameter in inspect.signature(obj).parameters.values()
        if parameter.kind is not parameter.VAR_KEYWORD and parameter.name not in FRAMEWORK_ARGUMENTS
    ]


def test_both_frameworks_have_the_same_modules():
    assert submodules(nnbook.torch) == submodules(nnbook.tf)


def test_both_framework_packages_say_which_device_they_run_on():
    assert callable(nnbook.torch.device) and callable(nnbook.tf.device)


@pytest.mark.parametrize("name", MODULES)
def test_twin_modules_define_the_same_public_names_in_the_same_order(name):
    modules = twins(name)
    names = {framework: public_names(module, framework, name) for framework, module in modules.items()}
    assert names["torch"] == names["tf"]
    for module in modules.values():
        missing = [public for public in module.__all__ if not hasattr(module, public)]
        assert not missing, f"{module.__name__}.__all__ names what it does not define: {missing}"
    for (framework, module_name), only_here in ONE_FRAMEWORK_ONLY.items():
        if module_name == name:  # still there, and still in one framework only
            other = modules["torch" if framework == "tf" else "tf"]
            assert only_here <= set(modules[framework].__all__), only_here
            assert not any(hasattr(other, public) for public in only_here), only_here


@pytest.mark.parametrize("name", MODULES)
def test_twin_names_are_of_the_same_kind_and_take_the_same_arguments(name):
    modules = twins(name)
    for public in public_names(modules["torch"], "torch", name):
        t, k = getattr(modules["torch"], public), getattr(modules["tf"], public)
        where = f"{name}.{public}"
        if inspect.isclass(t) or inspect.isfunction(t):
            if not t.__module__.startswith(("nnbook.torch", "nnbook.tf")):
                assert t is k, f"{where}: taken from a neutral module, so one object for both"
                continue
            kinds = [(inspect.isclass(x), inspect.isfunction(x)) for x in (t, k)]
            assert kinds[0] == kinds[1], f"{where}: a class in one framework, a function in the other"
            assert parameters(t) == parameters(k), where
        elif isinstance(t, dict):  # a table keyed by name, e.g. the activations an MLP accepts
            assert list(t) == list(k), where
        else:
            assert type(t) is type(k), where
