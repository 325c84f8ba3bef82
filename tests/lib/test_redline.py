"""The redline between two versions is a side-by-side line diff with character-level
changes inside edited lines, so a changed Chinese word is marked and nothing else."""

from __future__ import annotations

import time

from qiyue.lib.redline import (
    MAX_LINES,
    DiffLine,
    LineTag,
    Segment,
    SegTag,
    collapse,
    redline,
    summarize,
)


def test_identical_texts_have_only_equal_lines() -> None:
    lines = redline("一\n二\n三", "一\n二\n三")
    assert [line.tag for line in lines] == [LineTag.EQUAL] * 3
    assert summarize(lines).identical


def test_changed_chinese_word_is_marked_character_by_character() -> None:
    [line] = redline("甲方：北京甲乙有限公司", "甲方：北京丙丁有限公司")
    assert line.tag is LineTag.CHANGE
    assert line.old == (
        Segment(SegTag.EQUAL, "甲方：北京"),
        Segment(SegTag.DELETE, "甲乙"),
        Segment(SegTag.EQUAL, "有限公司"),
    )
    assert line.new[1] == Segment(SegTag.INSERT, "丙丁")
    assert (line.old_no, line.new_no) == (1, 1)


def test_segments_rebuild_both_sides_exactly() -> None:
    old = "付款期限为三十日。\n违约金为合同金额的5%。\nGoverning law: New York."
    new = "付款期限为六十日。\n新增条款。\n违约金为合同金额的10%。\nGoverning law: Delaware."
    lines = redline(old, new)
    assert [ln.old_text for ln in lines if ln.old_no] == old.split("\n")
    assert [ln.new_text for ln in lines if ln.new_no] == new.split("\n")


def test_summary_counts_added_removed_and_changed_lines() -> None:
    old = "第一条 不变\n第二条 要删除的整行内容\n第三条 金额为100元"
    new = "第一条 不变\n第三条 金额为200元\n第四条 新增"
    summary = summarize(redline(old, new))
    assert summary.unchanged == 1
    assert summary.added + summary.changed >= 1
    assert summary.added + summary.removed + summary.changed >= 2
    assert not summary.identical


def test_a_completely_different_line_is_a_removal_and_an_addition() -> None:
    lines = redline("Alpha beta gamma", "甲乙丙丁戊")
    assert [line.tag for line in lines] == [LineTag.DELETE, LineTag.INSERT]


def test_no_html_is_built() -> None:
    [line] = redline("<b>a</b>", "<i>a</i>")
    assert "".join(s.text for s in line.new) == "<i>a</i>"


def test_windows_line_endings_do_not_count_as_changes() -> None:
    assert summarize(redline("a\r\nb\r\n", "a\nb\n")).identical


def test_collapse_folds_long_unchanged_runs() -> None:
    old = "\n".join(f"第{i}行" for i in range(100))
    new = old.replace("第50行", "第五十行")
    lines = collapse(redline(old, new), context=2)
    assert [line.tag for line in lines] == [
        LineTag.SKIP,
        LineTag.EQUAL,
        LineTag.EQUAL,
        LineTag.CHANGE,
        LineTag.EQUAL,
        LineTag.EQUAL,
        LineTag.SKIP,
    ]
    assert lines[0].skipped == 48
    assert summarize(lines).unchanged == 99


def test_huge_texts_fall_back_to_a_coarse_diff_quickly() -> None:
    old = "\n".join(f"line {i} 条款" for i in range(MAX_LINES + 5000))
    new = old.replace("line 7 条款", "line 7 changed")
    started = time.monotonic()
    lines = redline(old, new)
    assert time.monotonic() - started < 10
    assert isinstance(lines[0], DiffLine)
    assert summarize(lines).unchanged == MAX_LINES + 5000 - 1
