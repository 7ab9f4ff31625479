"""Pinyin keys of a name, stored beside it so that 张三 is found by `zhangsan` and `zs` with an index.

pypinyin reads characters as in ordinary words; surnames with a special reading (单 Shàn, 曾 Zēng,
区 Ōu …) are corrected here, since a wrong surname would make the most common search fail.
"""

import re

from pypinyin import Style, lazy_pinyin

#: Surnames read differently from the character's everyday reading.
_SURNAMES = {
    "尉迟": ["yu", "chi"],
    "万俟": ["mo", "qi"],
    "长孙": ["zhang", "sun"],
    "单于": ["chan", "yu"],
    "单": ["shan"],
    "曾": ["zeng"],
    "区": ["ou"],
    "仇": ["qiu"],
    "解": ["xie"],
    "朴": ["piao"],
    "查": ["zha"],
    "盖": ["ge"],
    "乐": ["yue"],
    "覃": ["qin"],
    "缪": ["miao"],
    "翟": ["zhai"],
    "召": ["shao"],
    "种": ["chong"],
    "秘": ["bi"],
    "繁": ["po"],
    "折": ["she"],
    "员": ["yun"],
    "句": ["gou"],
    "阚": ["kan"],
    "朝": ["chao"],
    "薄": ["bo"],
    "柏": ["bai"],
    "牟": ["mou"],
}

_WORD_RE = re.compile(r"[a-z0-9]+")


def _syllables(name: str) -> list[str]:
    """Lower-case syllables (or Latin words) of the name, surname reading first."""
    name = name.strip()
    head: list[str] = []
    for surname in sorted(_SURNAMES, key=len, reverse=True):
        if name.startswith(surname):
            head, name = list(_SURNAMES[surname]), name[len(surname) :]
            break
    out = head
    for chunk in lazy_pinyin(name, style=Style.NORMAL, errors="default"):
        out.extend(_WORD_RE.findall(chunk.lower()))
    return out


def name_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of a name: 张三 → ("zhangsan", "zs"); "Li Na" → ("lina", "ln")."""
    syllables = _syllables(name)
    return "".join(syllables), "".join(s[0] for s in syllables)


def normalize_query(text: str) -> str:
    """A search text in the form the pinyin columns hold (lower case, letters and digits only)."""
    return "".join(_WORD_RE.findall(text.lower()))
