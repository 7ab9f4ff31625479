from django.db import models
from django.utils.translation import gettext_lazy as _


class BranchKind(models.TextChoices):
    COMMITTEE = "committee", _("Party committee")
    GENERAL_BRANCH = "general_branch", _("General branch")
    BRANCH = "branch", _("Branch")
    GROUP = "group", _("Party group")


class BranchBasis(models.TextChoices):
    """How the organisation was set up (设置方式)."""

    UNIT = "unit", _("By unit")
    AREA = "area", _("By area or community")
    PARK = "park", _("By industrial park")
    BUILDING = "building", _("By commercial building")
    BUSINESS_DISTRICT = "business_district", _("By business district or market")
    PLATFORM = "platform", _("By platform or station")
    INDUSTRY_CHAIN = "industry_chain", _("By industry chain")
    PROJECT_CHAIN = "project_chain", _("By project chain")
    INTEREST_CHAIN = "interest_chain", _("By interest chain")


class UnitType(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")
    INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")
    OTHER = "other", _("Other")


class UnitSize(models.TextChoices):
    MICRO = "micro", _("Micro (under 10 staff)")
    SMALL = "small", _("Small (10–99 staff)")
    MEDIUM = "medium", _("Medium (100–999 staff)")
    LARGE = "large", _("Large (1,000 staff or more)")


class EconomicType(models.TextChoices):
    PRIVATE = "private", _("Private")
    STATE_OWNED = "state_owned", _("State-owned")
    COLLECTIVE = "collective", _("Collective")
    FOREIGN = "foreign", _("Foreign-invested")
    HK_MACAO_TAIWAN = "hk_macao_taiwan", _("Hong Kong, Macao or Taiwan invested")
    MIXED = "mixed", _("Mixed ownership")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    """Roles of API.md; a role held at a branch applies to the branch's whole subtree."""

    ADMIN = "admin", _("Administrator")
    OFFICER = "officer", _("Committee officer")
    SECRETARY = "secretary", _("Branch secretary")
    ORGANISER = "organiser", _("Organiser")
    CASEWORKER = "caseworker", _("Caseworker")
    MEMBER = "member", _("Member")


class CommitteePost(models.TextChoices):
    SECRETARY = "secretary", _("Secretary")
    DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")
    ORGANISATION = "organisation", _("Organisation member")
    PROPAGANDA = "propaganda", _("Propaganda member")
    DISCIPLINE = "discipline", _("Discipline inspection member")
    OTHER = "other", _("Committee member")
