"""Adapters on Hub branches and revisions, through the local Hub server: the server's git refs (branches, tags,
refs, commits) as ``huggingface_hub`` calls them; two adapters pushed to ``main`` and to branch ``v2`` of one private
repo, each pulled by branch name and by commit sha in fresh processes; ``recipes/generate.py`` with
``--adapter_revision`` (the record names the resolved commit); ``recipes/sft_task.py`` pushing to a branch; unknown
revisions refused in one line before any generation. The token never shows in output, logs, cards or requests."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub import hf_hub_download
from huggingface_hub import snapshot_download
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.errors import RepositoryNotFoundError
from huggingface_hub.errors import RevisionNotFoundError
from recipe_helpers import CONFIG
from recipe_helpers import ROOT
from recipe_helpers import TRAINER
from recipe_helpers import build_sample
from recipe_helpers import leftovers
from recipe_helpers import recipe

from lampkit.adapters.cards import render_card
from lampkit.adapters.checks import write_adapter_record
from lampkit.adapters.hub import adapter_commit
from lampkit.adapters.hub import pull_adapter
from lampkit.adapters.hub import push_adapter
from lampkit.adapters.hub import resolve_adapter
from lampkit.errors import LampkitError

REPO = "lampkit-tester/lamp3-revisions"
QUESTIONS = "4"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("revisions_data") / "lamp")


def make_adapter(folder: Path, base: str, seed: int) -> Path:
    """A LoRA adapter on ``base`` with random (not zero) weights from ``seed``, so that it changes generations."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from lampkit.modeling.peft_methods import peft_config

    config = peft_config("lora", seq2seq=False, alpha=64)
    config.init_lora_weights = False
    torch.manual_seed(seed)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), config).save_pretrained(folder)
    write_adapter_record(folder, base, seed=seed)
    render_card("task_adapter", repo_id=REPO, base_model=base, tags=["lampkit"], peft_method="lora",
                config=CONFIG, task_title="Personalized Product Rating", split_kind="time", dataset="out/lamp",
                style="lamp", k=1, ranking="ranking_bm25", train_mode="questions", peft_config_json="{}",
                base_model_url="", base_model_load=base, auto_class="CausalLM", steps=0, train_seconds=0,
                adapter_bytes=0, num_train_examples=0, licensed=False).save(folder / "README.md")
    return folder


def lora_sum(folder: Path) -> float:
    from safetensors.torch import load_file

    return sum(float(t.double().sum()) for t in load_file(folder / "adapter_model.safetensors").values())


@pytest.fixture(scope="module")
def pushed(hub_module, tiny_llama, tmp_path_factory) -> dict:
    """Adapter ``a`` on ``main`` and adapter ``b`` on branch ``v2`` of private ``REPO``; their commit shas."""
    root = tmp_path_factory.mktemp("revision_adapters")
    a, b = make_adapter(root / "a", tiny_llama, 1), make_adapter(root / "b", tiny_llama, 2)
    push_adapter(a, REPO, token=hub_module.token)
    push_adapter(b, REPO, token=hub_module.token, revision="v2")
    refs = {r.name: r.target_commit for r in HfApi(token=hub_module.token).list_repo_refs(REPO).branches}
    return {"a": a, "b": b, "main": refs["main"], "v2": refs["v2"]}


def no_token(hub, *texts: str) -> None:
    for text in texts:
        assert hub.token not in text and hub.other_token not in text
    assert not any(hub.token in json.dumps(r) for r in hub.server.requests)


# -- the server's refs, as huggingface_hub calls them -----------------------------------------------------------------


