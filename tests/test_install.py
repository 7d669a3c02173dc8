"""README's "Installing from a wheel", run as written: the wheel built in (a
copy of) the checkout, installed into a fresh virtualenv outside it, and the
installed ``zhsearch`` used from a folder with no ``seeds``.

``~`` in the example is a temporary folder here, and ``serve`` binds a free
port (``--port 0``) instead of 8000; everything else is the README's text,
which the first test reads so that the two cannot drift apart.  The
dependencies come from the package index as for a user (pip's cache makes it
quick); the wheel's build is checked to print no deprecation warning.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import search
from tests.serving import _wait_for_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent

# The example, line by line: (command, folder it runs in).
IN_CHECKOUT = [
    "pip wheel --no-deps . -w dist",
    "python3 -m venv ~/zhsearch-env",
    "~/zhsearch-env/bin/pip install dist/zhsearch-*.whl",
]
ACTIVATE = "cd ~ && source ~/zhsearch-env/bin/activate"
ANYWHERE = [
    "zhsearch --version",
    "zhsearch index",
    "zhsearch index my-notes/ --index zh-index",
    "zhsearch query 洛阳 --index zh-index",
    "zhsearch serve --index zh-index --port 8000",
]

NOTES = {
    "luoyang.txt": "洛阳的牡丹\n\n四月，洛阳城里的牡丹开了。",
    "kaifeng.md": "# 开封\n\n开封的菊花很有名。",
    "hangzhou.txt": "杭州西湖\n\n西湖边游客很多。",
}


def _readme_example() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Installing from a wheel\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    return [line.split(" #", 1)[0].strip() for line in block.splitlines()
            if line.strip() and not line.startswith("#")]


def test_the_readme_example_is_the_one_run_here():
    assert _readme_example() == [*IN_CHECKOUT, ACTIVATE, *ANYWHERE]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(home, environment of the activated virtualenv, build output)."""
    root = tmp_path_factory.mktemp("install")
    home, checkout = root / "home", root / "checkout"
    home.mkdir()
    # The checkout as a clone has it: tracked files and new ones, nothing ignored.
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    env = dict(os.environ)
    env.pop("SEARCH_INDEX", None)
    env.pop("VIRTUAL_ENV", None)
    # `pip` in the checkout is the project's own (make install); the cache is the user's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    output = []
    for line in IN_CHECKOUT:
        command = line.replace("~", str(home))
        done = subprocess.run(["bash", "-c", command], cwd=checkout, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
        output.append(done.stdout + done.stderr)
    venv = home / "zhsearch-env"
    active = dict(env, VIRTUAL_ENV=str(venv),
                  PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    for name, text in NOTES.items():
        (home / "my-notes").mkdir(exist_ok=True)
        (home / "my-notes" / name).write_text(text, encoding="utf-8")
    return home, active, output


def run(installed, line: str, **kwargs):
    home, env, _ = installed
    return subprocess.run(["bash", "-c", line], cwd=home, env=env, capture_output=True,
                          text=True, timeout=300, **kwargs)


def test_the_wheel_builds_without_deprecation_warnings(installed):
    _, _, output = installed
    wheel_build = output[0]
    assert "deprecat" not in wheel_build.lower() and "BuildBackendWarning" not in wheel_build
    assert re.search(r"zhsearch-[\d.]+-py3-none-any\.whl", wheel_build), wheel_build


def test_version(installed):
    done = run(installed, "zhsearch --version")
    assert done.returncode == 0 and done.stdout.strip() == f"zhsearch {search.__version__}"


def test_index_without_a_source_says_what_to_pass(installed):
    home = installed[0]
    assert not (home / "seeds").exists()
    done = run(installed, "zhsearch index")
    assert done.returncode == 2
    assert "`zhsearch index FOLDER ... --index DIR`" in done.stderr
    assert "make index" not in done.stderr and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def built(installed):
    done = run(installed, "zhsearch index my-notes/ --index zh-index")
    assert done.returncode == 0, done.stderr
    return done


def test_index_builds_the_folder(built, installed):
    assert built.stdout.startswith("full build: indexed 3 documents into zh-index")
    assert (installed[0] / "zh-index" / "current").exists()


def test_query_finds_the_document(built, installed):
    done = run(installed, "zhsearch query 洛阳 --index zh-index")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1 result for '洛阳'")
    assert any("[luoyang.txt]" in line for line in lines), done.stdout


def test_serve_answers(built, installed):
    home, env, _ = installed
    command = "zhsearch serve --index zh-index --port 8000".replace("--port 8000", "--port 0")
    log = open(home / "serve.log", "w+", encoding="utf-8")
    proc = subprocess.Popen(["bash", "-c", f"exec {command} --processes 1"], cwd=home, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        base = _wait_for_server(proc, log)
        with urllib.request.urlopen(base + "/api/search?q=%E6%B4%9B%E9%98%B3", timeout=30) as resp:
            answer = json.load(resp)
        assert answer["total"] == 1 and answer["hits"][0]["id"] == "luoyang.txt"
        with urllib.request.urlopen(base + "/", timeout=30) as resp:
            assert "简繁搜索" in resp.read().decode("utf-8")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_the_packages_are_the_installed_ones_and_typed(installed):
    home, env, _ = installed
    done = run(installed, "python -c 'import json, search, webui; "
                          "print(json.dumps([search.__file__, webui.__file__]))'")
    assert done.returncode == 0, done.stderr
    venv = Path(env["VIRTUAL_ENV"]).resolve()
    for module in map(Path, json.loads(done.stdout)):
        assert venv in module.resolve().parents and REPO not in module.resolve().parents
        assert (module.parent / "py.typed").is_file()
        assert (module.parent / ("data" if module.parent.name == "search" else "templates")).is_dir()


def test_the_distribution_says_its_licence(installed):
    done = run(installed, "python -c 'from importlib import metadata; "
                          "m = metadata.metadata(\"zhsearch\"); "
                          "print(m[\"License-Expression\"], m[\"Name\"], m[\"Version\"]); "
                          "print(*[str(f) for f in metadata.files(\"zhsearch\") "
                          "if f.name == \"LICENSE\"])'")
    assert done.returncode == 0, done.stderr
    head, licence = done.stdout.splitlines()
    assert head == f"MIT zhsearch {search.__version__}"
    assert licence.endswith("licenses/LICENSE")
