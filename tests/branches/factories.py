import factory
from stdnum.cn import uscc

from branches.models import Branch, Unit
from core.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    display_name = factory.LazyAttribute(lambda o: o.username.title())
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def credit_code(n: int) -> str:
    """A valid unified social credit code, different for each n."""
    body = f"91110000{n:09d}"
    return body + uscc.calc_check_digit(body)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"Unit {n}")
    credit_code = factory.Sequence(credit_code)
    branch = factory.Iterator(Branch.objects.all())