def test_server_branches_tags_refs_and_commits(hub, tmp_path):
    api, repo = HfApi(token=hub.token), "lampkit-tester/refs"
    api.create_repo(repo, private=True)
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("on main")
    first = api.upload_folder(repo_id=repo, folder_path=folder).oid
    api.create_branch(repo, branch="v2")
    api.create_branch(repo, branch="v2", exist_ok=True)
    with pytest.raises(HfHubHTTPError) as err:
        api.create_branch(repo, branch="v2")
    assert err.value.response.status_code == 409
    for bad in ("refs/pr/1", "a..b", "0" * 40):
        with pytest.raises(HfHubHTTPError) as err:
            api.create_branch(repo, branch=bad)
        assert err.value.response.status_code == 400
    with pytest.raises(RevisionNotFoundError):
        api.create_branch(repo, branch="v3", revision="nope")
    (folder / "a.txt").write_text("on v2")
    second = api.upload_folder(repo_id=repo, folder_path=folder, revision="v2").oid
    api.create_tag(repo, tag="release", revision="v2", tag_message="the v2 file")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_tag(repo, tag="release", revision="main")
    assert err.value.response.status_code == 409

    refs = api.list_repo_refs(repo, include_pull_requests=True)
    assert {(r.name, r.ref, r.target_commit) for r in refs.branches} == {
        ("main", "refs/heads/main", first), ("v2", "refs/heads/v2", second)}
    assert [(r.name, r.ref, r.target_commit) for r in refs.tags] == [("release", "refs/tags/release", second)]
    assert refs.pull_requests == [] and refs.converts == []
    history = api.list_repo_commits(repo, revision="v2")
    assert [c.commit_id for c in history[:2]] == [second, first] and history[-1].title == "initial commit"
    assert history[0].authors == ["lampkit-tester"]

    expected = {None: "on main", "main": "on main", first: "on main", "v2": "on v2", "release": "on v2",
                second: "on v2"}
    for revision, text in expected.items():
        assert Path(hf_hub_download(repo, "a.txt", revision=revision, token=hub.token)).read_text() == text
        snapshot = Path(snapshot_download(repo, revision=revision, token=hub.token))
        assert (snapshot / "a.txt").read_text() == text and snapshot.name == (second if "v2" in text else first)
        assert api.repo_info(repo, revision=revision).sha == snapshot.name
    for revision in ("nope", "0" * 40):
        with pytest.raises(RevisionNotFoundError):
            snapshot_download(repo, revision=revision, token=hub.token)
    with pytest.raises(HfHubHTTPError) as err:  # commits go to branches, not tags or shas
        api.upload_file(path_or_fileobj=b"x", path_in_repo="b.txt", repo_id=repo, revision="release")
    assert err.value.response.status_code == 400
    with pytest.raises(RevisionNotFoundError):
        api.upload_file(path_or_fileobj=b"x", path_in_repo="b.txt", repo_id=repo, revision="v9")

    # private: the refs and every revision stay hidden from anonymous users and from other users
    for token in (False, hub.other_token):
        with pytest.raises(RepositoryNotFoundError):
            api.list_repo_refs(repo, token=token)
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download(repo, "a.txt", revision="v2", token=token, cache_dir=tmp_path / "other")
        with pytest.raises(RepositoryNotFoundError):
            api.list_repo_commits(repo, revision=second, token=token)
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(token=hub.other_token).create_branch(repo, branch="theirs")
    assert err.value.response.status_code == 404

    api.delete_tag(repo, tag="release")
    api.delete_branch(repo, branch="v2")
    with pytest.raises(HfHubHTTPError) as err:
        api.delete_branch(repo, branch="main")
    assert err.value.response.status_code == 403
    refs = api.list_repo_refs(repo)
    assert [r.name for r in refs.branches] == ["main"] and refs.tags == []
    assert (Path(snapshot_download(repo, revision=second, token=hub.token)) / "a.txt").read_text() == "on v2"
    assert not hub.server.unhandled


# -- push to a branch, pull by revision -----------------------------------------------------------------------------

LOAD = """
import json, sys
from peft import PeftModel
from transformers import AutoModelForCausalLM
from lampkit.adapters.hub import adapter_commit, pull_adapter
from lampkit.errors import LampkitError
try:
    folder = pull_adapter(sys.argv[1], revision=sys.argv[3] if sys.argv[3] != "-" else None)
except LampkitError as err:
    print(json.dumps({"error": str(err)})); sys.exit(0)
model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(sys.argv[2]), str(folder))
total = sum(float(p.double().sum()) for n, p in model.named_parameters() if "lora_" in n)
print(json.dumps({"sum": total, "commit": adapter_commit(folder), "card": (folder / "README.md").read_text(),
                  "record": json.loads((folder / "lampkit_adapter.json").read_text())}))
"""


def test_each_revision_pulls_its_own_adapter_in_fresh_processes(hub_module, pushed, tiny_llama):
    hub = hub_module
    assert pushed["main"] != pushed["v2"]
    expected = {"a": lora_sum(pushed["a"]), "b": lora_sum(pushed["b"])}
    assert expected["a"] != pytest.approx(expected["b"])
    cases = {"-": ("a", pushed["main"]), "main": ("a", pushed["main"]), pushed["main"]: ("a", pushed["main"]),
             "v2": ("b", pushed["v2"]), pushed["v2"]: ("b", pushed["v2"])}
    for revision, (which, commit) in cases.items():
        proc = hub.python(LOAD, REPO, tiny_llama, revision, token=hub.token)
        got = json.loads(proc.stdout.splitlines()[-1])
        assert got["sum"] == pytest.approx(expected[which]), revision
        assert got["commit"] == commit and got["record"]["seed"] == (1 if which == "a" else 2)
        assert "model-index" in got["card"] or REPO in got["card"]
        no_token(hub, proc.stdout, proc.stderr, got["card"])
    assert HfApi(token=hub.token).repo_info(REPO).private
    for revision in ("v2", pushed["v2"]):  # the branch of a private repo is private too
        anonymous = json.loads(hub.python(LOAD, REPO, tiny_llama, revision).stdout.splitlines()[-1])
        assert "field 'adapter'" in anonymous["error"] and "sum" not in anonymous
    missing = json.loads(hub.python(LOAD, REPO, tiny_llama, "v3", token=hub.token).stdout.splitlines()[-1])
    assert missing["error"] == (f"field 'adapter_revision': model repo {REPO} has no revision 'v3' (a branch, tag or "
                                "commit sha)")


