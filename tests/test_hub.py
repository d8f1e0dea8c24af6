"""``lampkit push`` and loading back with stock clients, over HTTP against the local Hub (``hub`` fixture)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import datasets
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from lampkit import cli_hub
from lampkit.errors import LampkitError
from lampkit.hub import download_repo
from lampkit.tasks import get_task

LAMPKIT = Path(sys.executable).with_name("lampkit")
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "lamp"
REPO = "lampkit-org/lamp"

#: Loads configs (argv) in a child process with stock ``datasets``, the token (if any) in HF_TOKEN as a user would
#: set it, and prints ``{config: {split: rows}}`` as JSON, or ``{"error": class name}``.
LOADER = """
import json, sys
import datasets
try:
    out = {c: {s: d.to_list() for s, d in datasets.load_dataset(sys.argv[1], c).items()} for c in sys.argv[2:]}
except Exception as err:
    out = {"error": type(err).__name__, "message": str(err)}
print(json.dumps(out))
"""


def rows(task: str, split: str, n: int, tag: str = "") -> list[dict]:
    """``n`` LaMP-shaped records whose profile items carry the task's fields from the registry."""
    fields = get_task(task).profile_fields
    return [
        {
            "id": f"{task}-{split}-{i}",
            "input": f"{tag}input {i} of {split}",
            "output": f"{tag}output {i}",
            "profile": [{f.name: f"{f.name} {i}.{j}" for f in fields} for j in range(i + 1)],
        }
        for i in range(n)
    ]


def make_folder(folder: Path, configs: dict[str, dict[str, list[dict]]], shards: int = 1) -> Path:
    """A Hub-ready dataset folder: ``data/<config>/<split>-0000k-of-0000n.parquet`` and a README with ``configs:``."""
    yaml_lines = ["---", "configs:"]
    for config, splits in configs.items():
        yaml_lines += [f"- config_name: {config}", "  data_files:"]
        for split, records in splits.items():
            for k in range(shards):
                path = folder / "data" / config / f"{split}-{k:05d}-of-{shards:05d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                datasets.Dataset.from_list(records[k::shards]).to_parquet(str(path))
            yaml_lines += [f"  - split: {split}", f"    path: data/{config}/{split}-*"]
    yaml_lines += ["license: other", "---", "", "# LaMP (test)", ""]
    (folder / "README.md").write_text("\n".join(yaml_lines), encoding="utf-8")
    return folder


def two_configs(tag: str = "") -> dict:
    return {
        "LaMP_4_user": {"train": rows("LaMP_4", "train", 4, tag), "validation": rows("LaMP_4", "dev", 2, tag)},
        "LaMP_7_user": {"train": rows("LaMP_7", "train", 3), "validation": rows("LaMP_7", "dev", 2)},
    }


def push(hub, folder: Path, *args: str, token: str | None = None, debug=False) -> subprocess.CompletedProcess:
    """``lampkit push`` (the console script) in a child process; ``token`` goes in HF_TOKEN; ``debug`` turns on
    ``huggingface_hub``'s debug log (every request)."""
    env = dict(hub.fresh_env(token), **({"HF_HUB_VERBOSITY": "debug"} if debug else {}))
    return subprocess.run([str(LAMPKIT), "push", str(folder), "--repo-id", REPO, *args], env=env,
                          capture_output=True, text=True, timeout=120)


