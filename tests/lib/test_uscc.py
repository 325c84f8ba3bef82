"""统一社会信用代码: 18 characters of a 31-letter alphabet and a GB 32100-2015 check."""

from __future__ import annotations

import pytest

from qiyue.lib.uscc import ALPHABET, check_char, is_valid_uscc, normalize_uscc

# Published codes of real companies, checked by hand against GB 32100-2015.
KNOWN_VALID = [
    "91350100M000100Y43",
    "91310000775785552L",
    "914403001922038216",
    "91110108551385082Q",
]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_valid_codes_pass(code: str) -> None:
    assert is_valid_uscc(code)


@pytest.mark.parametrize("body", ["91110105000000001", "9111010500000000A", "Y1YYYYYYYYYYYYYYY"])
def test_codes_built_with_check_char_pass(body: str) -> None:
    assert is_valid_uscc(body + check_char(body))


def test_the_check_character_can_be_zero_and_letters() -> None:
    # Every residue occurs, so every alphabet character is some code's check character.
    seen = {check_char(f"9111010500000{n:04d}") for n in range(2000)}
    assert seen == set(ALPHABET)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_a_wrong_check_character_fails(code: str) -> None:
    wrong = next(c for c in ALPHABET if c != code[-1])
    assert not is_valid_uscc(code[:-1] + wrong)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_swapping_two_characters_is_caught(code: str) -> None:
    swapped = code[:2] + code[3] + code[2] + code[4:]
    if swapped != code:
        assert not is_valid_uscc(swapped)


@pytest.mark.parametrize("code", ["", "9135010", "91350100M000100Y4", "91350100M000100Y431"])
def test_wrong_length_fails(code: str) -> None:
    assert not is_valid_uscc(code)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet_fail(letter: str) -> None:
    body = "91350100M00010" + letter + "Y4"
    assert letter not in ALPHABET
    assert not is_valid_uscc(body + "3")
    with pytest.raises(ValueError):
        check_char(body)


def test_lower_case_fails_until_normalised() -> None:
    assert not is_valid_uscc("91350100m000100y43")
    assert normalize_uscc("91350100m000100y43") == "91350100M000100Y43"
    assert is_valid_uscc(normalize_uscc("91350100m000100y43"))


def test_full_width_spaces_and_dashes_are_normalised() -> None:
    full_width = "９１３５０１００Ｍ０００１００Ｙ４３"
    assert normalize_uscc(full_width) == "91350100M000100Y43"
    assert normalize_uscc(" 9135-0100 M000 100Y43 ") == "91350100M000100Y43"
    assert normalize_uscc("91350100M000100Y43\u3000") == "91350100M000100Y43"


@pytest.mark.parametrize("code", ["91350100M000100Y4３", "９1350100M000100Y43"])
def test_unnormalised_full_width_is_not_valid(code: str) -> None:
    assert not is_valid_uscc(code)