def test_pushing_again_to_the_branch_moves_only_the_branch(hub_module, pushed, tiny_llama, tmp_path):
    hub = hub_module
    api = HfApi(token=hub.token)
    repo = "lampkit-tester/lamp3-moving"
    push_adapter(pushed["a"], repo, token=hub.token, revision="v2")
    before = {r.name: r.target_commit for r in api.list_repo_refs(repo).branches}
    push_adapter(pushed["b"], repo, token=hub.token, revision="v2")
    after = {r.name: r.target_commit for r in api.list_repo_refs(repo).branches}
    assert after["main"] == before["main"] and after["v2"] != before["v2"]
    assert lora_sum(pull_adapter(repo, revision=before["v2"], token=hub.token)) == pytest.approx(lora_sum(pushed["a"]))
    assert lora_sum(pull_adapter(repo, revision="v2", token=hub.token)) == pytest.approx(lora_sum(pushed["b"]))
    with pytest.raises(LampkitError, match="field 'adapter'"):  # main has no adapter: only the initial commit
        pull_adapter(repo, token=hub.token)
    with pytest.raises(LampkitError, match="field 'adapter_revision'.*branch name"):
        push_adapter(pushed["a"], repo, token=hub.token, revision=after["v2"])
    with pytest.raises(LampkitError, match="field 'adapter_revision'.*local folder"):
        resolve_adapter(str(pushed["a"]), "v2")
    assert adapter_commit(pushed["a"]) is None


# -- recipes ----------------------------------------------------------------------------------------------------------

generate = recipe("generate")


def gen_args(data: Path, model: str, out: Path, *extra: str) -> list[str]:
    return ["--dataset_name", str(data), "--dataset_config", CONFIG, "--model_name_or_path", model,
            "--output_dir", str(out), "--max_new_tokens", "3", "--max-questions", QUESTIONS, "--progress", "false",
            *extra]


def generate_cli(hub, *args: str) -> subprocess.CompletedProcess:
    """``python recipes/generate.py ARGS`` in a fresh process with an empty Hub cache and the token in HF_TOKEN."""
    return subprocess.run([sys.executable, str(ROOT / "recipes" / "generate.py"), *args], cwd=ROOT,
                          env=hub.fresh_env(hub.token), capture_output=True, text=True, timeout=300)


def outputs(folder: Path) -> list[str]:
    return [g["output"] for g in json.loads((folder / "predictions.json").read_text())["golds"]]


def test_generate_uses_the_revision_it_is_given(hub_module, pushed, data, tiny_llama, tmp_path, monkeypatch,
                                                capfd, caplog):
    hub = hub_module
    caplog.set_level(logging.DEBUG)
    assert generate(gen_args(data, tiny_llama, tmp_path / "local_a", "--adapter", str(pushed["a"]))) == 0
    assert generate(gen_args(data, tiny_llama, tmp_path / "local_b", "--adapter", str(pushed["b"]))) == 0
    assert outputs(tmp_path / "local_a") != outputs(tmp_path / "local_b")  # the two adapters generate differently

    proc = generate_cli(hub, *gen_args(data, tiny_llama, tmp_path / "hub_v2", "--adapter", REPO,
                                       "--adapter_revision", "v2"))
    assert proc.returncode == 0, proc.stderr
    assert outputs(tmp_path / "hub_v2") == outputs(tmp_path / "local_b")
    record = json.loads((tmp_path / "hub_v2" / "results.json").read_text())
    assert (record["adapter"], record["adapter_revision"], record["adapter_commit"]) == (REPO, "v2", pushed["v2"])

    monkeypatch.setenv("HF_TOKEN", hub.token)
    assert generate(gen_args(data, tiny_llama, tmp_path / "hub_main", "--adapter", REPO, "--adapter_revision",
                             pushed["main"])) == 0
    assert outputs(tmp_path / "hub_main") == outputs(tmp_path / "local_a")
    record = json.loads((tmp_path / "hub_main" / "results.json").read_text())
    assert (record["adapter_revision"], record["adapter_commit"]) == (pushed["main"], pushed["main"])
    assert generate(gen_args(data, tiny_llama, tmp_path / "hub_default", "--adapter", REPO)) == 0
    record = json.loads((tmp_path / "hub_default" / "results.json").read_text())
    assert (record["adapter_revision"], record["adapter_commit"]) == (None, pushed["main"])
    local = json.loads((tmp_path / "local_a" / "results.json").read_text())
    assert local["adapter_commit"] is None
    captured = capfd.readouterr()
    no_token(hub, proc.stdout, proc.stderr, captured.out, captured.err, caplog.text,
             (tmp_path / "hub_v2" / "report.md").read_text(), json.dumps(record))
    assert not leftovers(tmp_path)