def load(hub, *configs: str, token: str | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    done = hub.python(LOADER, REPO, *configs, token=token)
    return json.loads(done.stdout.strip().splitlines()[-1]), done


def sorted_rows(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: r["id"])


def assert_no_token(token: str, *texts: str, under: tuple[Path, ...] = ()) -> None:
    """The token is in none of ``texts`` and in no file below ``under``."""
    for text in texts:
        assert token not in text
    for root in under:
        for path in root.rglob("*"):
            if path.is_file():
                assert token.encode() not in path.read_bytes(), path


def test_push_public_then_anyone_loads_it_with_stock_datasets(hub, tmp_path):
    configs = two_configs()
    folder = make_folder(tmp_path / "out", configs)

    done = push(hub, folder, token=hub.token, debug=True)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{hub.url}/datasets/{REPO}"
    assert "/api/datasets/lampkit-org/lamp/commit/main" in done.stderr  # the debug log was captured
    assert urlsplit(hub.url).hostname == "127.0.0.1"
    assert hub.server.store.meta("dataset", REPO)["private"] is False
    loaded, child = load(hub, "LaMP_4_user", "LaMP_7_user")  # anonymous, fresh process and cache
    for config, splits in configs.items():
        assert set(loaded[config]) == set(splits)
        for split, records in splits.items():
            assert sorted_rows(loaded[config][split]) == records
    in_process = datasets.load_dataset(REPO, "LaMP_7_user")  # the fixture points this process at the local Hub too
    assert sorted_rows(in_process["train"].to_list()) == configs["LaMP_7_user"]["train"]
    assert in_process["train"].cache_files[0]["filename"].startswith(str(hub.tmp))
    assert hub.server.unhandled == []
    assert_no_token(hub.token, done.stdout, done.stderr, child.stdout, child.stderr, json.dumps(hub.server.requests),
                    under=(hub.root, hub.tmp, folder))


def test_a_lampkit_build_folder_loads_from_the_hub_as_it_loads_locally(hub, tmp_path):
    out, configs = tmp_path / "lamp", ["LaMP_2N_user", "LaMP_7_time"]
    built = subprocess.run([str(LAMPKIT), "build", "lamp", *[a for c in configs for a in ("--config", c)],
                            "--data-dir", str(SAMPLE), "--cache-dir", str(tmp_path / "cache"), "--out", str(out)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr

    local_card = (out / "README.md").read_text(encoding="utf-8")

    done = push(hub, out, token=hub.token)

    assert done.returncode == 0, done.stderr
    loaded, _ = load(hub, *configs)
    for config in configs:
        local = datasets.load_dataset(str(out), config)
        assert {split: rows.to_list() for split, rows in local.items()} == loaded[config]
    pushed_card = (download_repo(REPO, repo_type="dataset", allow_patterns="README.md") / "README.md").read_text()
    assert f'load_dataset("{REPO}", "LaMP_2N_user")' in pushed_card and "<org>/<repo>" not in pushed_card
    assert (out / "README.md").read_text(encoding="utf-8") == local_card and "<org>/<repo>" in local_card
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "lamp"]  # the staging copy is gone


def test_a_folder_with_avocado_configs_is_pushed_private_unless_public_is_explicit(hub, tmp_path):
    out = tmp_path / "lamp"
    built = subprocess.run([str(LAMPKIT), "build", "lamp", "--config", "LaMP_6_user", "--data-dir", str(SAMPLE),
                            "--avocado-dir", str(SAMPLE.parent / "avocado"), "--cache-dir", str(tmp_path / "cache"),
                            "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr

    done = push(hub, out, token=hub.token)

    assert done.returncode == 0, done.stderr
    assert "LaMP_6_user hold Avocado emails" in done.stderr
    assert hub.server.store.meta("dataset", REPO)["private"] is True
    anonymous, _ = load(hub, "LaMP_6_user")
    owner, _ = load(hub, "LaMP_6_user", token=hub.token)
    assert anonymous["error"] == "DatasetNotFoundError"
    assert len(owner["LaMP_6_user"]["train"]) == 2


def test_private_repo_is_only_readable_with_the_owner_token(hub, tmp_path):
    configs = two_configs()
    folder = make_folder(tmp_path / "out", configs)

    done = push(hub, folder, "--private", "--token", hub.token, debug=True)

    assert done.returncode == 0, done.stderr
    assert hub.server.store.meta("dataset", REPO)["private"] is True
    anonymous, _ = load(hub, "LaMP_4_user")
    stranger, _ = load(hub, "LaMP_4_user", token=hub.other_token)
    owner, child = load(hub, "LaMP_4_user", token=hub.token)
    assert anonymous["error"] == stranger["error"] == "DatasetNotFoundError"
    assert sorted_rows(owner["LaMP_4_user"]["train"]) == configs["LaMP_4_user"]["train"]
    with pytest.raises(RepositoryNotFoundError):  # this process, too, reaches the local Hub
        HfApi().repo_info(REPO, repo_type="dataset", token=False)
    assert HfApi().repo_info(REPO, repo_type="dataset", token=hub.token).private is True
    statuses = {(r["user"], r["status"]) for r in hub.server.requests if "/resolve/" in r["path"]}
    assert (None, 401) in statuses and ("stranger", 404) in statuses and ("lampkit-tester", 200) in statuses
    assert_no_token(hub.token, done.stdout, done.stderr, child.stdout, child.stderr, json.dumps(hub.server.requests),
                    under=(hub.root, hub.tmp, folder))


def test_push_again_replaces_changed_files_and_prunes_stale_shards(hub, tmp_path):
    first = make_folder(tmp_path / "v1", two_configs(), shards=2)
    assert push(hub, first, token=hub.token).returncode == 0
    changed = two_configs(tag="v2 ")
    second = make_folder(tmp_path / "v2", changed, shards=1)
    # LaMP_7_user is rebuilt identically, but with one shard instead of two.

    done = push(hub, second, token=hub.token)

    assert done.returncode == 0, done.stderr
    api = HfApi(token=hub.token)
    remote = sorted(api.list_repo_files(REPO, repo_type="dataset"))
    local = sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    assert remote == local  # the two-shard files of v1 are gone
    last = hub.server.commits[-1]
    assert "README.md" not in last["added"]  # unchanged: not sent again
    assert any(p.endswith("-of-00002.parquet") for p in last["deleted"])
    loaded, _ = load(hub, "LaMP_4_user", "LaMP_7_user")
    assert sorted_rows(loaded["LaMP_4_user"]["train"]) == changed["LaMP_4_user"]["train"]
    assert sorted_rows(loaded["LaMP_7_user"]["validation"]) == changed["LaMP_7_user"]["validation"]


def test_model_repos_are_private_by_default_and_download_repo_fetches_them(hub, tmp_path):
    folder = tmp_path / "adapter"
    (folder / "weights").mkdir(parents=True)
    (folder / "README.md").write_text("---\nlibrary_name: peft\n---\n# adapter\n", encoding="utf-8")
    (folder / "adapter_config.json").write_text('{"r": 8}', encoding="utf-8")
    (folder / "weights" / "adapter.bin").write_bytes(bytes(range(256)) * 4)

    done = push(hub, folder, "--repo-type", "model", token=hub.token)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{hub.url}/{REPO}"
    assert hub.server.store.meta("model", REPO)["private"] is True
    with pytest.raises(LampkitError, match="cannot download model repo"):
        download_repo(REPO, repo_type="model")
    got = download_repo(REPO, repo_type="model", token=hub.token, allow_patterns=["*.json", "weights/*"])
    assert sorted(p.relative_to(got).as_posix() for p in got.rglob("*") if p.is_file()) == [
        "adapter_config.json", "weights/adapter.bin"]
    assert (got / "weights" / "adapter.bin").read_bytes() == (folder / "weights" / "adapter.bin").read_bytes()
    assert str(got).startswith(str(hub.tmp))  # the temp HF_HOME, never the user's cache


def test_hub_errors_keep_what_the_server_said(hub):
    with pytest.raises(LampkitError, match=r"cannot download model repo lampkit-tester/nope .*: 404 Client Error\. "
                       r"Repository not found$"):
        download_repo("lampkit-tester/nope", repo_type="model", token=hub.token)


def test_private_push_into_an_existing_public_repo_is_refused(hub, tmp_path):
    folder = make_folder(tmp_path / "out", two_configs())
    assert push(hub, folder, token=hub.token).returncode == 0
    commits = len(hub.server.commits)
    (folder / "secret.txt").write_text("not for the public", encoding="utf-8")

    done = push(hub, folder, "--private", token=hub.token)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "already exists and is public" in done.stderr
    assert len(hub.server.commits) == commits


def test_push_without_a_token_says_how_to_get_one(hub, tmp_path):
    done = push(hub, make_folder(tmp_path / "out", two_configs()))

    assert done.returncode == 2
    assert done.stderr.startswith("lampkit: error:") and "HF_TOKEN" in done.stderr
    assert hub.server.requests == []


def _readme(folder: Path, text: str) -> None:
    (folder / "README.md").write_text(text, encoding="utf-8")


#: problem → (how to break a good folder, what the error says)
BAD_FOLDERS = {
    "no README": (lambda f: (f / "README.md").unlink(), "no README.md"),
    "no configs": (lambda f: _readme(f, "---\nlicense: other\n---\n# x\n"), "no `configs:` list"),
    "bad YAML": (lambda f: _readme(f, "---\nconfigs: [\n---\n"), "unreadable YAML"),
    "no config_name": (lambda f: _readme(f, "---\nconfigs:\n- data_files: data/*\n---\n"), "no config_name"),
    "no data file": (
        lambda f: _readme(f, "---\nconfigs:\n- config_name: c\n  data_files: data/nothing/*\n---\n"),
        "'data/nothing/\\*' matches no file",
    ),
}


@pytest.mark.parametrize("problem", sorted(BAD_FOLDERS))
def test_a_folder_that_is_not_hub_ready_is_refused_before_any_request(hub_module, tmp_path, problem):
    folder = make_folder(tmp_path / "out", two_configs())
    breaks, message = BAD_FOLDERS[problem]
    breaks(folder)
    parser = argparse.ArgumentParser()
    cli_hub.register(parser.add_subparsers())
    args = parser.parse_args(["push", str(folder), "--repo-id", REPO, "--token", hub_module.token])
    requests = len(hub_module.server.requests)

    with pytest.raises(LampkitError, match=message) as err:
        args.func(args)

    assert str(folder) in str(err.value) and "\n" not in str(err.value)
    assert len(hub_module.server.requests) == requests


def test_cli_reports_bad_input_on_one_line_with_exit_2(hub, tmp_path):
    folder = make_folder(tmp_path / "out", two_configs())
    bad_id = subprocess.run([str(LAMPKIT), "push", str(folder), "--repo-id", "no-namespace"],
                            env=hub.fresh_env(hub.token), capture_output=True, text=True, timeout=60)
    not_ready = push(hub, tmp_path / "missing", token=hub.token)

    for done in (bad_id, not_ready):
        assert done.returncode == 2
        assert done.stderr.startswith("lampkit: error:") and done.stderr.count("\n") == 1
    assert "ORG/NAME" in bad_id.stderr and "missing" in not_ready.stderr
    assert hub.server.requests == []


def test_nothing_but_loopback_is_reachable(hub):
    probe = "import socket\ntry:\n    socket.getaddrinfo('huggingface.co', 443)\nexcept ConnectionRefusedError:\n" \
            "    print('refused')\n"
    assert hub.python(probe).stdout.strip() == "refused"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("example.org", 80), timeout=1)
    assert set(hub.refused_hosts()) == {"huggingface.co", "example.org"}
    hub.guard.blocked.clear()  # both were deliberate: keep the fixture's own check for the rest
    hub.guard_log.unlink()
    assert os.environ["HF_ENDPOINT"] == hub.url and urlsplit(hub.url).hostname == "127.0.0.1"
