"""One configuration path: defaults < settings file < environment < command-line options given,
the same for every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lod.settings import Settings

from .conftest import FIXTURES

# Every setting a command line can set, with three values: the file's, the environment's, the option's.
SETTABLE = {
    "base_iri": ("https://file.example/", "https://env.example/", "https://option.example/"),
    "release_dir": (Path("from-file"), Path("from-env"), Path("from-option")),
    "host": ("10.0.0.1", "10.0.0.2", "10.0.0.3"),
    "port": (8101, 8102, 8103),
    "workers": (3, 4, 5),
}


def toml_value(value: object) -> str:
    return str(value) if isinstance(value, int) else json.dumps(str(value))


@pytest.mark.parametrize("name", sorted(SETTABLE))
@pytest.mark.parametrize("given", ["nothing", "file", "file+env", "file+env+option"])
def test_precedence(tmp_path: Path, name: str, given: str) -> None:
    from_file, from_env, from_option = SETTABLE[name]
    config = tmp_path / "lod.toml"
    config.write_text(f"{name} = {toml_value(from_file)}\n" if "file" in given else "")
    environ = {f"LOD_{name.upper()}": str(from_env)} if "env" in given else {}
    options = {name: from_option} if "option" in given else {name: None}
    settings = Settings.load(config=config, environ=environ, **options)
    expected = {"nothing": getattr(Settings(), name), "file": from_file, "file+env": from_env,
                "file+env+option": from_option}[given]
    assert getattr(settings, name) == expected


def run_lod(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOD_")}
    return subprocess.run([sys.executable, "-m", "lod", *args], cwd=cwd, capture_output=True, text=True,
                          env={**clean, **(env or {})}, check=False)


@pytest.mark.parametrize(("config_iri", "env_iri", "option_iri", "expected"), [
    ("https://file.example/", None, None, "https://file.example/"),
    ("https://file.example/", "https://env.example/", None, "https://env.example/"),
    ("https://file.example/", "https://env.example/", "https://option.example/", "https://option.example/"),
])
def test_lod_build_mints_under_the_configured_base(tmp_path: Path, config_iri: str, env_iri: str | None,
                                                   option_iri: str | None, expected: str) -> None:
    config = tmp_path / "lod.toml"
    config.write_text(f'base_iri = "{config_iri}"\nrelease_dir = "{tmp_path / "release"}"\n')
    args = ["build", str(FIXTURES / "minimal"), "--allow-warnings", "--config", str(config)]
    if option_iri:
        args += ["--base-iri", option_iri]
    done = run_lod(*args, cwd=tmp_path, env={"LOD_BASE_IRI": env_iri} if env_iri else None)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "release" / "current" / "manifest.json").read_text())
    assert manifest["base_iri"] == expected
