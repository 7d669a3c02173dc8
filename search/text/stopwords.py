"""Question and function words: left out of the ranked part of a query.

They are never dropped from the index, nor from quoted phrases: only the
ranking ignores them, because nearly every document has them and a reader's
question is full of them.
"""

from __future__ import annotations

# Question and function words: dropped from the ranked part of a query (never
# from the index, never from quoted phrases) because nearly every document has
# them and a reader's question is full of them.
STOP_WORDS = frozenset("""
的 了 是 在 和 与 及 或 而 也 都 就 又 还 并 且 被 把 将 对 于 从 到 由 以 为 其 之 这 那 些
个 着 过 吗 呢 吧 啊 呀 么 什么 哪 哪里 哪儿 哪个 哪些 哪一 哪位 哪年 谁 何 何时 何处 何地
为什么 为何 怎么 怎样 怎么样 如何 多少 几 几个 几年 是否 是不是 有没有 有 没有 哪种 什么样
该 此 它 他 她 们 我 你 您 请问 一 一个 所 曾 已 已经 得 是从 当中 之中 其中 时候
""".split())


# Question words jieba keeps whole (哪一部, 哪一位, 什么样子, 多少年) start like this.
QUESTION_PREFIXES = ("哪", "什么", "多少", "为什么", "为何", "如何", "怎")


def is_stop_word(word: str) -> bool:
    return word in STOP_WORDS or word.startswith(QUESTION_PREFIXES)
