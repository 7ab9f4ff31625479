"""The import format: columns (Chinese names and English aliases) and the values each accepts."""

import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy

from members.choices import Education, Ethnicity, MemberCategory, MemberStatus, Occupation, Sex


@dataclass(frozen=True)
class Column:
    field: str  # also the English alias, accepted as a column name
    header: str  # Chinese name, as in the template
    kind: str  # text, citizen_id, phone, date, bool, choice, branch, unit, platforms, vote
    required: bool = False
    example: str = ""
    in_template: bool = True

    @property
    def alias(self) -> str:
        return self.field

    @property
    def help(self) -> str:
        return _COLUMN_HELP[self.field]


#: What to enter in each column (the import page and the template's second sheet show it).
_COLUMN_HELP = {
    "name": gettext_lazy("Full name."),
    "citizen_id": gettext_lazy("18 characters: 17 digits and a digit or X. Keep the column formatted as text."),
    "sex": gettext_lazy("男 or 女; taken from the ID number when empty."),
    "birth_date": gettext_lazy("Taken from the ID number when empty; checked against it when given."),
    "ethnicity": gettext_lazy("For example 汉族, 回族, 壮族."),
    "education": gettext_lazy("One of the values listed below."),
    "category": gettext_lazy("正式党员 (full) or 预备党员 (probationary)."),
    "branch": gettext_lazy(
        "Name or id of the formal branch, within your scope. May be left out when an organisation is chosen "
        "for the whole file."
    ),
    "joined_on": gettext_lazy("Date of joining the party."),
    "full_member_on": gettext_lazy("Full members only; a probationary member has none."),
    "job_title": gettext_lazy("Job or post."),
    "phone": gettext_lazy("Mobile number or landline with area code."),
    "address": gettext_lazy("Home address."),
    "status": gettext_lazy("正常 when empty."),
    "lost_contact": gettext_lazy("是 or 否 (否 when empty)."),
    "lost_contact_since": gettext_lazy("Only when 是否失联 is 是."),
    "is_mobile": gettext_lazy("是 or 否 (否 when empty)."),
    "mobile_destination": gettext_lazy("Only when 是否流动党员 is 是: where the member has gone."),
    "occupation": gettext_lazy("One of the values listed below."),
    "platforms": gettext_lazy("Names or codes of the platforms, separated by 、 or commas."),
    "unit": gettext_lazy("Name or id of a unit recorded in your scope."),
    "shows_identity": gettext_lazy("是 or 否 (否 when empty)."),
    "under_probation_discipline": gettext_lazy("是 or 否 (否 when empty)."),
    "external_ref": gettext_lazy("Reference in another system (optional)."),
    "has_vote": gettext_lazy(
        "Not needed: voting rights are derived from the record. When present (as in an export) it is checked "
        "against the record."
    ),
}
#: The columns, in the template's order; `has_vote` is only read (exports carry it), never offered.
COLUMNS = [
    Column("name", "姓名", "text", required=True, example="张三"),
    Column("citizen_id", "公民身份号码", "citizen_id", required=True, example="110101199003071234"),
    Column("sex", "性别", "choice", example="男"),
    Column("birth_date", "出生日期", "date", example="1990-03-07"),
    Column("ethnicity", "民族", "choice", example="汉族"),
    Column("education", "学历", "choice", example="大学本科"),
    Column("category", "人员类别", "choice", required=True, example="正式党员"),
    Column("branch", "所在党组织", "branch", required=True),
    Column("joined_on", "入党日期", "date", required=True, example="2015-07-01"),
    Column("full_member_on", "转正日期", "date", example="2016-07-01"),
    Column("job_title", "工作岗位", "text", example="配送员"),
    Column("phone", "联系电话", "phone"),
    Column("address", "家庭住址", "text"),
    Column("status", "党籍状态", "choice", example="正常"),
    Column("lost_contact", "是否失联", "bool", example="否"),
    Column("lost_contact_since", "失联日期", "date"),
    Column("is_mobile", "是否流动党员", "bool", example="否"),
    Column("mobile_destination", "外出流向", "text"),
    Column("occupation", "职业", "choice", example="外卖骑手"),
    Column("platforms", "服务平台", "platforms", example="美团、饿了么"),
    Column("unit", "工作单位", "unit"),
    Column("shows_identity", "是否亮身份", "bool", example="是"),
    Column("under_probation_discipline", "是否留党察看", "bool", example="否"),
    Column("external_ref", "外部编号", "text"),
    Column("has_vote", "有表决权", "vote", in_template=False),
]
COLUMNS_BY_FIELD = {c.field: c for c in COLUMNS}
#: Other names people give these columns in their own spreadsheets.
_SYNONYMS = {
    "name": ["党员姓名"],
    "citizen_id": ["身份证号", "身份证号码", "身份证", "公民身份号"],
    "category": ["党员类别", "类别", "人员类型"],
    "branch": ["所在支部", "党组织", "支部", "所在党支部", "branch_id"],
    "joined_on": ["入党时间"],
    "full_member_on": ["转正时间"],
    "job_title": ["岗位", "职务"],
    "phone": ["手机号", "手机号码", "电话", "联系方式"],
    "address": ["住址"],
    "status": ["党籍"],
    "occupation": ["职业类型"],
    "platforms": ["平台"],
    "unit": ["单位", "工作单位名称"],
    "is_mobile": ["流动党员"],
    "lost_contact": ["失联"],
    "shows_identity": ["亮身份"],
    "under_probation_discipline": ["留党察看"],
    "has_vote": ["表决权", "voting"],
}
_ENGLISH_HEADERS = {
    "name": "Name",
    "citizen_id": "Citizen ID number",
    "sex": "Sex",
    "birth_date": "Birth date",
    "ethnicity": "Ethnicity",
    "education": "Education",
    "category": "Category",
    "branch": "Formal branch",
    "joined_on": "Joined on",
    "full_member_on": "Full member on",
    "job_title": "Job or post",
    "phone": "Phone",
    "address": "Home address",
    "status": "Membership status",
    "lost_contact": "Lost contact",
    "lost_contact_since": "Lost contact since",
    "is_mobile": "Mobile member",
    "mobile_destination": "Mobile destination",
    "occupation": "Occupation",
    "platforms": "Platforms",
    "unit": "Employing unit",
    "shows_identity": "Shows identity",
    "under_probation_discipline": "Under probation within the party",
    "external_ref": "External reference",
    "has_vote": "Has a vote",
}


