import datetime

import factory
from stdnum.cn import ric

from members.actions import member_create
from members.models import Member

_NAMES = ["张三", "李四", "王五", "赵六", "陈静", "刘洋", "杨帆", "黄磊", "周杰", "吴敏", "徐丽", "孙强"]


def make_citizen_id(
    n: int = 0, *, birth: datetime.date = datetime.date(1990, 1, 1), male: bool = True, region: str = "110101"
) -> str:
    """A valid 18-character ID number, different for each n (GB 11643 check digit from stdnum)."""
    sequence = (n % 499) * 2 + (1 if male else 0)
    born = birth + datetime.timedelta(days=n // 499)
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def with_wrong_check_digit(number: str) -> str:
    digit = number[-1]
    return number[:-1] + ("0" if digit != "0" else "1")


class MemberFactory(factory.Factory):
    """Members created through `member_create`, so branch counts, audit and change records are real.

    Pass `branch=`; other fields have valid defaults.
    """

    class Meta:
        model = Member

    name = factory.Iterator(_NAMES)
    citizen_id = factory.Sequence(make_citizen_id)
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    category = "full"
    joined_on = datetime.date(2015, 7, 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return member_create(actor=kwargs.pop("actor", None), **kwargs)
