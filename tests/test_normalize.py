"""The compiled tokenizer against the plain-Python reference, and the offsets contract."""

from __future__ import annotations

import random

import pytest

from twicetold.normalize import folded_tokens, token_hash, tokenize

SAMPLES = [
    "Hello, ＷＯＲＬＤ! Straße café ﬁne",
    "Дума приняла закон во втором чтении, сообщает ТАСС.",
    "وزارة الدفاع الروسية قالت إنَّ القوات عثرت على مقابر جماعية",
    "اردو زبان میں خبریں‌ اور تجزیے ۲۰۲۶",
    "中文新闻：北京时间三月四日",
    "Line one\r\nLine two\r\n\r\n“Quoted,” she said — don't.",
    "e\u0301te\u0301 décomposé ÉTÉ",
    "",
    "   ...   ",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_compiled_tokens_match_reference(text: str) -> None:
    tokens = tokenize(text)
    ref = folded_tokens(text)
    assert [(s, e) for _, s, e in ref] == list(zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True))
    assert [token_hash(f) for f, _, _ in ref] == tokens.hashes.tolist()


def test_random_unicode_matches_reference() -> None:
    rng = random.Random(7)
    alphabet = "abcXYZ éüß ,.;'\"“”«» \n\r\t 0123 ٣٤ Жж ب ت ث ً ُ 中文 ー ﬁ ½ ™ \u200c \u00ad"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        tokens = tokenize(text)
        ref = folded_tokens(text)
        assert [(s, e) for _, s, e in ref] == list(zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True))
        assert [token_hash(f) for f, _, _ in ref] == tokens.hashes.tolist()


def test_offsets_point_into_original_text() -> None:
    text = "Wire: “Officials SAID” the ﬁre in Алеппо was out."
    tokens = tokenize(text)
    spans = [text[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True)]
    assert spans == ["Wire", "Officials", "SAID", "the", "ﬁre", "in", "Алеппо", "was", "out"]


def test_folding_equates_case_width_ligatures_and_diacritics() -> None:
    def words(t: str) -> list[int]:
        return tokenize(t).hashes.tolist()

    assert words("FIRE Café") == words("ﬁre cafe\u0301")
    assert words("ＡＢＣ １２３") == words("abc 123")
    assert words("Straße") == words("STRASSE")
    # Arabic harakat and tatweel are ignored; Arabic-Indic digits fold to ASCII digits.
    assert words("كِتَاب ٢٠٢٦") == words("كـتاب 2026")
    assert words("cat") != words("cut")


def test_scripts_without_spaces_give_one_token_per_character() -> None:
    text = "北京时间"
    tokens = tokenize(text)
    assert [text[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True)] == list(text)


def test_urdu_words_with_zero_width_non_joiner_stay_whole() -> None:
    text = "خبریں\u200cاور"
    tokens = tokenize(text)
    assert len(tokens) == 1 and (tokens.starts[0], tokens.ends[0]) == (0, len(text))


def test_ascii_shortcut_of_the_byte_tokenizer_agrees_with_the_tables() -> None:
    # _kernels.token_hashes_utf8 folds ASCII without the tables: letters to lower case, digits
    # as they are, everything else a separator. That must stay what the tables say.
    from twicetold.normalize import SEPARATOR, WORD, fold_char

    for b in range(128):
        cls, folded = fold_char(b)
        if chr(b).isalnum():
            assert (cls, folded) == (WORD, chr(b).lower())
        else:
            assert cls == SEPARATOR


def test_scripts_come_from_unicode_data_not_hand_listed_ranges() -> None:
    """CJK extension G (U+30000...) was past the hand-listed ranges and the tables' end: its
    characters glued into one token. Now each is a token, as other Han characters are."""
    text = "\U00030000\U00030001\U00030002 ab \u4e00\u4e8c"
    tokens = tokenize(text)
    assert list(zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True)) == [
        (0, 1), (1, 2), (2, 3), (4, 6), (7, 8), (8, 9)]
    assert [t for t, _, _ in folded_tokens(text)] == ["\U00030000", "\U00030001", "\U00030002", "ab", "一", "二"]


def test_tables_built_in_runs_equal_the_code_point_by_code_point_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fold tables' fast path (unassigned code points and plain ideographs found by runs of
    a regular expression) gives exactly what fold_char gives for every code point."""
    from twicetold import normalize

    fast = normalize.build_tables()
    monkeypatch.setattr(normalize, "_quick_classes", dict)
    slow = normalize.build_tables()
    for name in ("classes", "fold_start", "fold_len", "fold_data"):
        assert (getattr(fast, name) == getattr(slow, name)).all(), name
