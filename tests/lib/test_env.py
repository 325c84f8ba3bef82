"""The typed environment parsers refuse bad values with the variable's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from qiyue.lib.env import EnvError, env_bool, env_choice, env_int, env_list, env_path, env_str


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(raw: str, expected: bool) -> None:
    assert env_bool("QIYUE_X", not expected, env={"QIYUE_X": raw}) is expected


@pytest.mark.parametrize("raw", ["ture", "2", "y", "enabled", "真"])
def test_env_bool_refuses_a_typo_naming_the_variable(raw: str) -> None:
    with pytest.raises(EnvError, match="QIYUE_X"):
        env_bool("QIYUE_X", False, env={"QIYUE_X": raw})


@pytest.mark.parametrize("env", [{}, {"QIYUE_X": ""}, {"QIYUE_X": "   "}])
def test_unset_or_empty_variables_fall_back_to_the_default(env: dict[str, str]) -> None:
    assert env_bool("QIYUE_X", True, env=env) is True
    assert env_int("QIYUE_X", 7, env=env) == 7
    assert env_str("QIYUE_X", "d", env=env) == "d"
    assert env_list("QIYUE_X", ["a"], env=env) == ["a"]
    assert env_choice("QIYUE_X", "en", ["en", "zh-hans"], env=env) == "en"


def test_env_int_reads_integers_within_bounds() -> None:
    assert env_int("QIYUE_N", 1, minimum=0, maximum=10, env={"QIYUE_N": " 10 "}) == 10
    assert env_int("QIYUE_N", 1, minimum=-5, env={"QIYUE_N": "-5"}) == -5


@pytest.mark.parametrize("raw", ["abc", "1.5", "1e3", "0x10", "十"])
def test_env_int_refuses_non_integers(raw: str) -> None:
    with pytest.raises(EnvError, match=r"QIYUE_N.*not an integer"):
        env_int("QIYUE_N", 1, env={"QIYUE_N": raw})


def test_env_int_refuses_values_below_the_minimum() -> None:
    with pytest.raises(EnvError, match="QIYUE_N=299 is below the minimum 300"):
        env_int("QIYUE_N", 1000, minimum=300, env={"QIYUE_N": "299"})


def test_env_int_refuses_values_above_the_maximum() -> None:
    with pytest.raises(EnvError, match="QIYUE_N=1001 is above the maximum 1000"):
        env_int("QIYUE_N", 1, maximum=1000, env={"QIYUE_N": "1001"})


def test_env_list_splits_on_commas_and_strips() -> None:
    assert env_list("QIYUE_L", [], env={"QIYUE_L": "a.example, b.example"}) == [
        "a.example",
        "b.example",
    ]


@pytest.mark.parametrize("raw", ["a,,b", "a,", ",a"])
def test_env_list_refuses_empty_items(raw: str) -> None:
    with pytest.raises(EnvError, match="QIYUE_L"):
        env_list("QIYUE_L", [], env={"QIYUE_L": raw})


def test_env_list_default_is_a_copy() -> None:
    default = ["x"]
    env_list("QIYUE_L", default, env={}).append("y")
    assert default == ["x"]


def test_env_choice_accepts_only_listed_values() -> None:
    assert env_choice("QIYUE_C", "a", ["a", "b"], env={"QIYUE_C": "b"}) == "b"
    with pytest.raises(EnvError, match="QIYUE_C='B' is not one of a, b"):
        env_choice("QIYUE_C", "a", ["a", "b"], env={"QIYUE_C": "B"})


def test_env_str_strips_and_keeps_the_value() -> None:
    assert env_str("QIYUE_S", "d", env={"QIYUE_S": " Asia/Shanghai "}) == "Asia/Shanghai"


def test_env_path_resolves_and_expands_home(tmp_path: Path) -> None:
    assert env_path("QIYUE_P", tmp_path, env={}) == tmp_path.resolve()
    assert env_path("QIYUE_P", tmp_path, env={"QIYUE_P": "~/q"}) == (Path.home() / "q").resolve()
    relative = env_path("QIYUE_P", tmp_path, env={"QIYUE_P": "var"})
    assert relative.is_absolute()


def test_parsers_read_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QIYUE_TEST_FLAG", "on")
    assert env_bool("QIYUE_TEST_FLAG", False) is True
    monkeypatch.setenv("QIYUE_TEST_FLAG", "ture")
    with pytest.raises(EnvError):
        env_bool("QIYUE_TEST_FLAG", False)