def english_header(field: str) -> str:
    """The English column name (used by English exports; accepted on import like the alias)."""
    return _ENGLISH_HEADERS[field]


def normalise_name(text) -> str:
    """A column name or choice value compared loosely: case, spaces, underscores, stars and brackets ignored."""
    return re.sub(r"[\s_\-*＊:：()（）\[\]【】]", "", str(text or "")).lower()


HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, _column.alias, _ENGLISH_HEADERS[_column.field], *_SYNONYMS.get(_column.field, [])):
        HEADER_LOOKUP[normalise_name(_name)] = _column.field

#
# Allowed values
#
#: Chinese names of each choice, the first being the one templates and exports use.
_ETHNICITY_ZH = (  # noqa: SIM905 (a list literal of 58 names would take 60 lines)
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 "
    "土家族 哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 "
    "景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 "
    "普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 "
    "独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族 未识别民族 外国血统中国籍人士"
).split()
CHOICE_NAMES_ZH: dict[str, dict[str, list[str]]] = {
    "sex": {Sex.MALE: ["男", "男性"], Sex.FEMALE: ["女", "女性"]},
    "category": {
        MemberCategory.FULL: ["正式党员", "正式"],
        MemberCategory.PROBATIONARY: ["预备党员", "预备"],
    },
    "status": {
        MemberStatus.NORMAL: ["正常"],
        MemberStatus.SUSPENDED: ["停止党籍"],
        MemberStatus.RESERVED: ["保留党籍"],
        MemberStatus.REMOVED: ["已出党", "出党", "除名", "退党"],
        MemberStatus.DECEASED: ["去世", "已故", "死亡"],
    },
    "education": {
        Education.DOCTORATE: ["博士研究生", "博士"],
        Education.MASTER: ["硕士研究生", "硕士", "研究生"],
        Education.BACHELOR: ["大学本科", "本科"],
        Education.COLLEGE: ["大学专科", "大专", "专科"],
        Education.SECONDARY_VOCATIONAL: ["中等职业教育", "中专", "中职", "技校"],
        Education.HIGH_SCHOOL: ["高中", "普通高中"],
        Education.JUNIOR_HIGH: ["初中"],
        Education.PRIMARY: ["小学及以下", "小学"],
    },
    "occupation": {
        Occupation.DELIVERY_RIDER: ["外卖骑手", "外卖员", "骑手"],
        Occupation.COURIER: ["快递员", "快递小哥"],
        Occupation.RIDE_HAILING_DRIVER: ["网约车司机"],
        Occupation.TRUCK_DRIVER: ["货车司机"],
        Occupation.INTERNET_WORKER: ["互联网从业者", "互联网从业人员"],
        Occupation.FREELANCER: ["自由职业者", "自由职业"],
        Occupation.NON_PUBLIC_STAFF: ["非公企业员工", "非公有制企业员工"],
        Occupation.OTHER: ["其他"],
    },
    "ethnicity": {
        value: [name, name.removesuffix("族")] if name.endswith("族") and len(name) > 2 else [name]
        for value, name in zip(Ethnicity.values, _ETHNICITY_ZH, strict=True)
    },
}
_CHOICE_CLASSES = {
    "sex": Sex,
    "category": MemberCategory,
    "status": MemberStatus,
    "education": Education,
    "occupation": Occupation,
    "ethnicity": Ethnicity,
}
YES_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓", "是的"}
NO_WORDS = {"否", "无", "n", "no", "false", "0", "×", "不是"}


def value_label(field: str, value, *, chinese: bool) -> str:
    """How a template or an export writes a stored value (import reads it back)."""
    if value in (None, ""):
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if chinese else ("yes" if value else "no")
    if chinese:
        return CHOICE_NAMES_ZH[field][value][0]
    with translation.override("en"):
        return str(_CHOICE_CLASSES[field](value).label)


def choice_lookup() -> dict[str, dict[str, str]]:
    """{field: {normalised name: stored value}}: codes, English labels, Chinese names and labels."""
    tables: dict[str, dict[str, str]] = {}
    for field, choices in _CHOICE_CLASSES.items():
        table: dict[str, str] = {}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                for value, label in choices.choices:
                    table.setdefault(normalise_name(label), value)
        for value in choices.values:
            table[normalise_name(value)] = value
            for name in CHOICE_NAMES_ZH[field][value]:
                table[normalise_name(name)] = value
        tables[field] = table
    return tables