def test_unknown_revision_fails_in_one_line_before_generation(hub_module, pushed, data, tiny_llama, tmp_path,
                                                              monkeypatch):
    hub = hub_module
    requests = len(hub.server.requests)
    out = tmp_path / "nope"
    proc = generate_cli(hub, *gen_args(data, tiny_llama, out, "--adapter", REPO, "--adapter_revision", "v3"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"generate: error: field 'adapter_revision': model repo {REPO} has no revision 'v3' (a branch, tag or "
        "commit sha)")
    assert not out.exists() and not leftovers(tmp_path)
    asked = hub.server.requests[requests:]
    assert asked and all("/resolve/" not in r["path"] for r in asked)  # nothing of the adapter was downloaded
    no_token(hub, proc.stdout, proc.stderr)

    monkeypatch.setenv("HF_TOKEN", hub.token)
    for revision in ("0" * 40, "refs/heads/v9"):
        with pytest.raises(LampkitError, match="field 'adapter_revision'") as err:
            generate(gen_args(data, tiny_llama, out, "--adapter", REPO, "--adapter_revision", revision))
        assert "\n" not in str(err.value) and not out.exists()
    with pytest.raises(LampkitError, match="field 'adapter_revision'.*local folder"):
        generate(gen_args(data, tiny_llama, out, "--adapter", str(pushed["a"]), "--adapter_revision", "v2"))
    assert not out.exists() and not leftovers(tmp_path)


sft_task = recipe("sft_task")


def sft_args(data: Path, model: str, out: Path, *extra: str) -> list[str]:
    return ["--dataset_name", str(data), "--dataset_config", CONFIG, "--model_name_or_path", model, "--output_dir",
            str(out), "--max_steps", "1", "--max_new_tokens", "2", "--max_questions", "2", *TRAINER, *extra]


def test_sft_task_pushes_its_adapter_to_a_branch(hub_module, data, tiny_llama, tmp_path, monkeypatch, capfd,
                                                 caplog):
    hub = hub_module
    caplog.set_level(logging.DEBUG)
    repo = "lampkit-tester/lamp3-sft-branch"
    monkeypatch.setenv("HF_TOKEN", hub.token)
    for bad, why in ((["--adapter_revision", "v2"], "needs push_adapter"),
                     (["--push_adapter", "true", "--adapter_repo_id", repo, "--adapter_revision", "a" * 40],
                      "branch name")):
        with pytest.raises(LampkitError, match=f"field 'adapter_revision'.*{why}") as err:
            sft_task(sft_args(data, tiny_llama, tmp_path / "bad", *bad))
        assert "\n" not in str(err.value) and not (tmp_path / "bad").exists()
    out = tmp_path / "run"
    assert sft_task(sft_args(data, tiny_llama, out, "--push_adapter", "true", "--adapter_repo_id", repo,
                             "--adapter_revision", "v2")) == 0
    captured = capfd.readouterr()
    assert f"pushed to {hub.url}/{repo} (branch v2)" in captured.out
    api = HfApi(token=hub.token)
    refs = {r.name: r.target_commit for r in api.list_repo_refs(repo).branches}
    assert api.repo_info(repo).private and set(refs) == {"main", "v2"}
    assert "adapter_model.safetensors" not in api.list_repo_files(repo)
    assert "adapter_model.safetensors" in api.list_repo_files(repo, revision="v2")
    pulled = pull_adapter(repo, revision="v2", token=hub.token)
    assert adapter_commit(pulled) == refs["v2"]
    local = out / "adapter"
    assert (pulled / "adapter_model.safetensors").read_bytes() == (local / "adapter_model.safetensors").read_bytes()
    card = (pulled / "README.md").read_text()
    assert card == (local / "README.md").read_text() and repo in card
    no_token(hub, captured.out, captured.err, caplog.text, card)
